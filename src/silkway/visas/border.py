"""The border check: may this traveller enter (or leave) here today, and how long may they stay?

`judge` weighs the seal, the visa's status, its validity and territorial validity, the entries used and
the stay rule over every recorded crossing of the holder in any participating state. Entries can be
refused; exits never are (no one is held at the border), but what is wrong is flagged for the officer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from silkway.visas.application import VisaApplication
from silkway.visas.model import Direction, Entries, VisaStatus
from silkway.visas.ports import CrossingFact, SealCheck
from silkway.visas.scheme import Scheme
from silkway.visas.stay import Stay, stay_status


@dataclass(frozen=True, slots=True)
class Finding:
    """A reason to refuse entry, or a flag for the officer: a code for machines and a sentence for people."""

    code: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    allowed: bool
    reasons: tuple[Finding, ...]
    flags: tuple[Finding, ...]
    days_remaining: int
    latest_exit: date | None
    overstay_days: int


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    """A person's stays rebuilt from their crossings, with what did not add up."""

    stays: tuple[Stay, ...]
    open_state: str | None  # where the last recorded entry left them, if no exit followed
    anomalies: tuple[Finding, ...]


def history_of(crossings: Sequence[CrossingFact]) -> History:
    """Stays from crossings in time order. An entry while still recorded elsewhere closes that stay on the day
    of the new entry (flagged: the exit was not recorded); an exit with no entry counts the exit day alone."""
    stays: list[Stay] = []
    anomalies: list[Finding] = []
    open_state: str | None = None
    open_since: date | None = None
    for c in crossings:
        if c.direction is Direction.ENTRY:
            if open_state is not None and open_since is not None:
                anomalies.append(
                    Finding("entry_without_exit", f"entered {c.state} on {c.day} with no exit from {open_state}")
                )
                stays.append(Stay(state=open_state, entry=open_since, exit=max(open_since, c.day)))
            open_state, open_since = c.state, c.day
        else:
            if open_state == c.state and open_since is not None:
                stays.append(Stay(state=c.state, entry=open_since, exit=max(open_since, c.day)))
            else:
                anomalies.append(Finding("exit_without_entry", f"left {c.state} on {c.day} with no recorded entry"))
                if open_state is not None and open_since is not None:
                    stays.append(Stay(state=open_state, entry=open_since, exit=max(open_since, c.day)))
                stays.append(Stay(state=c.state, entry=c.day, exit=c.day))
            open_state, open_since = None, None
    if open_state is not None and open_since is not None:
        stays.append(Stay(state=open_state, entry=open_since, exit=None))
    return History(stays=tuple(stays), open_state=open_state, anomalies=tuple(anomalies))


def _is_changeover(crossings: Sequence[CrossingFact], state: str, day: date) -> bool:
    """An entry straight from another participating state (its exit that day or the day before) is not a new
    entry into the area, as moving between Schengen states is not."""
    if not crossings:
        return False
    last = crossings[-1]
    return last.direction is Direction.EXIT and last.state != state and day - last.day <= timedelta(days=1)


def entries_used(file: VisaApplication) -> int:
    """Entries into the area made on this visa, not counting moves from one participating state to another."""
    return sum(
        1 for c in file.crossings if c.allowed and c.direction is Direction.ENTRY and "changeover" not in c.flags
    )


def judge(
    *,
    file: VisaApplication | None,
    seal: SealCheck | None,
    visa_number: str | None,
    passport_number: str,
    state: str,
    direction: Direction,
    day: date,
    crossings: Sequence[CrossingFact],
    scheme: Scheme,
) -> Verdict:
    """The verdict on one traveller at one border post on `day`; an entry straight from another
    participating state carries the flag `changeover` (it does not use up an entry)."""
    reasons: list[Finding] = []
    flags: list[Finding] = []
    if seal is not None:
        reasons += [Finding(code, message) for code, message in seal.problems]
        if seal.passport_number is not None and seal.passport_number != passport_number:
            reasons.append(Finding("passport_mismatch", "the seal was issued for another passport"))
        if seal.visa_number and visa_number and seal.visa_number != visa_number:
            reasons.append(Finding("seal_number_mismatch", "the visa number given differs from the seal's"))
    if file is None or file.visa is None:
        reasons.append(
            Finding("visa_unknown", f"no visa {visa_number or ''} is recorded in the scheme".replace("  ", " "))
        )
        return _verdict(direction, reasons, flags, 0, None, 0)
    visa = file.visa
    if seal is not None and seal.signer_office is not None and seal.signer_office != visa.issuing_office:
        reasons.append(Finding("seal_wrong_issuer", f"the seal was not signed by {visa.issuing_office}"))
    # a genuine seal names the visa's own passport: say the mismatch once, not once for the seal and once here
    if file.applicant.passport_number != passport_number and "passport_mismatch" not in {r.code for r in reasons}:
        reasons.append(Finding("passport_mismatch", "the visa was issued for another passport"))
    if visa.status is not VisaStatus.VALID:
        when = visa.revoked_at.date().isoformat() if visa.revoked_at else "-"
        grounds = ", ".join(visa.revocation_grounds)
        reasons.append(
            Finding("visa_revoked", f"the visa was {visa.status.value} by {visa.revoked_by} on {when} ({grounds})")
        )
    terms = visa.terms
    validity_problem = False
    if day < terms.valid_from:
        reasons.append(Finding("not_yet_valid", f"the visa is valid from {terms.valid_from}"))
        validity_problem = True
    elif day > terms.valid_until:
        reasons.append(Finding("visa_expired", f"the visa expired on {terms.valid_until}"))
        validity_problem = True
    if state not in terms.states:
        reasons.append(Finding("not_valid_in_state", f"the visa is not valid in {state}"))
    history = history_of(crossings)
    limits = scheme.national_limits()
    if direction is Direction.ENTRY:
        changeover = _is_changeover(crossings, state, day)
        if changeover:
            flags.append(Finding("changeover", f"arrives from {crossings[-1].state}: not a new entry into the area"))
        if history.open_state is not None:
            flags.append(Finding("entry_without_exit", f"no exit from {history.open_state} was recorded"))
        stays = _closed(history, day)
        if terms.entries is Entries.SINGLE and not changeover and entries_used(file) >= 1:
            reasons.append(Finding("entries_used", "the single entry of this visa has been used"))
        status = stay_status(
            stays,
            on=day,
            valid_from=terms.valid_from,
            valid_until=terms.valid_until,
            duration_of_stay_days=terms.duration_of_stay_days,
            state=state,
            national_limits=limits,
        )
        already = any(s.entry <= day <= (s.exit or day) for s in stays)
        remaining = max(0, status.days_remaining - (1 if already and not status.present else 0))
        if status.latest_exit is None and not validity_problem:
            reasons.append(Finding("stay_exhausted", f"no day of stay is left ({status.limiting_rule})"))
        return _verdict(direction, reasons, flags, remaining, status.latest_exit, 0)
    if history.open_state != state:
        flags.append(Finding("exit_without_entry", f"no entry into {state} was recorded"))
    present: list[Stay] = list(history.stays)
    if history.open_state is None:
        present.append(Stay(state=state, entry=day, exit=None))
    elif history.open_state != state:
        present = [*_closed(history, day), Stay(state=state, entry=day, exit=None)]
    status = stay_status(
        present,
        on=day,
        valid_from=terms.valid_from,
        valid_until=terms.valid_until,
        duration_of_stay_days=terms.duration_of_stay_days,
        state=state,
        national_limits=limits,
    )
    if status.overstay_days > 0:
        flags.append(Finding("overstay", f"overstayed by {status.overstay_days} day(s) ({status.limiting_rule})"))
    return _verdict(direction, reasons, flags, status.days_remaining, status.latest_exit, status.overstay_days)


def _closed(history: History, day: date) -> tuple[Stay, ...]:
    """The stays with an open one closed on `day`."""
    return tuple(
        Stay(state=s.state, entry=s.entry, exit=max(s.entry, day)) if s.exit is None else s for s in history.stays
    )


def _verdict(
    direction: Direction,
    reasons: list[Finding],
    flags: list[Finding],
    remaining: int,
    latest_exit: date | None,
    overstay: int,
) -> Verdict:
    if direction is Direction.EXIT:
        # a traveller is never held at the border: what would refuse an entry is a flag on an exit
        return Verdict(
            allowed=True,
            reasons=(),
            flags=tuple(flags + reasons),
            days_remaining=remaining,
            latest_exit=latest_exit,
            overstay_days=overstay,
        )
    return Verdict(
        allowed=not reasons,
        reasons=tuple(reasons),
        flags=tuple(flags),
        days_remaining=remaining if not reasons else 0,
        latest_exit=latest_exit if not reasons else None,
        overstay_days=overstay,
    )

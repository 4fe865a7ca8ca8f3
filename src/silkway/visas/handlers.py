"""The visa service: one handler per command, each in one unit of work that commits once.

Rights are checked here: a consul decides only for its own state's applications, answers consultations
only for its own state, and may revoke any visa of the scheme; a border guard checks only at its own
state's border posts. Nothing is stored when a handler raises.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from silkway.shared.actors import Actor, Role
from silkway.shared.clock import Clock
from silkway.shared.errors import InvalidInput, NotPermitted
from silkway.shared.idempotency import check_claim
from silkway.visas.application import VisaApplication
from silkway.visas.border import Verdict, judge
from silkway.visas.commands import (
    CheckAtBorder,
    DecideApplication,
    EnterAlert,
    LodgeApplication,
    ReplyToConsultation,
    RevokeVisa,
)
from silkway.visas.errors import ApplicationNotFound, VisaNotFound
from silkway.visas.events import (
    ApplicationLodged,
    ApplicationRefused,
    BorderCrossed,
    ConsultationReplied,
    VisaIssued,
    VisaRevoked,
)
from silkway.visas.model import REFUSAL_GROUNDS, Alert, Refusal, VisaTerms, check_passport_number
from silkway.visas.mrz import MrvA
from silkway.visas.ports import Countries, SealChecker, UnitOfWork
from silkway.visas.rules import check_application
from silkway.visas.scheme import ALPHA3, Scheme

APPLICANT = "applicant"
"""The actor of a lodging: the traveller has no account."""


def token_digest(token: str) -> str:
    """What is stored of a status token: its SHA-256, so a copy of the database does not open the status pages."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Lodged:
    id: str
    token: str
    competent_state: str


def lodge_application(
    cmd: LodgeApplication, *, uow: UnitOfWork, clock: Clock, scheme: Scheme, countries: Countries
) -> Lodged:
    """Check and lodge an application with its competent state; returns its id and the secret status token.

    Raises what `check_application` raises. States that asked to be consulted on the nationality get the
    scheme's consultation period from now.
    """
    now = clock.now()
    plan = cmd.plan
    competent = plan.competent_state()
    # the applicant's calendar is the competent state's: "in the past" means before today there
    today = scheme.states[competent].local_day(now) if competent in scheme.states else now.date()
    check_application(cmd.applicant, plan, scheme=scheme, countries=countries, today=today)
    consulted = scheme.consulting_states(cmd.applicant.nationality, competent=competent)
    shares = scheme.fee_shares(competent, plan.days_by_state())
    event = ApplicationLodged(
        at=now,
        actor=APPLICANT,
        office=scheme.states[competent].consular_office,
        applicant=cmd.applicant,
        plan=plan,
        competent_state=competent,
        consulted_states=consulted,
        consultation_until=now + timedelta(days=scheme.consultation_days) if consulted else None,
        fee_shares={state: str(money.amount) for state, money in shares.items()},
        fee_currency=scheme.fee.currency,
    )
    application_id = secrets.token_hex(8)
    token = secrets.token_urlsafe(24)
    with uow:
        uow.visas.add(VisaApplication.lodge(application_id, event), token_digest=token_digest(token))
        uow.commit()
    return Lodged(id=application_id, token=token, competent_state=competent)


def reply_to_consultation(cmd: ReplyToConsultation, *, uow: UnitOfWork, clock: Clock, scheme: Scheme) -> None:
    """A consulted state's consul objects or clears. Raises `NotPermitted` for anyone else."""
    _require(cmd.actor, Role.CONSULAR, "answer a consultation")
    grounds = _grounds(cmd.grounds, required=cmd.objection)
    with uow:
        check_claim(uow.idempotency, cmd.idempotency)
        file = _application(uow, cmd.application_id)
        if cmd.actor.country not in file.consultations:
            raise NotPermitted(f"{cmd.actor.country} was not consulted on this application")
        file.reply(
            ConsultationReplied(
                at=clock.now(),
                actor=cmd.actor.username,
                office=scheme.states[cmd.actor.country].consular_office,
                state=cmd.actor.country,
                objection=cmd.objection,
                grounds=grounds,
                reason=_text(cmd.reason, "reason", required=cmd.objection),
            )
        )
        uow.visas.save(file)
        uow.commit()


def decide_application(cmd: DecideApplication, *, uow: UnitOfWork, clock: Clock, scheme: Scheme) -> str | None:
    """Issue a uniform visa, issue one with limited territorial validity, or refuse; returns the visa number.

    Raises `NotPermitted` for anyone but a consul of the competent state, `InvalidInput` for missing or
    impossible terms, `DecisionNotAllowed` after a decision, during consultation or against an objection.
    """
    _require(cmd.actor, Role.CONSULAR, "decide on a visa application")
    now = clock.now()
    with uow:
        check_claim(uow.idempotency, cmd.idempotency)
        file = _application(uow, cmd.application_id)
        competent = file.competent_state
        if cmd.actor.country != competent:
            raise NotPermitted(f"only consuls of {competent}, the competent state, decide on this application")
        policy = scheme.states[competent]
        today = policy.local_day(now)
        if cmd.decision == "refuse":
            grounds = _grounds(cmd.grounds, required=True)
            refusal = Refusal(grounds=grounds, appeal_until=scheme.appeal_deadline(today))
            file.refuse(
                ApplicationRefused(
                    at=now,
                    actor=cmd.actor.username,
                    office=policy.consular_office,
                    grounds=refusal.grounds,
                    appeal_until=refusal.appeal_until,
                    note=_text(cmd.note, "note", required=False),
                )
            )
            uow.visas.save(file)
            uow.commit()
            return None
        if cmd.decision not in ("issue", "issue_ltv"):
            raise InvalidInput(
                "decision is issue, issue_ltv or refuse", fields={"decision": f"unknown: {cmd.decision!r}"}
            )
        terms = _terms(cmd, file, scheme, today)
        number = uow.visas.next_number(competent)
        a = file.applicant
        mrz = MrvA(
            issuing_state=ALPHA3[competent],
            surname=a.surname,
            given_names=a.given_names,
            visa_number=number,
            nationality=a.nationality,
            date_of_birth=a.date_of_birth,
            sex=a.sex.value,
            valid_until=terms.valid_until,
        ).lines()
        file.issue(
            VisaIssued(
                at=now,
                actor=cmd.actor.username,
                office=policy.consular_office,
                number=number,
                issuing_state=competent,
                terms=terms,
                mrz=mrz,
            )
        )
        uow.visas.save(file)
        uow.commit()
        return number


def revoke_visa(cmd: RevokeVisa, *, uow: UnitOfWork, clock: Clock, scheme: Scheme) -> None:
    """Revoke (or annul) a visa, by a consul of any participating state (Visa Code Art. 34).

    Raises `VisaNotFound`, `NotPermitted`, `InvalidInput` without grounds or reason, `DecisionNotAllowed` when
    the visa is already revoked.
    """
    _require(cmd.actor, Role.CONSULAR, "revoke a visa")
    policy = scheme.policy(cmd.actor.country)
    if policy is None:
        raise NotPermitted(f"{cmd.actor.country} does not take part in the scheme")
    grounds = _grounds(cmd.grounds, required=True)
    reason = _text(cmd.reason, "reason", required=True)
    with uow:
        check_claim(uow.idempotency, cmd.idempotency)
        file = uow.visas.by_number(cmd.number)
        if file is None:
            raise VisaNotFound(f"no visa {cmd.number}")
        file.revoke(
            VisaRevoked(
                at=clock.now(),
                actor=cmd.actor.username,
                office=policy.consular_office,
                state=cmd.actor.country,
                annulled=cmd.annul,
                grounds=grounds,
                reason=reason,
            )
        )
        uow.visas.save(file)
        uow.commit()


@dataclass(frozen=True, slots=True, kw_only=True)
class BorderCheck:
    verdict: Verdict
    visa_number: str | None
    recorded: bool


def check_at_border(
    cmd: CheckAtBorder,
    *,
    uow: UnitOfWork,
    clock: Clock,
    scheme: Scheme,
    countries: Countries,
    seals: SealChecker,
) -> BorderCheck:
    """Judge a traveller at a border post and record the entry or exit (or the refused entry) as signed.

    Raises `NotPermitted` for anyone but a border guard of the post's state, `InvalidInput` for an unknown
    post, a post outside the scheme, or neither seal nor visa number.
    """
    _require(cmd.actor, Role.BORDER_GUARD, "check travellers at the border")
    country = countries.border_post_country(cmd.office)
    if country is None:
        raise InvalidInput(f"{cmd.office} is not a border post, port or airport", fields={"office": "unknown"})
    if country != cmd.actor.country:
        raise NotPermitted(f"{cmd.office} is in {country}; you guard the borders of {cmd.actor.country}")
    policy = scheme.policy(country)
    if policy is None:
        raise InvalidInput(f"{country} does not take part in the scheme", fields={"office": "outside the scheme"})
    passport = check_passport_number(cmd.passport_number)
    if not cmd.seal and not cmd.visa_number:
        raise InvalidInput(
            "send the scanned seal or the visa number", fields={"seal": "missing", "visa_number": "missing"}
        )
    seal = seals.check(cmd.seal, issued_at=None) if cmd.seal else None
    number = (cmd.visa_number or "").strip().upper() or (seal.visa_number if seal else None)
    now = clock.now()
    day = policy.local_day(now)
    with uow:
        check_claim(uow.idempotency, cmd.idempotency)
        file = uow.visas.by_number(number) if number else None
        crossings = (
            uow.visas.crossings_of(file.applicant.passport_number, file.applicant.nationality)
            if file is not None
            else ()
        )
        verdict = judge(
            file=file,
            seal=seal,
            visa_number=number,
            passport_number=passport,
            state=country,
            direction=cmd.direction,
            day=day,
            crossings=crossings,
            scheme=scheme,
        )
        recorded = False
        if cmd.record and file is not None and file.visa is not None:
            file.record_crossing(
                BorderCrossed(
                    at=now,
                    actor=cmd.actor.username,
                    office=cmd.office,
                    state=country,
                    direction=cmd.direction,
                    day=day,
                    allowed=verdict.allowed,
                    reasons=tuple(r.code for r in verdict.reasons),
                    flags=tuple(f.code for f in verdict.flags),
                    days_remaining=verdict.days_remaining,
                    latest_exit=verdict.latest_exit,
                    overstay_days=verdict.overstay_days,
                )
            )
            uow.visas.save(file)
            recorded = True
        uow.commit()
    return BorderCheck(verdict=verdict, visa_number=number, recorded=recorded)


def enter_alert(cmd: EnterAlert, *, uow: UnitOfWork, clock: Clock, scheme: Scheme) -> str:
    """Add an entry to the shared alert list in the actor's state's name; returns its id.

    Raises `NotPermitted` for anyone but a consul or an admin of a participating state.
    """
    if cmd.actor.role not in (Role.CONSULAR, Role.ADMIN):
        raise NotPermitted("only consuls and admins enter alerts")
    if scheme.policy(cmd.actor.country) is None:
        raise NotPermitted(f"{cmd.actor.country} does not take part in the scheme")
    now = clock.now()
    alert = Alert(
        id=secrets.token_hex(8),
        state=cmd.actor.country,
        name=cmd.name.strip(),
        date_of_birth=cmd.date_of_birth,
        nationality=cmd.nationality,
        reason=cmd.reason.strip(),
        entered_at=now,
        entered_by=cmd.actor.username,
        expires_on=cmd.expires_on,
    )
    if alert.expires_on is not None and alert.expires_on <= now.date():
        raise InvalidInput("an alert expires in the future", fields={"expires_on": "in the past"})
    with uow:
        check_claim(uow.idempotency, cmd.idempotency)
        uow.alerts.add(alert)
        uow.commit()
    return alert.id


def _terms(cmd: DecideApplication, file: VisaApplication, scheme: Scheme, today: date) -> VisaTerms:
    valid_from, valid_until = cmd.valid_from, cmd.valid_until
    duration, entries = cmd.duration_of_stay_days, cmd.entries
    if valid_from is None or valid_until is None or duration is None or entries is None:
        missing = {
            name: "required to issue"
            for name in ("valid_from", "valid_until", "duration_of_stay_days", "entries")
            if getattr(cmd, name) is None
        }
        raise InvalidInput("a visa needs its validity, duration of stay and entries", fields=missing)
    participating = scheme.participating
    competent = file.competent_state
    excluded = tuple(dict.fromkeys(cmd.excluded_states))
    if cmd.decision == "issue" and excluded:
        raise InvalidInput("a uniform visa excludes no state; use issue_ltv", fields={"excluded_states": "not empty"})
    if cmd.decision == "issue_ltv":
        if not excluded:
            raise InvalidInput(
                "a visa with limited territorial validity excludes at least one state",
                fields={"excluded_states": "empty"},
            )
        for i, state in enumerate(excluded):
            if state not in participating:
                raise InvalidInput(f"{state} is not a participating state", fields={f"excluded_states[{i}]": "unknown"})
            if state == competent:
                raise InvalidInput(
                    "the issuing state cannot exclude itself", fields={f"excluded_states[{i}]": "the competent state"}
                )
    if valid_from < today:
        raise InvalidInput("a visa is not valid from a day in the past", fields={"valid_from": "in the past"})
    if valid_until > file.applicant.passport_expiry:
        raise InvalidInput(
            "a visa is not valid beyond the passport's expiry", fields={"valid_until": "after the passport expires"}
        )
    return VisaTerms(
        valid_from=valid_from,
        valid_until=valid_until,
        duration_of_stay_days=duration,
        entries=entries,
        states=tuple(s for s in participating if s not in excluded),
        excluded_states=excluded,
    )


def _application(uow: UnitOfWork, application_id: str) -> VisaApplication:
    file = uow.visas.get(application_id)
    if file is None:
        raise ApplicationNotFound(f"no visa application {application_id}")
    return file


def _grounds(grounds: tuple[str, ...], *, required: bool) -> tuple[str, ...]:
    unique = tuple(dict.fromkeys(g.strip() for g in grounds if g.strip()))
    if required and not unique:
        raise InvalidInput(f"state at least one ground: {', '.join(REFUSAL_GROUNDS)}", fields={"grounds": "empty"})
    unknown = [g for g in unique if g not in REFUSAL_GROUNDS]
    if unknown:
        raise InvalidInput(
            f"unknown grounds {', '.join(unknown)}; use {', '.join(REFUSAL_GROUNDS)}",
            fields={"grounds": "unknown code"},
        )
    return unique


def _text(value: str, field: str, *, required: bool) -> str:
    text = value.strip()
    if required and not text:
        raise InvalidInput(f"{field} is required", fields={field: "empty"})
    if len(text) > 2000:
        raise InvalidInput(f"{field} is at most 2000 characters", fields={field: "too long"})
    return text


def _require(actor: Actor, role: Role, action: str) -> None:
    if actor.role is not role:
        raise NotPermitted(f"only a {role.value.replace('_', ' ')} may {action}")

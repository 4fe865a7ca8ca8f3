"""The visa's visible digital seal: issued from a visa, checked offline against a trust list and revocation list.

`issue_for` seals what a border guard must compare with the passport; `check_visa_seal` is the offline check
`silkway verify` and the border check share; `TrustedSealReader` is the border check's `SealChecker`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from silkway.signing import vds
from silkway.signing.errors import MalformedRecord, Problem
from silkway.signing.keys import SigningKey
from silkway.signing.revocations import RevocationList
from silkway.signing.trustlist import TrustList
from silkway.visas.model import Entries, Visa
from silkway.visas.ports import SealCheck
from silkway.visas.scheme import ALPHA3, consular_office

_STATE_OF = {alpha3: alpha2 for alpha2, alpha3 in ALPHA3.items()}


def signer_of(state: str) -> str:
    """The VDS signer identifier of a state's consular service: its alpha-2 code and "CS"."""
    return f"{state}CS"


def issue_for(visa: Visa, passport_number: str, key: SigningKey) -> str:
    """The seal of `visa` (its text form), signed by `key`, the issuing consular service's key."""
    terms = visa.terms
    content = vds.VisaSealContent(
        issuing_country=ALPHA3[visa.issuing_state],
        signer=signer_of(visa.issuing_state),
        key_id=key.key_id,
        issued_on=visa.issued_at.date(),
        signed_on=visa.issued_at.date(),
        mrz=visa.mrz,
        entries=vds.MULTIPLE_ENTRIES if terms.entries is Entries.MULTIPLE else 1,
        duration_of_stay=(terms.duration_of_stay_days, 0, 0),
        passport_number=passport_number,
    )
    return vds.issue_visa_seal(content, key)


@dataclass(frozen=True, slots=True, kw_only=True)
class VisaSealVerdict:
    """What an offline check of a visa seal found; `genuine` when nothing is wrong (revocation included)."""

    problems: list[Problem]
    content: vds.VisaSealContent | None = None
    revoked: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def genuine(self) -> bool:
        return not self.problems and self.content is not None

    @property
    def visa_number(self) -> str | None:
        return None if self.content is None else self.content.mrz[1][:9].rstrip("<")

    def to_json(self) -> dict[str, Any]:
        c = self.content
        return {
            "genuine": self.genuine,
            "verdict": "genuine" if self.genuine else "not genuine",
            "problems": [{"code": p.code, "message": p.message} for p in self.problems],
            "notes": self.notes,
            "visa": None
            if c is None
            else {
                "number": self.visa_number,
                "issuing_state": _STATE_OF.get(c.issuing_country, c.issuing_country),
                "signer": c.signer,
                "key_id": c.key_id,
                "issued_on": c.issued_on.isoformat(),
                "mrz": list(c.mrz),
                "entries": "multiple" if c.entries == vds.MULTIPLE_ENTRIES else c.entries,
                "duration_of_stay_days": c.duration_of_stay[0],
                "passport_number": c.passport_number,
            },
            "revoked": self.revoked,
        }


def check_visa_seal(
    payload: str | bytes,
    trust: TrustList,
    *,
    revocations: RevocationList | None = None,
    issued_at: datetime | None = None,
) -> VisaSealVerdict:
    """Check a visa seal offline: decodable, signed by the issuing state's consular key as the trust list
    certifies it on the day of issue, unaltered, and (given a revocation list) not revoked. Never raises on bad
    input: every failure is a problem in the verdict."""
    try:
        opened = vds.open_visa_seal(payload)
    except MalformedRecord as exc:
        return VisaSealVerdict(problems=[Problem("seal_malformed", str(exc))])
    content = opened.content
    state = _STATE_OF.get(content.issuing_country)
    if state is None:
        return VisaSealVerdict(
            problems=[Problem("seal_wrong_issuer", f"{content.issuing_country} does not issue Commonwealth visas")],
            content=content,
        )
    at = issued_at or _signing_instant(trust, content)
    problems = vds.verify_visa_seal(opened, trust, office=consular_office(state), at=at)
    revoked = None
    notes = []
    if revocations is not None:
        found = revocations.find(content.mrz[1][:9].rstrip("<"))
        if found is not None:
            revoked = found.to_json()
            problems.append(
                Problem("visa_revoked", f"the visa was {found.status} by {found.state} on {found.at.date()}")
            )
        notes.append(f"revocations as of {revocations.issued_at.isoformat()}")
    else:
        notes.append("no revocation list given: whether the visa was revoked is not known offline")
    return VisaSealVerdict(problems=problems, content=content, revoked=revoked, notes=notes)


def _signing_instant(trust: TrustList, content: vds.VisaSealContent) -> datetime:
    """The seal names only the day it was signed: take the start of that day, or the key's first valid instant
    when the key was made that same day (keys are made, then used, within the day)."""
    start = datetime.combine(content.signed_on, time(0), tzinfo=UTC)
    entry = trust.key(content.key_id)
    if entry is None:
        return start
    valid_from = entry.certificate.valid_from
    return max(start, valid_from) if valid_from.date() == content.signed_on else start


class TrustedSealReader:
    """The border check's `SealChecker`, against this node's current trust list."""

    def __init__(self, trust: Callable[[], TrustList]) -> None:
        self._trust = trust

    def check(self, payload: str, *, issued_at: datetime | None) -> SealCheck:
        verdict = check_visa_seal(payload, self._trust(), issued_at=issued_at)
        content = verdict.content
        return SealCheck(
            visa_number=verdict.visa_number,
            passport_number=None if content is None else content.passport_number,
            signer_office=None
            if content is None or content.issuing_country not in _STATE_OF
            else consular_office(_STATE_OF[content.issuing_country]),
            problems=tuple((p.code, p.message) for p in verdict.problems),
        )

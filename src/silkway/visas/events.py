"""What happened to a visa application and its visa, in order. The file's state is the fold of its events.

Each event carries when (`at`), who (`actor`) and where (`office`: a consular service or a border office);
`body()` gives its own fields as JSON-ready values and `event_from_record` rebuilds it from a stored record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from silkway.visas.model import (
    Applicant,
    Direction,
    Entries,
    Purpose,
    Sex,
    StatePlan,
    TravelPlan,
    VisaTerms,
)

Json = dict[str, object]


@dataclass(frozen=True, slots=True, kw_only=True)
class VisaEvent:
    type: ClassVar[str] = "event"
    at: datetime
    actor: str
    office: str

    def body(self) -> Json:
        return {}


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationLodged(VisaEvent):
    type: ClassVar[str] = "application_lodged"
    applicant: Applicant
    plan: TravelPlan
    competent_state: str
    consulted_states: tuple[str, ...]
    consultation_until: datetime | None
    fee_shares: Mapping[str, str]
    fee_currency: str

    def applicant_json(self) -> Json:
        """The applicant as the record states them, JSON-ready."""
        a = self.applicant
        return {
            "surname": a.surname,
            "given_names": a.given_names,
            "native_name": a.native_name,
            "nationality": a.nationality,
            "date_of_birth": a.date_of_birth.isoformat(),
            "sex": a.sex.value,
            "passport_number": a.passport_number,
            "passport_expiry": a.passport_expiry.isoformat(),
        }

    def plan_json(self) -> Json:
        """The travel plan as the record states it, JSON-ready."""
        p = self.plan
        return {
            "states": list(p.states),
            "from": p.arrive.isoformat(),
            "to": p.leave.isoformat(),
            "main_destination": p.main_destination,
            "purpose": p.purpose.value,
            "entries": p.entries.value,
            "itinerary": [
                {"state": leg.state, "from": leg.arrive.isoformat(), "to": leg.leave.isoformat()} for leg in p.itinerary
            ],
        }

    def body(self) -> Json:
        return {
            "applicant": self.applicant_json(),
            "plan": self.plan_json(),
            "competent_state": self.competent_state,
            "consulted_states": list(self.consulted_states),
            "consultation_until": None if self.consultation_until is None else self.consultation_until.isoformat(),
            "fee": {"currency": self.fee_currency, "shares": dict(self.fee_shares)},
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsultationReplied(VisaEvent):
    """A consulted state's answer (Visa Code Art. 22): an objection with grounds, or none."""

    type: ClassVar[str] = "consultation_replied"
    state: str
    objection: bool
    grounds: tuple[str, ...]
    reason: str

    def body(self) -> Json:
        return {"state": self.state, "objection": self.objection, "grounds": list(self.grounds), "reason": self.reason}


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationRefused(VisaEvent):
    type: ClassVar[str] = "application_refused"
    grounds: tuple[str, ...]
    appeal_until: date
    note: str

    def body(self) -> Json:
        return {"grounds": list(self.grounds), "appeal_until": self.appeal_until.isoformat(), "note": self.note}


@dataclass(frozen=True, slots=True, kw_only=True)
class VisaIssued(VisaEvent):
    type: ClassVar[str] = "visa_issued"
    number: str
    issuing_state: str
    terms: VisaTerms
    mrz: tuple[str, str]

    def body(self) -> Json:
        t = self.terms
        return {
            "number": self.number,
            "issuing_state": self.issuing_state,
            "valid_from": t.valid_from.isoformat(),
            "valid_until": t.valid_until.isoformat(),
            "duration_of_stay_days": t.duration_of_stay_days,
            "entries": t.entries.value,
            "states": list(t.states),
            "excluded_states": list(t.excluded_states),
            "mrz": list(self.mrz),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class VisaRevoked(VisaEvent):
    """Revoked (conditions no longer met) or annulled (never met), by any participating state."""

    type: ClassVar[str] = "visa_revoked"
    state: str
    annulled: bool
    grounds: tuple[str, ...]
    reason: str

    def body(self) -> Json:
        return {"state": self.state, "annulled": self.annulled, "grounds": list(self.grounds), "reason": self.reason}


@dataclass(frozen=True, slots=True, kw_only=True)
class BorderCrossed(VisaEvent):
    """A border check at an entry or exit: its outcome, and (when allowed) the crossing it records.

    `day` is the local calendar day of the crossing that the stay rule counts.
    """

    type: ClassVar[str] = "border_checked"
    state: str
    direction: Direction
    day: date
    allowed: bool
    reasons: tuple[str, ...]
    flags: tuple[str, ...]
    days_remaining: int
    latest_exit: date | None
    overstay_days: int

    def body(self) -> Json:
        return {
            "state": self.state,
            "direction": self.direction.value,
            "day": self.day.isoformat(),
            "allowed": self.allowed,
            "reasons": list(self.reasons),
            "flags": list(self.flags),
            "days_remaining": self.days_remaining,
            "latest_exit": None if self.latest_exit is None else self.latest_exit.isoformat(),
            "overstay_days": self.overstay_days,
        }


def _d(value: Any) -> date:
    return date.fromisoformat(str(value))


def _lodged(base: Mapping[str, Any], b: Mapping[str, Any]) -> VisaEvent:
    a, p = b["applicant"], b["plan"]
    until = b.get("consultation_until")
    return ApplicationLodged(
        **base,
        applicant=Applicant(
            surname=a["surname"],
            given_names=a["given_names"],
            native_name=a.get("native_name"),
            nationality=a["nationality"],
            date_of_birth=_d(a["date_of_birth"]),
            sex=Sex(a["sex"]),
            passport_number=a["passport_number"],
            passport_expiry=_d(a["passport_expiry"]),
        ),
        plan=TravelPlan(
            states=tuple(p["states"]),
            arrive=_d(p["from"]),
            leave=_d(p["to"]),
            main_destination=p.get("main_destination"),
            purpose=Purpose(p["purpose"]),
            entries=Entries(p["entries"]),
            itinerary=tuple(
                StatePlan(state=leg["state"], arrive=_d(leg["from"]), leave=_d(leg["to"])) for leg in p["itinerary"]
            ),
        ),
        competent_state=b["competent_state"],
        consulted_states=tuple(b["consulted_states"]),
        consultation_until=None if until is None else datetime.fromisoformat(until),
        fee_shares=dict(b["fee"]["shares"]),
        fee_currency=b["fee"]["currency"],
    )


def _issued(base: Mapping[str, Any], b: Mapping[str, Any]) -> VisaEvent:
    return VisaIssued(
        **base,
        number=b["number"],
        issuing_state=b["issuing_state"],
        terms=VisaTerms(
            valid_from=_d(b["valid_from"]),
            valid_until=_d(b["valid_until"]),
            duration_of_stay_days=int(b["duration_of_stay_days"]),
            entries=Entries(b["entries"]),
            states=tuple(b["states"]),
            excluded_states=tuple(b["excluded_states"]),
        ),
        mrz=(b["mrz"][0], b["mrz"][1]),
    )


def _crossed(base: Mapping[str, Any], b: Mapping[str, Any]) -> VisaEvent:
    latest = b.get("latest_exit")
    return BorderCrossed(
        **base,
        state=b["state"],
        direction=Direction(b["direction"]),
        day=_d(b["day"]),
        allowed=bool(b["allowed"]),
        reasons=tuple(b["reasons"]),
        flags=tuple(b["flags"]),
        days_remaining=int(b["days_remaining"]),
        latest_exit=None if latest is None else _d(latest),
        overstay_days=int(b["overstay_days"]),
    )


_BUILDERS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], VisaEvent]] = {
    ApplicationLodged.type: _lodged,
    ConsultationReplied.type: lambda base, b: ConsultationReplied(
        **base, state=b["state"], objection=bool(b["objection"]), grounds=tuple(b["grounds"]), reason=b["reason"]
    ),
    ApplicationRefused.type: lambda base, b: ApplicationRefused(
        **base, grounds=tuple(b["grounds"]), appeal_until=_d(b["appeal_until"]), note=b["note"]
    ),
    VisaIssued.type: _issued,
    VisaRevoked.type: lambda base, b: VisaRevoked(
        **base, state=b["state"], annulled=bool(b["annulled"]), grounds=tuple(b["grounds"]), reason=b["reason"]
    ),
    BorderCrossed.type: _crossed,
}


def event_from_record(type_: str, *, at: datetime, actor: str, office: str, body: Mapping[str, Any]) -> VisaEvent:
    """Rebuild an event from a stored record's fields. On an unknown type, raises `ValueError`."""
    builder = _BUILDERS.get(type_)
    if builder is None:
        raise ValueError(f"unknown visa event type {type_!r}")
    return builder({"at": at, "actor": actor, "office": office}, body)

"""What travellers, consuls and border guards ask the visa service to do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from silkway.shared.actors import Actor
from silkway.shared.idempotency import IdempotencyKey
from silkway.visas.model import Applicant, Direction, Entries, TravelPlan


@dataclass(frozen=True, slots=True, kw_only=True)
class LodgeApplication:
    """Lodged by a traveller without an account; the status token is the traveller's only key to it."""

    applicant: Applicant
    plan: TravelPlan


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    actor: Actor
    idempotency: IdempotencyKey | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyToConsultation(Command):
    application_id: str
    objection: bool
    grounds: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DecideApplication(Command):
    """`decision` is "issue", "issue_ltv" or "refuse"; the visa's terms are ignored on a refusal."""

    application_id: str
    decision: str
    grounds: tuple[str, ...] = ()
    excluded_states: tuple[str, ...] = ()
    valid_from: date | None = None
    valid_until: date | None = None
    duration_of_stay_days: int | None = None
    entries: Entries | None = None
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeVisa(Command):
    number: str
    grounds: tuple[str, ...]
    reason: str
    annul: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckAtBorder(Command):
    office: str
    direction: Direction
    passport_number: str
    seal: str | None = None
    visa_number: str | None = None
    record: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class EnterAlert(Command):
    name: str
    date_of_birth: date | None
    nationality: str | None
    reason: str
    expires_on: date | None = None

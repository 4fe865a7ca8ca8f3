"""What actors ask the transit service to do. Each command is one action by one actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from silkway.shared.actors import Actor
from silkway.shared.idempotency import IdempotencyKey
from silkway.shared.money import Money
from silkway.shared.mrn import Mrn
from silkway.transit.model import ControlKind, ControlOutcome, Declaration, IncidentKind


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    actor: Actor
    idempotency: IdempotencyKey | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitDeclaration(Command):
    declaration: Declaration


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlReport:
    """A control as reported by an officer, before it is tied to a transit."""

    kind: ControlKind
    outcome: ControlOutcome
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseForTransit(Command):
    mrn: Mrn
    office: str
    seals: tuple[str, ...]
    control: ControlReport | None
    time_limit: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RefuseRelease(Command):
    mrn: Mrn
    office: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelDeclaration(Command):
    mrn: Mrn
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PresentVehicle(Command):
    mrn: Mrn
    office: str
    seals: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordControl(Command):
    mrn: Mrn
    office: str
    control: ControlReport
    seals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordPassage(Command):
    mrn: Mrn
    office: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportIncident(Command):
    mrn: Mrn
    office: str | None
    kind: IncidentKind
    description: str
    seals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordArrival(Command):
    mrn: Mrn
    office: str
    seals: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DischargeTransit(Command):
    mrn: Mrn
    office: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterGuarantee(Command):
    reference: str
    holder: str
    cover: Money
    valid_until: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PutRiskRule(Command):
    id: str
    description: str
    hs_prefix: str | None = None
    departure_country: str | None = None
    min_value_per_kg: Money | None = None
    sampling_rate: Decimal | None = None
    seed: str = ""
    required_control: ControlKind | None = ControlKind.PHYSICAL
    active: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteRiskRule(Command):
    id: str

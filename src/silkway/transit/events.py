"""What happened to a transit, in the order it happened. A transit's state is the fold of its events.

Every event carries when (`at`), who (`actor`) and where (`office`); `body()` gives its own fields as
JSON-ready values and `event_from_record` rebuilds it, so storage and exchange never see a dataclass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from silkway.shared.money import Money
from silkway.transit.model import (
    Container,
    ControlKind,
    ControlOutcome,
    ControlResult,
    Decision,
    Declaration,
    GoodsItem,
    GuaranteeCommitment,
    IncidentKind,
    Itinerary,
    PresentationDecision,
    Vehicle,
)

Json = dict[str, object]


@dataclass(frozen=True, slots=True, kw_only=True)
class TransitEvent:
    """Base of all transit events."""

    type: ClassVar[str] = "event"
    at: datetime
    actor: str
    office: str | None

    def body(self) -> Json:
        return {}


@dataclass(frozen=True, slots=True, kw_only=True)
class DeclarationSubmitted(TransitEvent):
    type: ClassVar[str] = "submitted"
    declaration: Declaration

    def body(self) -> Json:
        return {"declaration": declaration_to_json(self.declaration)}


@dataclass(frozen=True, slots=True, kw_only=True)
class TransitReleased(TransitEvent):
    type: ClassVar[str] = "released"
    seals: tuple[str, ...]
    control: ControlResult | None
    time_limit: datetime

    def body(self) -> Json:
        return {
            "seals": list(self.seals),
            "control": None if self.control is None else control_to_json(self.control),
            "time_limit": self.time_limit.isoformat(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseRefused(TransitEvent):
    type: ClassVar[str] = "release_refused"
    reason: str
    control: ControlResult | None

    def body(self) -> Json:
        return {
            "reason": self.reason,
            "control": None if self.control is None else control_to_json(self.control),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class DeclarationCancelled(TransitEvent):
    type: ClassVar[str] = "cancelled"
    reason: str

    def body(self) -> Json:
        return {"reason": self.reason}


@dataclass(frozen=True, slots=True, kw_only=True)
class VehiclePresented(TransitEvent):
    type: ClassVar[str] = "presented"
    seals: tuple[str, ...]
    decision: PresentationDecision

    def body(self) -> Json:
        return {"seals": list(self.seals), **decision_to_json(self.decision)}


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlRecorded(TransitEvent):
    type: ClassVar[str] = "control_recorded"
    control: ControlResult

    def body(self) -> Json:
        return {"control": control_to_json(self.control)}


@dataclass(frozen=True, slots=True, kw_only=True)
class BorderExited(TransitEvent):
    type: ClassVar[str] = "exited"


@dataclass(frozen=True, slots=True, kw_only=True)
class BorderEntered(TransitEvent):
    type: ClassVar[str] = "entered"


@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentReported(TransitEvent):
    type: ClassVar[str] = "incident_reported"
    kind: IncidentKind
    description: str
    seals: tuple[str, ...]

    def body(self) -> Json:
        return {"kind": self.kind.value, "description": self.description, "seals": list(self.seals)}


@dataclass(frozen=True, slots=True, kw_only=True)
class ArrivalRecorded(TransitEvent):
    type: ClassVar[str] = "arrived"
    seals: tuple[str, ...]
    decision: PresentationDecision

    def body(self) -> Json:
        return {"seals": list(self.seals), **decision_to_json(self.decision)}


@dataclass(frozen=True, slots=True, kw_only=True)
class TransitDischarged(TransitEvent):
    type: ClassVar[str] = "discharged"


# --- JSON forms -------------------------------------------------------------------------------------


def money_to_json(money: Money) -> Json:
    # amounts travel as decimal strings: exact, and safe for canonical JSON
    return {"amount": str(money.amount), "currency": money.currency}


def money_from_json(data: Mapping[str, object]) -> Money:
    return Money(amount=Decimal(str(data["amount"])), currency=str(data["currency"]))


def control_to_json(control: ControlResult) -> Json:
    return {
        "office": control.office,
        "kind": control.kind.value,
        "result": control.outcome.value,
        "seals": list(control.seals),
        "note": control.note,
    }


def control_from_json(data: Mapping[str, object]) -> ControlResult:
    return ControlResult(
        office=str(data["office"]),
        kind=ControlKind(str(data["kind"])),
        outcome=ControlOutcome(str(data["result"])),
        seals=tuple(_strings(data.get("seals", []))),
        note=str(data.get("note", "")),
    )


def decision_to_json(decision: PresentationDecision) -> Json:
    return {"decision": decision.decision.value, "reasons": list(decision.reasons)}


def decision_from_json(data: Mapping[str, object]) -> PresentationDecision:
    return PresentationDecision(
        decision=Decision(str(data["decision"])), reasons=tuple(_strings(data.get("reasons", [])))
    )


def declaration_to_json(d: Declaration) -> Json:
    return {
        "holder": d.holder,
        "vehicle": None if d.vehicle is None else {"plate": d.vehicle.plate, "country": d.vehicle.country},
        "containers": [c.number for c in d.containers],
        "itinerary": list(d.itinerary.offices),
        "goods": [
            {
                "hs_code": g.hs_code,
                "description": g.description,
                "packages": g.packages,
                "gross_mass_kg": str(g.gross_mass_kg),
                "value": money_to_json(g.value),
            }
            for g in d.goods
        ],
        "guarantee": {"reference": d.guarantee.reference, **money_to_json(d.guarantee.amount)},
    }


def declaration_from_json(data: Mapping[str, object]) -> Declaration:
    vehicle = data.get("vehicle")
    goods = [_obj(g) for g in _list(data["goods"])]
    guarantee = _obj(data["guarantee"])
    return Declaration(
        holder=str(data["holder"]),
        vehicle=None
        if not isinstance(vehicle, dict)
        else Vehicle(plate=str(vehicle["plate"]), country=str(vehicle["country"])),
        containers=tuple(Container(number=c) for c in _strings(data.get("containers", []))),
        itinerary=Itinerary(offices=tuple(_strings(data["itinerary"]))),
        goods=tuple(
            GoodsItem(
                hs_code=str(g["hs_code"]),
                description=str(g["description"]),
                packages=int(str(g["packages"])),
                gross_mass_kg=Decimal(str(g["gross_mass_kg"])),
                value=money_from_json(_obj(g["value"])),
            )
            for g in goods
        ),
        guarantee=GuaranteeCommitment(reference=str(guarantee["reference"]), amount=money_from_json(guarantee)),
    )


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value


def _strings(value: object) -> list[str]:
    return [str(v) for v in _list(value)]


_READERS: dict[str, Callable[[datetime, str, str | None, Mapping[str, object]], TransitEvent]] = {
    DeclarationSubmitted.type: lambda at, actor, office, b: DeclarationSubmitted(
        at=at, actor=actor, office=office, declaration=declaration_from_json(_obj(b["declaration"]))
    ),
    TransitReleased.type: lambda at, actor, office, b: TransitReleased(
        at=at,
        actor=actor,
        office=office,
        seals=tuple(_strings(b["seals"])),
        control=None if b.get("control") is None else control_from_json(_obj(b["control"])),
        time_limit=datetime.fromisoformat(str(b["time_limit"])),
    ),
    ReleaseRefused.type: lambda at, actor, office, b: ReleaseRefused(
        at=at,
        actor=actor,
        office=office,
        reason=str(b["reason"]),
        control=None if b.get("control") is None else control_from_json(_obj(b["control"])),
    ),
    DeclarationCancelled.type: lambda at, actor, office, b: DeclarationCancelled(
        at=at, actor=actor, office=office, reason=str(b["reason"])
    ),
    VehiclePresented.type: lambda at, actor, office, b: VehiclePresented(
        at=at, actor=actor, office=office, seals=tuple(_strings(b["seals"])), decision=decision_from_json(b)
    ),
    ControlRecorded.type: lambda at, actor, office, b: ControlRecorded(
        at=at, actor=actor, office=office, control=control_from_json(_obj(b["control"]))
    ),
    BorderExited.type: lambda at, actor, office, b: BorderExited(at=at, actor=actor, office=office),
    BorderEntered.type: lambda at, actor, office, b: BorderEntered(at=at, actor=actor, office=office),
    IncidentReported.type: lambda at, actor, office, b: IncidentReported(
        at=at,
        actor=actor,
        office=office,
        kind=IncidentKind(str(b["kind"])),
        description=str(b["description"]),
        seals=tuple(_strings(b["seals"])),
    ),
    ArrivalRecorded.type: lambda at, actor, office, b: ArrivalRecorded(
        at=at, actor=actor, office=office, seals=tuple(_strings(b["seals"])), decision=decision_from_json(b)
    ),
    TransitDischarged.type: lambda at, actor, office, b: TransitDischarged(at=at, actor=actor, office=office),
}

EVENT_TYPES: tuple[str, ...] = tuple(_READERS)


def event_from_record(
    type_: str, *, at: datetime, actor: str, office: str | None, body: Mapping[str, object]
) -> TransitEvent:
    """Rebuild an event from its stored form; raises `KeyError` for an unknown type."""
    return _READERS[type_](at, actor, office, body)


def _obj(value: object) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value

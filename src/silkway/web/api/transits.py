"""The transit API: declare, release, present, control, pass, report, arrive, discharge."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query
from fastapi.responses import Response

from silkway.shared.actors import Role
from silkway.shared.errors import NotPermitted
from silkway.shared.money import Money
from silkway.shared.mrn import Mrn
from silkway.transit import handlers
from silkway.transit.commands import (
    CancelDeclaration,
    ControlReport,
    DischargeTransit,
    PresentVehicle,
    RecordArrival,
    RecordControl,
    RecordPassage,
    RefuseRelease,
    ReleaseForTransit,
    ReportIncident,
    SubmitDeclaration,
)
from silkway.transit.errors import TransitNotFound
from silkway.transit.model import (
    Container,
    ControlKind,
    ControlOutcome,
    Declaration,
    GoodsItem,
    GuaranteeCommitment,
    IncidentKind,
    Itinerary,
    PresentationDecision,
    Vehicle,
)
from silkway.web.api.schemas import (
    ArrivalIn,
    CancellationIn,
    ControlRecordIn,
    DeclarationIn,
    DischargeIn,
    IncidentIn,
    PassageIn,
    PresentationIn,
    RefusalIn,
    ReleaseIn,
)
from silkway.web.api.views import transit_view
from silkway.web.deps import ActorDep, Idempotency, IdempotencyDep, ServicesDep

router = APIRouter(prefix="/transits", tags=["transits"])
T = TypeVar("T")


def _mrn(text: str) -> Mrn:
    return Mrn(text)


def _view(services: ServicesDep, mrn: Mrn) -> dict[str, Any]:
    found = services.queries.transit_with_records(mrn)
    if found is None:
        raise TransitNotFound(f"no transit {mrn}")
    return transit_view(*found)


def _run(services: ServicesDep, handler: Callable[..., T], command: Any) -> T:
    return handler(command, uow=services.uow(), clock=services.clock, places=services.places)


def _record(
    services: ServicesDep, idem: Idempotency, handler: Callable[..., object], command: Callable[[], Any]
) -> Response:
    """Run an action whose answer is the transit as it now stands (or replay the first answer)."""
    if idem.replay:
        return idem.replay
    built = command()
    _run(services, handler, built)
    return idem.respond(_view(services, built.mrn))


@router.post("", status_code=201, summary="Lodge a transit declaration (carrier)")
def submit(body: DeclarationIn, services: ServicesDep, actor: ActorDep, idem: IdempotencyDep) -> Response:
    if idem.replay:
        return idem.replay
    declaration = Declaration(
        holder=actor.username,
        vehicle=None if body.vehicle is None else Vehicle(plate=body.vehicle.plate, country=body.vehicle.country),
        containers=tuple(Container(number=c) for c in body.containers),
        itinerary=Itinerary(offices=tuple(body.itinerary)),
        goods=tuple(
            GoodsItem(
                hs_code=g.hs_code,
                description=g.description,
                packages=g.packages,
                gross_mass_kg=g.gross_mass_kg,
                value=Money(amount=_cents(g.value.amount), currency=g.value.currency),
            )
            for g in body.goods
        ),
        guarantee=GuaranteeCommitment(
            reference=body.guarantee.reference,
            amount=Money(amount=_cents(body.guarantee.amount), currency=body.guarantee.currency),
        ),
    )
    mrn = _run(
        services,
        handlers.submit_declaration,
        SubmitDeclaration(actor=actor, idempotency=idem.claim, declaration=declaration),
    )
    return idem.respond(_view(services, mrn), status=201)


@router.get("", summary="Transits visible to the caller, newest first")
def list_transits(
    services: ServicesDep,
    actor: ActorDep,
    status: Annotated[str | None, Query(pattern=r"^[a-z_]{1,20}$")] = None,
    office: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    if actor.role not in (Role.CARRIER, Role.CUSTOMS, Role.ADMIN):
        raise NotPermitted(f"a {actor.role.value} account does not see individual transits")
    page = services.queries.transits(actor, status=status, office=office, limit=limit, offset=offset)
    return {
        "items": [
            {
                "mrn": t.mrn,
                "status": t.status,
                "holder": t.holder,
                "departure_office": t.departure_office,
                "destination_office": t.destination_office,
                "plate": t.plate,
                "submitted_at": t.submitted_at.isoformat(),
                "updated_at": t.updated_at.isoformat(),
            }
            for t in page.items
        ],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    }


@router.get("/{mrn}", summary="A transit with its history")
def get_transit(mrn: str, services: ServicesDep, actor: ActorDep) -> dict[str, Any]:
    number = _mrn(mrn)
    found = services.queries.transit_with_records(number)
    if found is None or not handlers.can_see(actor, found[0], services.places):
        raise TransitNotFound(f"no transit {number}")
    return transit_view(*found)


@router.post("/{mrn}/release", summary="Release for transit at the office of departure (customs)")
def release(mrn: str, body: ReleaseIn, services: ServicesDep, actor: ActorDep, idem: IdempotencyDep) -> Response:
    return _record(
        services,
        idem,
        handlers.release_for_transit,
        lambda: ReleaseForTransit(
            actor=actor,
            idempotency=idem.claim,
            mrn=_mrn(mrn),
            office=body.office,
            seals=tuple(body.seals),
            control=None
            if body.control is None
            else ControlReport(
                kind=ControlKind(body.control.kind),
                outcome=ControlOutcome(body.control.result),
                note=body.control.note,
            ),
            time_limit=body.time_limit,
        ),
    )


@router.post("/{mrn}/refusal", summary="Refuse release at the office of departure (customs)")
def refuse(mrn: str, body: RefusalIn, services: ServicesDep, actor: ActorDep, idem: IdempotencyDep) -> Response:
    return _record(
        services,
        idem,
        handlers.refuse_release,
        lambda: RefuseRelease(
            actor=actor, idempotency=idem.claim, mrn=_mrn(mrn), office=body.office, reason=body.reason
        ),
    )


@router.post("/{mrn}/cancellation", summary="Cancel a declaration before release (holder or customs)")
def cancel(mrn: str, body: CancellationIn, services: ServicesDep, actor: ActorDep, idem: IdempotencyDep) -> Response:
    return _record(
        services,
        idem,
        handlers.cancel_declaration,
        lambda: CancelDeclaration(actor=actor, idempotency=idem.claim, mrn=_mrn(mrn), reason=body.reason),
    )


@router.post("/{mrn}/presentations", summary="Present the vehicle at an office: green or inspect (customs)")
def present(mrn: str, body: PresentationIn, services: ServicesDep, actor: ActorDep, idem: IdempotencyDep) -> Response:
    if idem.replay:
        return idem.replay
    number = _mrn(mrn)
    decision = _run(
        services,
        handlers.present_vehicle,
        PresentVehicle(actor=actor, idempotency=idem.claim, mrn=number, office=body.office, seals=tuple(body.seals)),
    )
    return idem.respond(_decision(number, body.office, decision))


@router.post("/{mrn}/controls", summary="Record a control at an office (customs)")
def control(mrn: str, body: ControlRecordIn, services: ServicesDep, actor: ActorDep, idem: IdempotencyDep) -> Response:
    return _record(
        services,
        idem,
        handlers.record_control,
        lambda: RecordControl(
            actor=actor,
            idempotency=idem.claim,
            mrn=_mrn(mrn),
            office=body.office,
            control=ControlReport(kind=ControlKind(body.kind), outcome=ControlOutcome(body.result), note=body.note),
            seals=tuple(body.seals),
        ),
    )


@router.post("/{mrn}/passages", summary="Record that the vehicle left or entered at a border office (customs)")
def passage(mrn: str, body: PassageIn, services: ServicesDep, actor: ActorDep, idem: IdempotencyDep) -> Response:
    return _record(
        services,
        idem,
        handlers.record_passage,
        lambda: RecordPassage(actor=actor, idempotency=idem.claim, mrn=_mrn(mrn), office=body.office),
    )


@router.post("/{mrn}/incidents", summary="Report an incident en route (holder or customs)")
def incident(mrn: str, body: IncidentIn, services: ServicesDep, actor: ActorDep, idem: IdempotencyDep) -> Response:
    return _record(
        services,
        idem,
        handlers.report_incident,
        lambda: ReportIncident(
            actor=actor,
            idempotency=idem.claim,
            mrn=_mrn(mrn),
            office=body.office,
            kind=IncidentKind(body.kind),
            description=body.description,
            seals=tuple(body.seals),
        ),
    )


@router.post("/{mrn}/arrival", summary="Record arrival at the office of destination (customs)")
def arrival(mrn: str, body: ArrivalIn, services: ServicesDep, actor: ActorDep, idem: IdempotencyDep) -> Response:
    if idem.replay:
        return idem.replay
    number = _mrn(mrn)
    decision = _run(
        services,
        handlers.record_arrival,
        RecordArrival(actor=actor, idempotency=idem.claim, mrn=number, office=body.office, seals=tuple(body.seals)),
    )
    return idem.respond({**_view(services, number), **_decision(number, body.office, decision)})


@router.post("/{mrn}/discharge", summary="Discharge the transit and free its guarantee (customs)")
def discharge(mrn: str, body: DischargeIn, services: ServicesDep, actor: ActorDep, idem: IdempotencyDep) -> Response:
    return _record(
        services,
        idem,
        handlers.discharge_transit,
        lambda: DischargeTransit(actor=actor, idempotency=idem.claim, mrn=_mrn(mrn), office=body.office),
    )


def _decision(mrn: Mrn, office: str, decision: PresentationDecision) -> dict[str, Any]:
    return {
        "mrn": mrn,
        "office": office,
        "decision": decision.decision.value,
        "reasons": list(decision.reasons),
    }


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))

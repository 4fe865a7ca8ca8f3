"""Two officers acting on one transit at the same moment never corrupt it; a guarantee is never
over-committed by racing declarations. Real threads against the real database (PostgreSQL and SQLite)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

from silkway.services import Services
from silkway.shared.actors import Actor, Role
from silkway.shared.errors import ConcurrentUpdate
from silkway.shared.money import Money
from silkway.transit import handlers
from silkway.transit.commands import ControlReport, PresentVehicle, ReleaseForTransit, SubmitDeclaration
from silkway.transit.errors import GuaranteeOvercommitted
from silkway.transit.model import (
    ControlKind,
    ControlOutcome,
    Declaration,
    GoodsItem,
    GuaranteeCommitment,
    Itinerary,
    Vehicle,
)

CARRIER = Actor(username="carrier-kz", role=Role.CARRIER, country="KZ")
CUSTOMS_KZ = Actor(username="customs-kz", role=Role.CUSTOMS, country="KZ")
CUSTOMS_UZ = Actor(username="customs-uz", role=Role.CUSTOMS, country="UZ")
ROUTE = ("KZ-ALA-ZHETYSU", "KZ-ZHIBEKZHOLY", "UZ-GISHTKUPRIK", "UZ-TAS-CUSTOMS")


def a_declaration(amount: str = "1000.00") -> Declaration:
    return Declaration(
        holder="carrier-kz",
        vehicle=Vehicle(plate="123ABC02", country="KZ"),
        containers=(),
        itinerary=Itinerary(offices=ROUTE),
        goods=(
            GoodsItem(
                hs_code="520100",
                description="Raw cotton",
                packages=40,
                gross_mass_kg=Decimal("20000"),
                value=Money.of("30000", "USD"),
            ),
        ),
        guarantee=GuaranteeCommitment(reference="GRN-KZ-0001", amount=Money.of(amount, "USD")),
    )


def run(services: Services, handler: Callable[..., object], command: object) -> object:
    return handler(command, uow=services.uow(), clock=services.clock, places=services.places)


def race(workers: list[Callable[[], object]]) -> list[object]:
    """Start all workers at once; return what each returned or raised."""
    barrier = threading.Barrier(len(workers))
    results: list[object] = [None] * len(workers)

    def go(i: int, work: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[i] = work()
        except Exception as exc:  # collected and asserted on below
            results[i] = exc

    threads = [threading.Thread(target=go, args=(i, w)) for i, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_concurrent_presentations_keep_the_event_sequence_whole(services: Services) -> None:
    mrn = run(services, handlers.submit_declaration, SubmitDeclaration(actor=CARRIER, declaration=a_declaration()))
    run(
        services,
        handlers.release_for_transit,
        ReleaseForTransit(
            actor=CUSTOMS_KZ,
            mrn=mrn,  # type: ignore[arg-type]
            office=ROUTE[0],
            seals=("S1",),
            control=ControlReport(kind=ControlKind.PHYSICAL, outcome=ControlOutcome.SATISFACTORY),
        ),
    )
    present = PresentVehicle(actor=CUSTOMS_KZ, mrn=mrn, office="KZ-ZHIBEKZHOLY", seals=("S1",))  # type: ignore[arg-type]
    results = race([lambda: run(services, handlers.present_vehicle, present) for _ in range(8)])

    # the row lock (SELECT ... FOR UPDATE; BEGIN IMMEDIATE on SQLite) queues the officers: all succeed
    assert [r for r in results if isinstance(r, Exception)] == []
    succeeded = len(results)
    transit = services.queries.transit(mrn)  # type: ignore[arg-type]
    assert transit is not None
    assert [type(e).__name__ for e in transit.events].count("VehiclePresented") == succeeded
    assert transit.version == len(transit.events) == 2 + succeeded


def test_racing_declarations_never_overcommit_a_guarantee(services: Services) -> None:
    # the demo guarantee covers 500,000 USD: five declarations of 150,000 can't all fit
    submit = SubmitDeclaration(actor=CARRIER, declaration=a_declaration("150000.00"))
    results = race([lambda: run(services, handlers.submit_declaration, submit) for _ in range(5)])

    accepted = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, GuaranteeOvercommitted) for r in refused), refused
    assert len(accepted) == 3
    assert len(set(accepted)) == len(accepted)  # no MRN handed out twice
    with services.uow() as uow:
        assert uow.transits.committed("GRN-KZ-0001") == Decimal("150000.00") * len(accepted)


def test_a_writer_that_read_a_stale_version_is_refused(services: Services) -> None:
    mrn = run(services, handlers.submit_declaration, SubmitDeclaration(actor=CARRIER, declaration=a_declaration()))
    with services.uow() as first:
        stale = first.transits.get(mrn, for_update=False)  # type: ignore[arg-type]
    assert stale is not None
    run(
        services,
        handlers.release_for_transit,
        ReleaseForTransit(actor=CUSTOMS_KZ, mrn=mrn, office=ROUTE[0], seals=(), control=None),  # type: ignore[arg-type]
    )
    stale.cancel(reason="too late", at=services.clock.now(), actor="carrier-kz")
    with services.uow() as second:
        try:
            second.transits.save(stale)
        except ConcurrentUpdate:
            pass
        else:
            raise AssertionError("a stale write was accepted")
    transit = services.queries.transit(mrn)  # type: ignore[arg-type]
    assert transit is not None
    assert transit.status.value == "in_transit"

"""Random sequences of actions on a transit: whatever happens, the rules of the lifecycle hold.

Each example starts with part of the journey without a hitch, then takes random actions. Offices are
drawn from the itinerary (and one office off it); half of the draws take the next office on the route
and the seals the transit carries, so that sequences get far along the journey. Run with
``--hypothesis-show-statistics`` to see how far they got.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from builders import HOLDER, NOW, ROUTE, SEAL, TASHKENT, a_declaration, a_goods_item
from hypothesis import event, given, settings
from hypothesis import strategies as st

from silkway.shared.errors import DomainError
from silkway.shared.mrn import Mrn
from silkway.transit.events import (
    EVENT_TYPES,
    ArrivalRecorded,
    BorderEntered,
    BorderExited,
    ControlRecorded,
    DeclarationCancelled,
    DeclarationSubmitted,
    IncidentReported,
    ReleaseRefused,
    TransitDischarged,
    TransitEvent,
    TransitReleased,
    VehiclePresented,
    event_from_record,
)
from silkway.transit.lifecycle import ALLOWED, CLOSED, Transit
from silkway.transit.model import (
    Container,
    ControlKind,
    ControlOutcome,
    ControlResult,
    Decision,
    IncidentKind,
    PresentationDecision,
    TransitStatus,
)
from silkway.transit.risk import RiskRule

S = TransitStatus
EDGES = {
    (S.SUBMITTED, S.IN_TRANSIT),
    (S.SUBMITTED, S.REFUSED),
    (S.SUBMITTED, S.CANCELLED),
    (S.IN_TRANSIT, S.ARRIVED),
    (S.ARRIVED, S.DISCHARGED),
}
MRN = Mrn.issue(year=2026, country="KZ", serial=7)
DECLARATION = a_declaration()
BORDERS = DECLARATION.itinerary.border_offices
NEXT = "<next office on the route>"
CARRIED = ("<the seals the transit carries>",)
RULES = (
    RiskRule(id="scan-laptops", country="UZ", description="scan", hs_prefix="8471", required_control=ControlKind.SCAN),
    RiskRule(id="spot", country="TJ", description="spot check", hs_prefix="84", required_control=None),
    RiskRule(id="sample", country="KZ", description="one in three", sampling_rate=Decimal("0.33")),
)


@dataclass(frozen=True)
class Step:
    """One action: its name, where, with which seals and control, and how long after the last one."""

    action: str
    office: str
    seals: tuple[str, ...]
    kind: ControlKind
    outcome: ControlOutcome
    with_control: bool
    guarantee_valid: bool
    limit_days: int
    after_hours: int


# weights: the actions that move a transit along come often, those that close it early seldom
ACTIONS = ["present"] * 4 + ["passage"] * 4 + ["control"] * 2 + ["release"] * 2 + ["arrival"] * 2
ACTIONS += ["discharge"] * 2 + ["incident"] * 2 + ["refuse", "cancel"]

steps = st.builds(
    Step,
    action=st.sampled_from(ACTIONS),
    office=st.one_of(st.just(NEXT), st.sampled_from((*ROUTE, TASHKENT))),
    seals=st.one_of(
        st.just(CARRIED),
        st.lists(st.sampled_from([SEAL, "KZ7654321", "UZ0000001"]), unique=True, max_size=2).map(tuple),
    ),
    kind=st.sampled_from(ControlKind),
    outcome=st.sampled_from([ControlOutcome.SATISFACTORY] * 4 + [ControlOutcome.UNSATISFACTORY]),
    with_control=st.sampled_from([True, True, True, False]),
    guarantee_valid=st.sampled_from([True] * 9 + [False]),
    limit_days=st.integers(min_value=-1, max_value=15),
    after_hours=st.integers(min_value=0, max_value=8),
)


def _on_route(action: str, office: str) -> Step:
    return Step(
        action=action,
        office=office,
        seals=(SEAL,),
        kind=ControlKind.PHYSICAL,
        outcome=ControlOutcome.SATISFACTORY,
        with_control=True,
        guarantee_valid=True,
        limit_days=7,
        after_hours=2,
    )


JOURNEY = [
    _on_route("release", ROUTE[0]),
    *(_on_route(action, office) for office in BORDERS for action in ("present", "control", "passage")),
    _on_route("arrival", ROUTE[-1]),
    _on_route("control", ROUTE[-1]),
    _on_route("discharge", ROUTE[-1]),
]
"""The journey without a hitch, as steps; each example starts with some of it, to get far along."""

journeys = st.builds(
    lambda done, more: JOURNEY[:done] + more,
    st.sampled_from([0, 0, 0, *range(1, len(JOURNEY) + 1)]),
    st.lists(steps, max_size=40),
)


def resolve(transit: Transit, step: Step) -> tuple[str, tuple[str, ...]]:
    office = step.office
    if office == NEXT:
        office = BORDERS[len(transit.passed)] if len(transit.passed) < len(BORDERS) else ROUTE[-1]
        if transit.status is S.SUBMITTED:
            office = ROUTE[0]
    seals = transit.seals if step.seals == CARRIED else step.seals
    return office, seals


def apply(transit: Transit, step: Step, at: datetime) -> None:
    """Take one action; raises a `DomainError` when the lifecycle refuses it."""
    office, seals = resolve(transit, step)
    control = ControlResult(office=office, kind=step.kind, outcome=step.outcome, seals=seals)
    rules = [rule for rule in RULES if office.startswith(f"{rule.country}-")]  # a state's own offices
    decide = {"rules": rules, "guarantee_valid": step.guarantee_valid, "at": at, "actor": "officer"}
    match step.action:
        case "release":
            transit.release(
                office=office,
                seals=seals,
                control=control if step.with_control else None,
                time_limit=at + timedelta(days=step.limit_days),
                at=at,
                actor="officer",
            )
        case "refuse":
            transit.refuse(office=office, reason="papers missing", at=at, actor="officer")
        case "cancel":
            transit.cancel(reason="withdrawn", at=at, actor=HOLDER)
        case "present":
            transit.present(office=office, seals=seals, **decide)  # type: ignore[arg-type]
        case "control":
            transit.record_control(control=control, at=at, actor="officer")
        case "passage":
            transit.record_passage(office=office, at=at, actor="officer")
        case "incident":
            transit.report_incident(
                office=office if step.with_control else None,
                kind=IncidentKind.SEAL_BROKEN,
                description="seal found broken",
                seals=seals,
                at=at,
                actor=HOLDER,
            )
        case "arrival":
            transit.record_arrival(office=office, seals=seals, **decide)  # type: ignore[arg-type]
        case "discharge":
            transit.discharge(office=office, at=at, actor="officer")
        case _:
            raise AssertionError(step.action)


def state(transit: Transit) -> tuple[object, ...]:
    return (
        transit.status,
        transit.seals,
        transit.pending,
        transit.passed,
        transit.presented,
        transit.time_limit,
        transit.recognised_control,
        transit.controls_here,
        transit.open_incidents,
    )


def round_trip(event: TransitEvent) -> TransitEvent:
    body = json.loads(json.dumps(event.body()))
    return event_from_record(event.type, at=event.at, actor=event.actor, office=event.office, body=body)


def one_of_each_event() -> list[TransitEvent]:
    at = NOW
    physical = ControlResult(
        office=ROUTE[0],
        kind=ControlKind.PHYSICAL,
        outcome=ControlOutcome.UNSATISFACTORY,
        seals=("KZ2", "KZ1"),
        note="pallets re-stacked",
    )
    decision = PresentationDecision(decision=Decision.INSPECT, reasons=("seal_mismatch", "risk_rule:spot"))
    where = {"at": at, "actor": "customs-kz", "office": ROUTE[1]}
    return [
        DeclarationSubmitted(
            at=at,
            actor=HOLDER,
            office=ROUTE[0],
            declaration=a_declaration(
                containers=(Container(number="CSQU3054383"),),
                goods=(a_goods_item(), a_goods_item(hs_code="010121", gross_mass_kg="0.5", value="12.30")),
                amount="999.99",
            ),
        ),
        TransitReleased(**where, seals=("KZ2", "KZ1"), control=physical, time_limit=NOW + timedelta(days=7)),
        TransitReleased(**where, seals=(), control=None, time_limit=NOW + timedelta(days=7)),
        ReleaseRefused(**where, reason="departure control unsatisfactory", control=physical),
        DeclarationCancelled(at=at, actor=HOLDER, office=None, reason="order withdrawn"),
        VehiclePresented(**where, seals=("KZ2", "KZ1"), decision=decision),
        ControlRecorded(**where, control=physical),
        BorderExited(**where),
        BorderEntered(**where),
        IncidentReported(at=at, actor=HOLDER, office=None, kind=IncidentKind.ACCIDENT, description="x", seals=("N1",)),
        ArrivalRecorded(**where, seals=(), decision=PresentationDecision(decision=Decision.GREEN, reasons=())),
        TransitDischarged(**where),
    ]


def test_every_kind_of_event_round_trips_through_its_stored_form() -> None:
    events = one_of_each_event()

    assert {e.type for e in events} == set(EVENT_TYPES)
    assert [round_trip(e) for e in events] == events


@settings(max_examples=150, deadline=None)
@given(steps=journeys)
def test_random_actions_keep_the_lifecycle_s_rules(steps: list[Step]) -> None:
    transit = Transit.submit(mrn=MRN, declaration=DECLARATION, at=NOW, actor=HOLDER)
    at = NOW
    for step in steps:
        at += timedelta(hours=step.after_hours)
        before_status, before_events = transit.status, list(transit.events)
        try:
            apply(transit, step, at)
            refused = False
        except DomainError:
            refused = True

        assert isinstance(transit.status, TransitStatus)
        assert len(transit.events) == len(before_events) + (0 if refused else 1)
        assert transit.events[: len(before_events)] == before_events
        assert transit.status == before_status or (before_status, transit.status) in EDGES
        assert before_status not in CLOSED or transit.status == before_status
        assert set(transit.allowed_actions()) == set(ALLOWED[transit.status])

        passages = [e for e in transit.events if isinstance(e, BorderExited | BorderEntered)]
        assert [e.office for e in passages] == list(BORDERS[: len(passages)]) == transit.passed
        assert [isinstance(e, BorderExited) for e in passages] == [i % 2 == 0 for i in range(len(passages))]

        assert state(Transit.replay(MRN, transit.events)) == state(transit)
        stored = [round_trip(e) for e in transit.events]
        assert stored == transit.events
        assert state(Transit.replay(MRN, stored)) == state(transit)
    event(f"ended {transit.status}, {len(transit.passed)} of {len(BORDERS)} borders passed")


@settings(max_examples=150, deadline=None)
@given(steps=journeys)
def test_no_border_is_passed_and_no_transit_discharged_with_an_inspection_pending(steps: list[Step]) -> None:
    transit = Transit.submit(mrn=MRN, declaration=DECLARATION, at=NOW, actor=HOLDER)
    at = NOW
    for step in steps:
        at += timedelta(hours=step.after_hours)
        pending_before = dict(transit.pending)
        passed_before = len(transit.passed)
        try:
            apply(transit, step, at)
        except DomainError:
            continue
        newly_passed = transit.passed[passed_before:]
        assert not any(office in pending_before for office in newly_passed)
        assert transit.status is not S.DISCHARGED or not pending_before

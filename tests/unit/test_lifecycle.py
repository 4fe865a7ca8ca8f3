"""A transit from Almaty to Dushanbe through Uzbekistan, driven through the real handlers with fakes.

Every refused action is checked to leave the stored records exactly as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import pytest
from builders import (
    ALMATY,
    DUSHANBE,
    GRN,
    HOLDER,
    KZ_EXIT,
    SEAL,
    TASHKENT,
    TJ_ENTRY,
    UZ_ENTRY,
    UZ_EXIT,
    a_clock,
    a_declaration,
    a_guarantee,
    a_risk_rule,
    admin,
    carrier,
    customs,
)
from fakes import FakeUnitOfWork

from silkway.bootstrap import TransitPlaces
from silkway.shared.actors import Actor
from silkway.shared.clock import FixedClock
from silkway.shared.errors import DomainError, IdempotencyKeyReused, NotPermitted
from silkway.shared.idempotency import IdempotencyKey
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
from silkway.transit.errors import (
    ActionNotAllowed,
    GuaranteeNotFound,
    GuaranteeOvercommitted,
    InspectionPending,
    InvalidDeclaration,
    TransitNotFound,
    WrongOffice,
)
from silkway.transit.model import (
    ControlKind,
    ControlOutcome,
    Decision,
    Declaration,
    IncidentKind,
    PresentationDecision,
    TransitStatus,
)
from silkway.transit.risk import RiskRule

E = TypeVar("E", bound=DomainError)

PHYSICAL_OK = ControlReport(kind=ControlKind.PHYSICAL, outcome=ControlOutcome.SATISFACTORY)
DOCUMENTARY_OK = ControlReport(kind=ControlKind.DOCUMENTARY, outcome=ControlOutcome.SATISFACTORY)
PHYSICAL_FAILED = ControlReport(kind=ControlKind.PHYSICAL, outcome=ControlOutcome.UNSATISFACTORY)
GREEN = PresentationDecision(decision=Decision.GREEN, reasons=())


def inspect(*reasons: str) -> PresentationDecision:
    return PresentationDecision(decision=Decision.INSPECT, reasons=reasons)


@dataclass
class Desk:
    """The handlers bound to one fake store, clock and the real places, with the route's defaults."""

    uow: FakeUnitOfWork
    clock: FixedClock
    places: TransitPlaces

    def _officer(self, office: str) -> Actor:
        country = self.places.office_country(office)
        assert country is not None
        return customs(country)

    def submit(
        self,
        declaration: Declaration | None = None,
        *,
        actor: Actor | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> Mrn:
        cmd = SubmitDeclaration(
            actor=actor or carrier(), declaration=declaration or a_declaration(), idempotency=idempotency
        )
        return handlers.submit_declaration(cmd, uow=self.uow, clock=self.clock, places=self.places)

    def release(
        self,
        mrn: Mrn,
        *,
        office: str = ALMATY,
        seals: tuple[str, ...] = (SEAL,),
        control: ControlReport | None = PHYSICAL_OK,
        actor: Actor | None = None,
    ) -> None:
        cmd = ReleaseForTransit(
            actor=actor or self._officer(office), mrn=mrn, office=office, seals=seals, control=control
        )
        handlers.release_for_transit(cmd, uow=self.uow, clock=self.clock, places=self.places)

    def refuse(self, mrn: Mrn, *, office: str = ALMATY, reason: str = "papers missing") -> None:
        cmd = RefuseRelease(actor=self._officer(office), mrn=mrn, office=office, reason=reason)
        handlers.refuse_release(cmd, uow=self.uow, clock=self.clock, places=self.places)

    def cancel(self, mrn: Mrn, *, actor: Actor | None = None, reason: str = "order withdrawn") -> None:
        cmd = CancelDeclaration(actor=actor or carrier(), mrn=mrn, reason=reason)
        handlers.cancel_declaration(cmd, uow=self.uow, clock=self.clock, places=self.places)

    def present(
        self, mrn: Mrn, office: str, *, seals: tuple[str, ...] = (SEAL,), actor: Actor | None = None
    ) -> PresentationDecision:
        cmd = PresentVehicle(actor=actor or self._officer(office), mrn=mrn, office=office, seals=seals)
        return handlers.present_vehicle(cmd, uow=self.uow, clock=self.clock, places=self.places)

    def control(
        self,
        mrn: Mrn,
        office: str,
        report: ControlReport = PHYSICAL_OK,
        *,
        seals: tuple[str, ...] = (),
        actor: Actor | None = None,
    ) -> None:
        cmd = RecordControl(actor=actor or self._officer(office), mrn=mrn, office=office, control=report, seals=seals)
        handlers.record_control(cmd, uow=self.uow, clock=self.clock, places=self.places)

    def passage(self, mrn: Mrn, office: str, *, actor: Actor | None = None) -> None:
        cmd = RecordPassage(actor=actor or self._officer(office), mrn=mrn, office=office)
        handlers.record_passage(cmd, uow=self.uow, clock=self.clock, places=self.places)

    def incident(self, mrn: Mrn, *, actor: Actor | None = None, seals: tuple[str, ...] = ()) -> None:
        cmd = ReportIncident(
            actor=actor or carrier(),
            mrn=mrn,
            office=None,
            kind=IncidentKind.ACCIDENT,
            description="trailer hit a barrier near Shymkent",
            seals=seals,
        )
        handlers.report_incident(cmd, uow=self.uow, clock=self.clock, places=self.places)

    def arrive(self, mrn: Mrn, *, office: str = DUSHANBE, seals: tuple[str, ...] = (SEAL,)) -> PresentationDecision:
        cmd = RecordArrival(actor=self._officer(office), mrn=mrn, office=office, seals=seals)
        return handlers.record_arrival(cmd, uow=self.uow, clock=self.clock, places=self.places)

    def discharge(self, mrn: Mrn, *, office: str = DUSHANBE) -> None:
        cmd = DischargeTransit(actor=self._officer(office), mrn=mrn, office=office)
        handlers.discharge_transit(cmd, uow=self.uow, clock=self.clock, places=self.places)

    def cross(self, mrn: Mrn, *offices: str) -> None:
        """Present green and pass at each office in turn."""
        for office in offices:
            assert self.present(mrn, office) == GREEN
            self.passage(mrn, office)

    def rule(self, rule: RiskRule) -> None:
        with self.uow:
            self.uow.risk_rules.put(rule)
            self.uow.commit()

    # --- what is stored ---------------------------------------------------------------------------

    def stored(self) -> tuple[object, ...]:
        uow = self.uow
        return (
            dict(uow.transits.stored),
            dict(uow.transits.serials.stored),
            dict(uow.guarantees.stored),
            dict(uow.risk_rules.stored),
            dict(uow.idempotency.stored),
        )

    def history(self, mrn: Mrn) -> list[tuple[str, str | None]]:
        return [(e.type, e.office) for e in self.uow.transits.events(mrn)]

    def status(self, mrn: Mrn) -> TransitStatus:
        transit = self.uow.transits.get(mrn)
        assert transit is not None
        return transit.status

    def refused(self, error: type[E], action: Callable[[], object], match: str | None = None) -> E:
        """Run `action`, expecting `error`, and check nothing at all was recorded."""
        before = self.stored()
        self.uow.committed = False
        with pytest.raises(error, match=match) as caught:
            action()
        assert self.stored() == before
        assert not self.uow.committed
        return caught.value


@pytest.fixture
def desk(places: TransitPlaces) -> Desk:
    uow = FakeUnitOfWork()
    uow.guarantees.stored[GRN] = a_guarantee()
    return Desk(uow=uow, clock=a_clock(), places=places)


@pytest.fixture
def released(desk: Desk) -> Mrn:
    """A transit released at Almaty after a physical control, sealed with `SEAL`."""
    mrn = desk.submit()
    desk.release(mrn)
    return mrn


# --- the whole journey ------------------------------------------------------------------------------


def test_a_transit_from_almaty_to_dushanbe_through_uzbekistan(desk: Desk) -> None:
    mrn = desk.submit()
    desk.release(mrn, office=ALMATY, seals=("KZ1234567",), control=PHYSICAL_OK)
    decisions = []
    for office in (KZ_EXIT, UZ_ENTRY, UZ_EXIT, TJ_ENTRY):
        decisions.append(desk.present(mrn, office, seals=("KZ1234567",)))
        desk.passage(mrn, office)
    decisions.append(desk.arrive(mrn, office=DUSHANBE, seals=("KZ1234567",)))
    desk.discharge(mrn, office=DUSHANBE)

    assert decisions == [GREEN] * 5
    assert desk.history(mrn) == [
        ("submitted", ALMATY),
        ("released", ALMATY),
        ("presented", KZ_EXIT),
        ("exited", KZ_EXIT),
        ("presented", UZ_ENTRY),
        ("entered", UZ_ENTRY),
        ("presented", UZ_EXIT),
        ("exited", UZ_EXIT),
        ("presented", TJ_ENTRY),
        ("entered", TJ_ENTRY),
        ("arrived", DUSHANBE),
        ("discharged", DUSHANBE),
    ]
    assert desk.status(mrn) is TransitStatus.DISCHARGED


def test_each_event_names_the_officer_who_acted(desk: Desk, released: Mrn) -> None:
    desk.cross(released, KZ_EXIT, UZ_ENTRY)

    assert [e.actor for e in desk.uow.transits.events(released)] == [
        HOLDER,
        "customs-kz",
        "customs-kz",
        "customs-kz",
        "customs-uz",
        "customs-uz",
    ]


def test_mrns_are_issued_in_the_country_of_departure_one_after_another(desk: Desk) -> None:
    first = desk.submit(a_declaration(amount="400"))
    second = desk.submit(a_declaration(amount="400"))

    assert (first, second) == (
        Mrn.issue(year=2026, country="KZ", serial=1),
        Mrn.issue(year=2026, country="KZ", serial=2),
    )


def test_the_guarantee_commitment_is_freed_by_discharge(desk: Desk, released: Mrn) -> None:
    desk.refused(GuaranteeOvercommitted, lambda: desk.submit())
    desk.cross(released, KZ_EXIT, UZ_ENTRY, UZ_EXIT, TJ_ENTRY)
    desk.arrive(released)
    desk.refused(GuaranteeOvercommitted, lambda: desk.submit())

    desk.discharge(released)
    again = desk.submit(a_declaration(amount="1000"))

    assert desk.status(again) is TransitStatus.SUBMITTED


def test_cancelling_frees_the_guarantee_commitment(desk: Desk) -> None:
    mrn = desk.submit()
    desk.cancel(mrn)

    assert desk.status(desk.submit()) is TransitStatus.SUBMITTED
    # the office of departure records the cancellation (and, from the trust core on, signs it)
    assert desk.history(mrn)[-1] == ("cancelled", "KZ-ALA-ZHETYSU")


def test_an_unsatisfactory_departure_control_refuses_release(desk: Desk) -> None:
    mrn = desk.submit()
    desk.release(mrn, control=PHYSICAL_FAILED)

    assert desk.status(mrn) is TransitStatus.REFUSED
    assert desk.history(mrn)[-1] == ("release_refused", ALMATY)


def test_customs_of_departure_may_refuse_release(desk: Desk) -> None:
    mrn = desk.submit()
    desk.refuse(mrn)

    assert desk.status(mrn) is TransitStatus.REFUSED


# --- inspect once: every reason to inspect ----------------------------------------------------------


def test_release_without_control_means_inspection_at_the_next_office(desk: Desk) -> None:
    mrn = desk.submit()
    desk.release(mrn, control=None)

    assert desk.present(mrn, KZ_EXIT) == inspect("no_prior_control")


def test_seals_that_differ_from_those_affixed_mean_inspection(desk: Desk, released: Mrn) -> None:
    assert desk.present(released, KZ_EXIT, seals=("KZ7654321",)) == inspect("seal_mismatch")


def test_seals_are_compared_as_normalised(desk: Desk, released: Mrn) -> None:
    assert desk.present(released, KZ_EXIT, seals=(" kz1234567 ",)) == GREEN


def test_an_open_incident_means_inspection_until_a_satisfactory_control(desk: Desk, released: Mrn) -> None:
    desk.incident(released)

    assert desk.present(released, KZ_EXIT) == inspect("incident_open")
    desk.refused(InspectionPending, lambda: desk.passage(released, KZ_EXIT))
    desk.control(released, KZ_EXIT, PHYSICAL_OK)
    desk.passage(released, KZ_EXIT)
    assert desk.present(released, UZ_ENTRY) == GREEN


def test_an_incident_with_new_seals_makes_them_the_expected_seals(desk: Desk, released: Mrn) -> None:
    desk.incident(released, seals=("KZ9990001",))
    desk.control(released, KZ_EXIT, PHYSICAL_OK)

    assert desk.present(released, KZ_EXIT, seals=("KZ9990001",)) == GREEN


def test_presenting_off_the_itinerary_means_inspection(desk: Desk, released: Mrn) -> None:
    desk.cross(released, KZ_EXIT, UZ_ENTRY)

    assert desk.present(released, TASHKENT, actor=customs("UZ")) == inspect("off_itinerary")


def test_a_revoked_guarantee_means_inspection(desk: Desk, released: Mrn) -> None:
    desk.uow.guarantees.stored[GRN] = a_guarantee(revoked=True)

    assert desk.present(released, KZ_EXIT) == inspect("guarantee_invalid")


def test_presenting_after_the_time_limit_means_inspection(desk: Desk, released: Mrn) -> None:
    # the default time limit is 3 days plus 2 per border: 7 days for two borders
    desk.clock.advance(days=7)
    assert desk.present(released, KZ_EXIT) == GREEN
    desk.passage(released, KZ_EXIT)

    desk.clock.advance(seconds=1)
    assert desk.present(released, UZ_ENTRY) == inspect("overdue")


def test_reasons_add_up(desk: Desk) -> None:
    mrn = desk.submit()
    desk.release(mrn, control=None)
    desk.incident(mrn)
    desk.uow.guarantees.stored[GRN] = a_guarantee(revoked=True)

    assert desk.present(mrn, KZ_EXIT, seals=()) == inspect(
        "no_prior_control", "seal_mismatch", "incident_open", "guarantee_invalid"
    )


def test_a_rule_asking_for_a_scan_is_satisfied_by_the_physical_control_at_departure(desk: Desk, released: Mrn) -> None:
    desk.rule(a_risk_rule(id="laptops", country="UZ", hs_prefix="8471", required_control=ControlKind.SCAN))
    desk.cross(released, KZ_EXIT)

    assert desk.present(released, UZ_ENTRY) == GREEN


def test_a_rule_is_satisfied_by_a_control_of_exactly_the_strength_it_asks_for(desk: Desk) -> None:
    desk.rule(a_risk_rule(id="laptops", country="UZ", hs_prefix="8471", required_control=ControlKind.SCAN))
    mrn = desk.submit()
    desk.release(mrn, control=ControlReport(kind=ControlKind.SCAN, outcome=ControlOutcome.SATISFACTORY))
    desk.cross(mrn, KZ_EXIT)

    assert desk.present(mrn, UZ_ENTRY) == GREEN


def test_a_rule_asking_for_a_scan_is_not_satisfied_by_a_documentary_control(desk: Desk) -> None:
    desk.rule(a_risk_rule(id="laptops", country="UZ", hs_prefix="8471", required_control=ControlKind.SCAN))
    mrn = desk.submit()
    desk.release(mrn, control=DOCUMENTARY_OK)
    desk.cross(mrn, KZ_EXIT)

    assert desk.present(mrn, UZ_ENTRY) == inspect("risk_rule:laptops")


def test_a_spot_check_rule_needs_a_control_at_the_office_itself(desk: Desk, released: Mrn) -> None:
    desk.rule(a_risk_rule(id="spot", country="UZ", hs_prefix="8471", required_control=None))
    desk.cross(released, KZ_EXIT)

    assert desk.present(released, UZ_ENTRY) == inspect("risk_rule:spot")
    desk.refused(InspectionPending, lambda: desk.passage(released, UZ_ENTRY), match=r"risk_rule:spot")
    desk.control(released, UZ_ENTRY, DOCUMENTARY_OK)
    assert desk.present(released, UZ_ENTRY) == GREEN
    desk.passage(released, UZ_ENTRY)
    assert desk.history(released)[-1] == ("entered", UZ_ENTRY)


def test_a_satisfactory_control_answers_a_pending_inspection_without_presenting_again(
    desk: Desk, released: Mrn
) -> None:
    desk.rule(a_risk_rule(id="spot", country="UZ", required_control=None))
    desk.cross(released, KZ_EXIT)
    desk.present(released, UZ_ENTRY)

    desk.control(released, UZ_ENTRY, PHYSICAL_OK)
    desk.passage(released, UZ_ENTRY)

    assert desk.history(released)[-1] == ("entered", UZ_ENTRY)


def test_a_state_s_rule_applies_only_at_its_own_offices(desk: Desk, released: Mrn) -> None:
    desk.rule(a_risk_rule(id="laptops", country="KZ", hs_prefix="8471", required_control=None))

    assert desk.present(released, KZ_EXIT) == inspect("risk_rule:laptops")
    desk.control(released, KZ_EXIT)
    desk.passage(released, KZ_EXIT)
    assert desk.present(released, UZ_ENTRY) == GREEN


def test_an_inactive_rule_or_one_on_other_goods_does_not_match(desk: Desk, released: Mrn) -> None:
    desk.rule(a_risk_rule(id="off", country="KZ", required_control=None, active=False))
    desk.rule(a_risk_rule(id="horses", country="KZ", hs_prefix="0101", required_control=None))

    assert desk.present(released, KZ_EXIT) == GREEN


def test_an_unsatisfactory_control_withdraws_recognition_from_later_offices(desk: Desk, released: Mrn) -> None:
    assert desk.present(released, KZ_EXIT) == GREEN
    desk.control(released, KZ_EXIT, PHYSICAL_FAILED)
    desk.refused(InspectionPending, lambda: desk.passage(released, KZ_EXIT), match="control_unsatisfactory")

    desk.control(released, KZ_EXIT, PHYSICAL_OK, seals=("KZ0000002",))
    desk.passage(released, KZ_EXIT)
    assert desk.present(released, UZ_ENTRY, seals=("KZ0000002",)) == GREEN


def test_an_inspection_at_destination_holds_discharge_until_answered(desk: Desk, released: Mrn) -> None:
    desk.cross(released, KZ_EXIT, UZ_ENTRY, UZ_EXIT, TJ_ENTRY)

    assert desk.arrive(released, seals=("TJ0000001",)) == inspect("seal_mismatch")
    assert desk.status(released) is TransitStatus.ARRIVED
    desk.refused(InspectionPending, lambda: desk.discharge(released), match="seal_mismatch")
    desk.control(released, DUSHANBE, PHYSICAL_OK)
    desk.discharge(released)
    assert desk.status(released) is TransitStatus.DISCHARGED


# --- passages ---------------------------------------------------------------------------------------


def test_passage_is_refused_while_an_inspection_is_pending(desk: Desk, released: Mrn) -> None:
    desk.present(released, KZ_EXIT, seals=("KZ7654321",))

    error = desk.refused(InspectionPending, lambda: desk.passage(released, KZ_EXIT))

    assert f"an inspection is pending at {KZ_EXIT} (seal_mismatch)" in error.detail


def test_passage_is_refused_out_of_itinerary_order(desk: Desk, released: Mrn) -> None:
    desk.present(released, KZ_EXIT)
    desk.present(released, UZ_ENTRY)

    desk.refused(
        ActionNotAllowed,
        lambda: desk.passage(released, UZ_ENTRY),
        match=f"the next passage on the route is at {KZ_EXIT}, not {UZ_ENTRY}",
    )


def test_passage_is_refused_before_presentation(desk: Desk, released: Mrn) -> None:
    desk.refused(
        ActionNotAllowed,
        lambda: desk.passage(released, KZ_EXIT),
        match=f"present the vehicle at {KZ_EXIT} before recording its passage",
    )


def test_passage_is_refused_twice_at_the_same_office(desk: Desk, released: Mrn) -> None:
    desk.cross(released, KZ_EXIT)

    desk.refused(ActionNotAllowed, lambda: desk.passage(released, KZ_EXIT), match=f"is at {UZ_ENTRY}")


def test_passage_is_refused_at_an_office_that_is_not_a_border_of_the_route(desk: Desk, released: Mrn) -> None:
    desk.refused(WrongOffice, lambda: desk.passage(released, TASHKENT), match="not a border office")


def test_presenting_again_where_the_vehicle_has_passed_is_refused(desk: Desk, released: Mrn) -> None:
    desk.cross(released, KZ_EXIT)

    desk.refused(ActionNotAllowed, lambda: desk.present(released, KZ_EXIT), match="already passed")
    desk.refused(ActionNotAllowed, lambda: desk.control(released, KZ_EXIT), match="already passed")


def test_arrival_is_refused_before_every_border_is_passed(desk: Desk, released: Mrn) -> None:
    desk.cross(released, KZ_EXIT, UZ_ENTRY, UZ_EXIT)

    desk.refused(ActionNotAllowed, lambda: desk.arrive(released), match=f"not yet passed {TJ_ENTRY}")


def test_arrival_is_recorded_only_at_the_destination(desk: Desk, released: Mrn) -> None:
    desk.cross(released, KZ_EXIT, UZ_ENTRY, UZ_EXIT, TJ_ENTRY)

    desk.refused(WrongOffice, lambda: desk.arrive(released, office="TJ-KHUJAND-SUGHD"))


# --- actions the status does not allow --------------------------------------------------------------

IN_TRANSIT_ALLOWS = "status in_transit; allowed: present, control, passage, incident, arrival"


def test_releasing_twice_names_the_status_and_what_it_allows(desk: Desk, released: Mrn) -> None:
    error = desk.refused(ActionNotAllowed, lambda: desk.release(released))

    assert error.detail == f"cannot release transit {released} ({IN_TRANSIT_ALLOWS})"
    assert (error.status, error.allowed) == ("in_transit", ("present", "control", "passage", "incident", "arrival"))


def test_cancelling_after_release_is_refused(desk: Desk, released: Mrn) -> None:
    error = desk.refused(ActionNotAllowed, lambda: desk.cancel(released))

    assert error.detail == f"cannot cancel transit {released} ({IN_TRANSIT_ALLOWS})"


def test_discharge_before_arrival_is_refused(desk: Desk, released: Mrn) -> None:
    error = desk.refused(ActionNotAllowed, lambda: desk.discharge(released))

    assert error.detail == f"cannot discharge transit {released} ({IN_TRANSIT_ALLOWS})"


def test_presenting_before_release_is_refused(desk: Desk) -> None:
    mrn = desk.submit()

    desk.refused(
        ActionNotAllowed,
        lambda: desk.present(mrn, KZ_EXIT),
        match=r"status submitted; allowed: release, refuse, cancel",
    )


def test_a_closed_transit_allows_nothing(desk: Desk) -> None:
    mrn = desk.submit()
    desk.cancel(mrn)

    error = desk.refused(ActionNotAllowed, lambda: desk.release(mrn))

    assert "(status cancelled; allowed: none (the transit is closed))" in error.detail
    assert error.allowed == ()


def test_an_arrived_transit_accepts_no_more_incidents(desk: Desk, released: Mrn) -> None:
    desk.cross(released, KZ_EXIT, UZ_ENTRY, UZ_EXIT, TJ_ENTRY)
    desk.arrive(released)

    desk.refused(ActionNotAllowed, lambda: desk.incident(released), match="status arrived; allowed: control, discharge")


def test_a_time_limit_before_the_release_is_refused(desk: Desk) -> None:
    mrn = desk.submit()
    cmd = ReleaseForTransit(
        actor=customs("KZ"),
        mrn=mrn,
        office=ALMATY,
        seals=(SEAL,),
        control=PHYSICAL_OK,
        time_limit=desk.clock.now(),
    )

    desk.refused(
        ActionNotAllowed,
        lambda: handlers.release_for_transit(cmd, uow=desk.uow, clock=desk.clock, places=desk.places),
        match="time limit must be after the release",
    )


# --- who may act where ------------------------------------------------------------------------------


def test_customs_of_one_state_cannot_act_at_another_state_s_office(desk: Desk, released: Mrn) -> None:
    desk.cross(released, KZ_EXIT)

    error = desk.refused(NotPermitted, lambda: desk.present(released, UZ_ENTRY, actor=customs("KZ")))

    assert type(error) is NotPermitted
    assert error.fields == {"office": "not an office of KZ"}
    desk.refused(NotPermitted, lambda: desk.passage(released, UZ_ENTRY, actor=customs("KZ")))
    desk.refused(NotPermitted, lambda: desk.control(released, UZ_ENTRY, actor=customs("KZ")))


def test_only_customs_act_at_offices(desk: Desk, released: Mrn) -> None:
    desk.refused(NotPermitted, lambda: desk.present(released, KZ_EXIT, actor=carrier()), match="only customs")
    desk.refused(NotPermitted, lambda: desk.present(released, KZ_EXIT, actor=admin("KZ")), match="only customs")


def test_release_elsewhere_than_the_office_of_departure_is_refused(desk: Desk) -> None:
    mrn = desk.submit()

    error = desk.refused(WrongOffice, lambda: desk.release(mrn, office=KZ_EXIT))

    assert error.fields == {"office": f"expected {ALMATY}"}


def test_discharge_elsewhere_than_the_destination_is_refused(desk: Desk, released: Mrn) -> None:
    desk.cross(released, KZ_EXIT, UZ_ENTRY, UZ_EXIT, TJ_ENTRY)
    desk.arrive(released)

    desk.refused(WrongOffice, lambda: desk.discharge(released, office=TJ_ENTRY))


def test_an_unknown_office_is_refused_as_input(desk: Desk, released: Mrn) -> None:
    error = desk.refused(DomainError, lambda: desk.present(released, "KZ-NOWHERE", actor=customs("KZ")))

    assert error.fields == {"office": "unknown"}


def test_only_a_carrier_lodges_a_declaration(desk: Desk) -> None:
    desk.refused(NotPermitted, lambda: desk.submit(actor=customs("KZ")), match="only a carrier account")


def test_a_carrier_lodges_only_in_its_own_name(desk: Desk) -> None:
    error = desk.refused(NotPermitted, lambda: desk.submit(actor=carrier("carrier-uz", "UZ")))

    assert error.fields == {"holder": "not you"}


def test_a_carrier_cannot_see_another_carrier_s_transit(desk: Desk, released: Mrn) -> None:
    other = carrier("carrier-uz", "UZ")

    error = desk.refused(TransitNotFound, lambda: desk.incident(released, actor=other))
    unknown = desk.refused(
        TransitNotFound, lambda: desk.incident(Mrn.issue(year=2026, country="KZ", serial=999), actor=other)
    )

    assert error.detail == f"no transit {released}"
    assert unknown.detail == f"no transit {Mrn.issue(year=2026, country='KZ', serial=999)}"


def test_another_carrier_cannot_cancel(desk: Desk) -> None:
    mrn = desk.submit()

    desk.refused(TransitNotFound, lambda: desk.cancel(mrn, actor=carrier("carrier-uz", "UZ")))


def test_customs_of_another_state_cannot_cancel(desk: Desk) -> None:
    mrn = desk.submit()

    desk.refused(NotPermitted, lambda: desk.cancel(mrn, actor=customs("UZ")))


# --- the guarantee ----------------------------------------------------------------------------------


def test_declarations_exceeding_the_cover_together_are_refused(desk: Desk) -> None:
    first = desk.submit(a_declaration(amount="600"))

    error = desk.refused(GuaranteeOvercommitted, lambda: desk.submit(a_declaration(amount="600")))

    assert "has 400.00 USD left uncommitted; this declaration needs 600.00 USD" in error.detail
    assert list(desk.uow.transits.stored) == [first]
    assert desk.submit(a_declaration(amount="400")) == Mrn.issue(year=2026, country="KZ", serial=2)


def test_the_cover_may_be_committed_to_the_last_cent(desk: Desk) -> None:
    desk.submit(a_declaration(amount="600"))

    desk.refused(GuaranteeOvercommitted, lambda: desk.submit(a_declaration(amount="400.01")))
    desk.submit(a_declaration(amount="400.00"))

    assert len(desk.uow.transits.stored) == 2


def test_an_unknown_guarantee_is_refused(desk: Desk) -> None:
    desk.refused(GuaranteeNotFound, lambda: desk.submit(a_declaration(guarantee="GRN-KZ-9999")))


def test_another_holder_s_guarantee_is_not_found(desk: Desk) -> None:
    desk.uow.guarantees.stored["GRN-UZ-0001"] = a_guarantee(reference="GRN-UZ-0001", holder="carrier-uz")

    desk.refused(GuaranteeNotFound, lambda: desk.submit(a_declaration(guarantee="GRN-UZ-0001")))


def test_a_revoked_or_expired_guarantee_is_refused(desk: Desk) -> None:
    desk.uow.guarantees.stored[GRN] = a_guarantee(revoked=True)
    desk.refused(InvalidDeclaration, lambda: desk.submit(), match="revoked or expired")

    desk.uow.guarantees.stored[GRN] = a_guarantee(valid_until=desk.clock.now() - timedelta(seconds=1))
    desk.refused(InvalidDeclaration, lambda: desk.submit(), match="revoked or expired")


def test_a_commitment_in_another_currency_than_the_cover_is_refused(desk: Desk) -> None:
    error = desk.refused(InvalidDeclaration, lambda: desk.submit(a_declaration(currency="KZT")))

    assert error.fields == {"guarantee.currency": "expected USD"}


def test_a_declaration_naming_unknown_places_is_refused_before_anything_is_stored(desk: Desk) -> None:
    declaration = a_declaration(offices=(ALMATY, KZ_EXIT, TJ_ENTRY, DUSHANBE))

    desk.refused(InvalidDeclaration, lambda: desk.submit(declaration))


# --- idempotency ------------------------------------------------------------------------------------


def key(fingerprint: str, name: str = "key-1") -> IdempotencyKey:
    return IdempotencyKey(owner=HOLDER, key=name, fingerprint=fingerprint)


def test_a_key_reused_for_another_request_is_refused(desk: Desk) -> None:
    desk.submit(a_declaration(amount="100"), idempotency=key("sha256:first"))

    error = desk.refused(
        IdempotencyKeyReused, lambda: desk.submit(a_declaration(amount="200"), idempotency=key("sha256:second"))
    )

    assert error.fields == {"Idempotency-Key": "reused with another body"}


def test_a_key_is_scoped_to_its_owner(desk: Desk) -> None:
    desk.submit(a_declaration(amount="100"), idempotency=key("sha256:first"))
    other = IdempotencyKey(owner="someone-else", key="key-1", fingerprint="sha256:second")

    desk.submit(a_declaration(amount="100"), idempotency=other)

    assert len(desk.uow.transits.stored) == 2


def test_a_refused_request_does_not_use_up_its_key(desk: Desk) -> None:
    desk.refused(GuaranteeOvercommitted, lambda: desk.submit(a_declaration(amount="5000"), idempotency=key("sha256:a")))

    desk.submit(a_declaration(amount="100"), idempotency=key("sha256:b"))

    assert desk.uow.idempotency.stored == {(HOLDER, "key-1"): ("sha256:b", None)}


# --- risk rules: shape ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"id": "Laptops"}, "id"),
        ({"id": "x" * 41}, "id"),
        ({"id": "spot\n"}, "id"),
        ({"hs_prefix": "847"}, "hs_prefix"),
        ({"hs_prefix": "84\n"}, "hs_prefix"),
        ({"hs_prefix": None}, "hs_prefix"),
    ],
)
def test_a_malformed_risk_rule_is_refused(fields: dict[str, str | None], field: str) -> None:
    # with a pattern ending in `$`, "spot\n" and "84\n" would pass (`$` matches before a final newline),
    # and a rule on "84\n" would then never match any goods
    rule = {"id": "laptops", "country": "UZ", "description": "laptops", "hs_prefix": "8471", **fields}

    with pytest.raises(DomainError) as caught:
        RiskRule(**rule)  # type: ignore[arg-type]

    assert list(caught.value.fields) == [field]


# --- inspect once, as promised ----------------------------------------------------------------------


def test_a_later_documentary_check_does_not_undo_the_physical_control_at_departure(desk: Desk, released: Mrn) -> None:
    # risk.py: "a satisfactory control of that strength already recorded anywhere on the route satisfies it"
    desk.rule(a_risk_rule(id="laptops", country="UZ", hs_prefix="8471", required_control=ControlKind.SCAN))
    desk.present(released, KZ_EXIT)
    desk.control(released, KZ_EXIT, DOCUMENTARY_OK)
    desk.passage(released, KZ_EXIT)

    assert desk.present(released, UZ_ENTRY) == GREEN


def test_after_an_incident_only_the_control_that_followed_it_is_recognised(desk: Desk, released: Mrn) -> None:
    desk.rule(a_risk_rule(id="laptops", country="UZ", hs_prefix="8471", required_control=ControlKind.SCAN))
    desk.incident(released)
    desk.present(released, KZ_EXIT)
    desk.control(released, KZ_EXIT, DOCUMENTARY_OK)
    desk.passage(released, KZ_EXIT)

    assert desk.present(released, UZ_ENTRY) == inspect("risk_rule:laptops")


def test_discharge_waits_for_an_inspection_decided_anywhere_en_route(desk: Desk, released: Mrn) -> None:
    desk.cross(released, KZ_EXIT, UZ_ENTRY)
    assert desk.present(released, TASHKENT, actor=customs("UZ")) == inspect("off_itinerary")
    desk.cross(released, UZ_EXIT, TJ_ENTRY)
    desk.arrive(released)

    error = desk.refused(InspectionPending, lambda: desk.discharge(released))
    desk.control(released, TASHKENT, PHYSICAL_OK)
    desk.discharge(released)

    assert f"{TASHKENT} (off_itinerary)" in error.detail
    assert desk.status(released) is TransitStatus.DISCHARGED


def test_a_control_at_an_office_answers_one_presentation_there(desk: Desk, released: Mrn) -> None:
    # `controls_here` holds the controls since the vehicle was last presented at each office
    desk.rule(a_risk_rule(id="spot", country="KZ", hs_prefix="8471", required_control=None))
    desk.control(released, KZ_EXIT, DOCUMENTARY_OK)

    assert desk.present(released, KZ_EXIT) == GREEN
    assert desk.present(released, KZ_EXIT) == inspect("risk_rule:spot")


def test_presenting_again_does_not_answer_an_inspection(desk: Desk, released: Mrn) -> None:
    first = desk.present(released, KZ_EXIT, seals=("KZ7654321",))
    assert first.reasons == ("seal_mismatch",)
    again = desk.present(released, KZ_EXIT)
    assert (again.decision.value, again.reasons) == ("inspect", ("seal_mismatch",))
    desk.refused(InspectionPending, lambda: desk.passage(released, KZ_EXIT))

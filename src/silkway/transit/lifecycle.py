"""The transit aggregate: its status and controls, rebuilt from its events, and the rules of each step.

Every action checks the status first and raises `ActionNotAllowed` naming the current status and the
actions it allows; a successful action appends exactly one event (`pending` until stored).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from silkway.shared.mrn import Mrn
from silkway.transit.errors import ActionNotAllowed, InspectionPending, WrongOffice
from silkway.transit.events import (
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
)
from silkway.transit.model import (
    ControlResult,
    Declaration,
    IncidentKind,
    PresentationDecision,
    TransitStatus,
)
from silkway.transit.risk import RiskRule, rule_reasons

ALLOWED: dict[TransitStatus, tuple[str, ...]] = {
    TransitStatus.SUBMITTED: ("release", "refuse", "cancel"),
    TransitStatus.IN_TRANSIT: ("present", "control", "passage", "incident", "arrival"),
    TransitStatus.ARRIVED: ("control", "discharge"),
    TransitStatus.DISCHARGED: (),
    TransitStatus.REFUSED: (),
    TransitStatus.CANCELLED: (),
}
"""What each status allows; the property-based tests walk this table."""

CLOSED = frozenset({TransitStatus.DISCHARGED, TransitStatus.REFUSED, TransitStatus.CANCELLED})

_ACTION_OF: dict[type[TransitEvent], str] = {
    TransitReleased: "release",
    ReleaseRefused: "refuse",
    DeclarationCancelled: "cancel",
    VehiclePresented: "present",
    ControlRecorded: "control",
    BorderExited: "passage",
    BorderEntered: "passage",
    IncidentReported: "incident",
    ArrivalRecorded: "arrival",
    TransitDischarged: "discharge",
}


@dataclass(slots=True, kw_only=True)
class Transit:
    """A transit and everything recorded about it. Build with `submit` or `replay`, never directly.

    Invariants: `events[0]` is the `DeclarationSubmitted`; `status` is the fold of the events;
    `version` is the number of events already stored, so storage can refuse a concurrent writer.
    """

    mrn: Mrn
    declaration: Declaration
    events: list[TransitEvent] = field(default_factory=list)
    version: int = 0
    status: TransitStatus = TransitStatus.SUBMITTED
    seals: tuple[str, ...] = ()
    time_limit: datetime | None = None
    recognised_control: ControlResult | None = None
    """The strongest satisfactory control since the last incident, which every later office recognises;
    None before any control and after an unsatisfactory one."""
    controls_here: dict[str, ControlResult] = field(default_factory=dict)
    """The last control at each office since the vehicle was last presented there."""
    pending: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Offices where an inspection was decided and no satisfactory control has answered it yet."""
    presented: set[str] = field(default_factory=set)
    open_incidents: int = 0
    passed: list[str] = field(default_factory=list)

    # --- building ---------------------------------------------------------------------------------

    @classmethod
    def submit(cls, *, mrn: Mrn, declaration: Declaration, at: datetime, actor: str) -> Transit:
        transit = cls(mrn=mrn, declaration=declaration)
        transit._record(
            DeclarationSubmitted(at=at, actor=actor, office=declaration.itinerary.departure, declaration=declaration)
        )
        return transit

    @classmethod
    def replay(cls, mrn: Mrn, events: Sequence[TransitEvent]) -> Transit:
        """Rebuild from stored events; raises `ValueError` if they do not start with the submission."""
        if not events or not isinstance(events[0], DeclarationSubmitted):
            raise ValueError(f"transit {mrn} has no submission event")
        transit = cls(mrn=mrn, declaration=events[0].declaration)
        for event in events:
            transit._apply(event)
            transit.events.append(event)
        transit.version = len(events)
        return transit

    @property
    def pending_events(self) -> list[TransitEvent]:
        """Events recorded since load, not yet stored."""
        return self.events[self.version :]

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED

    def allowed_actions(self) -> tuple[str, ...]:
        return ALLOWED[self.status]

    def concerned_states(self, office_country: Callable[[str], str | None]) -> frozenset[str]:
        """The states of the itinerary's offices: those entitled to this transit's records."""
        return frozenset(c for c in map(office_country, self.declaration.itinerary.offices) if c is not None)

    def accept(self, event: TransitEvent) -> None:
        """Take an event another state's office recorded (already signed by it), after checking that it can
        follow what is known here: the status allows its action, its office is on the itinerary, and a passage
        comes in route order after presentation.

        On an event that cannot follow, raises `ActionNotAllowed` or `WrongOffice`; nothing is applied.
        """
        action = _ACTION_OF.get(type(event))
        if action is None:
            raise ActionNotAllowed(
                f"a {event.type} event cannot follow", status=self.status, allowed=self.allowed_actions()
            )
        self._require(action)
        office = event.office
        if office is not None and office not in self.declaration.itinerary.offices:
            raise WrongOffice(f"{office} is not on this transit's itinerary", fields={"office": "not on the route"})
        if isinstance(event, BorderExited | BorderEntered):
            route = self.declaration.itinerary.border_offices
            expected = route[len(self.passed)] if len(self.passed) < len(route) else None
            if office != expected or office not in self.presented:
                raise ActionNotAllowed(
                    f"a passage at {office} cannot follow: the next passage on the route is at {expected}",
                    status=self.status,
                    allowed=self.allowed_actions(),
                )
        self._record(event)

    # --- actions ----------------------------------------------------------------------------------

    def release(
        self,
        *,
        office: str,
        seals: tuple[str, ...],
        control: ControlResult | None,
        time_limit: datetime,
        at: datetime,
        actor: str,
    ) -> None:
        """Release for transit at the office of departure; an unsatisfactory control refuses release."""
        self._require("release")
        self._require_office(office, self.declaration.itinerary.departure, "release takes place at")
        if control is not None and not control.satisfactory:
            self._record(
                ReleaseRefused(
                    at=at,
                    actor=actor,
                    office=office,
                    reason="departure control unsatisfactory",
                    control=control,
                )
            )
            return
        if time_limit <= at:
            raise ActionNotAllowed(
                "the time limit must be after the release", status=self.status, allowed=self.allowed_actions()
            )
        self._record(
            TransitReleased(at=at, actor=actor, office=office, seals=seals, control=control, time_limit=time_limit)
        )

    def refuse(self, *, office: str, reason: str, at: datetime, actor: str) -> None:
        self._require("refuse")
        self._require_office(office, self.declaration.itinerary.departure, "release is refused at")
        self._record(ReleaseRefused(at=at, actor=actor, office=office, reason=reason, control=None))

    def cancel(self, *, reason: str, at: datetime, actor: str) -> None:
        self._require("cancel")
        self._record(
            DeclarationCancelled(at=at, actor=actor, office=self.declaration.itinerary.departure, reason=reason)
        )

    def present(
        self,
        *,
        office: str,
        seals: tuple[str, ...],
        rules: Iterable[RiskRule],
        guarantee_valid: bool,
        at: datetime,
        actor: str,
    ) -> PresentationDecision:
        """Present the vehicle at an office and decide: green, or inspect with reasons."""
        self._require("present")
        if office in self.passed:
            raise ActionNotAllowed(
                f"the vehicle has already passed {office}", status=self.status, allowed=self.allowed_actions()
            )
        decision = self._decide(office=office, seals=seals, rules=rules, guarantee_valid=guarantee_valid, at=at)
        self._record(VehiclePresented(at=at, actor=actor, office=office, seals=seals, decision=decision))
        return decision

    def record_control(self, *, control: ControlResult, at: datetime, actor: str) -> None:
        """Record a control; a satisfactory one becomes the control every later office recognises."""
        self._require("control")
        if control.office in self.passed:
            raise ActionNotAllowed(
                f"the vehicle has already passed {control.office}",
                status=self.status,
                allowed=self.allowed_actions(),
            )
        self._record(ControlRecorded(at=at, actor=actor, office=control.office, control=control))

    def record_passage(self, *, office: str, at: datetime, actor: str) -> None:
        """Record that the vehicle left (exit office) or entered (entry office) — in itinerary order,
        after presentation, and never while an inspection is pending there."""
        self._require("passage")
        route = self.declaration.itinerary.border_offices
        if office not in route:
            raise WrongOffice(
                f"{office} is not a border office of this itinerary ({', '.join(route) or 'no borders'})",
                fields={"office": "not on the route"},
            )
        expected = route[len(self.passed)] if len(self.passed) < len(route) else None
        if office != expected:
            raise ActionNotAllowed(
                f"the next passage on the route is at {expected}, not {office}",
                status=self.status,
                allowed=self.allowed_actions(),
            )
        if office not in self.presented:
            raise ActionNotAllowed(
                f"present the vehicle at {office} before recording its passage",
                status=self.status,
                allowed=self.allowed_actions(),
            )
        if office in self.pending:
            raise InspectionPending(
                f"an inspection is pending at {office} ({', '.join(self.pending[office])}); record a "
                "satisfactory control first",
                status=self.status,
                allowed=self.allowed_actions(),
            )
        kind = BorderExited if self.declaration.itinerary.is_exit(office) else BorderEntered
        self._record(kind(at=at, actor=actor, office=office))

    def report_incident(
        self,
        *,
        office: str | None,
        kind: IncidentKind,
        description: str,
        seals: tuple[str, ...],
        at: datetime,
        actor: str,
    ) -> None:
        """Report an incident en route; it closes the green lane until a satisfactory control."""
        self._require("incident")
        self._record(
            IncidentReported(at=at, actor=actor, office=office, kind=kind, description=description, seals=seals)
        )

    def record_arrival(
        self,
        *,
        office: str,
        seals: tuple[str, ...],
        rules: Iterable[RiskRule],
        guarantee_valid: bool,
        at: datetime,
        actor: str,
    ) -> PresentationDecision:
        """Record arrival at the office of destination, after every border passage, with a decision."""
        self._require("arrival")
        self._require_office(office, self.declaration.itinerary.destination, "arrival is recorded at")
        route = self.declaration.itinerary.border_offices
        if len(self.passed) < len(route):
            raise ActionNotAllowed(
                f"the vehicle has not yet passed {route[len(self.passed)]}",
                status=self.status,
                allowed=self.allowed_actions(),
            )
        decision = self._decide(office=office, seals=seals, rules=rules, guarantee_valid=guarantee_valid, at=at)
        self._record(ArrivalRecorded(at=at, actor=actor, office=office, seals=seals, decision=decision))
        return decision

    def discharge(self, *, office: str, at: datetime, actor: str) -> None:
        """End the transit at destination and free its guarantee; refused while anything is unresolved."""
        self._require("discharge")
        self._require_office(office, self.declaration.itinerary.destination, "discharge takes place at")
        if self.pending:
            where = "; ".join(f"{o} ({', '.join(r)})" for o, r in self.pending.items())
            raise InspectionPending(
                f"an inspection is still pending at {where}", status=self.status, allowed=self.allowed_actions()
            )
        if self.open_incidents:
            raise ActionNotAllowed(
                "an incident is still open; record a satisfactory control first",
                status=self.status,
                allowed=self.allowed_actions(),
            )
        self._record(TransitDischarged(at=at, actor=actor, office=office))

    # --- the inspect-once decision ----------------------------------------------------------------

    def _decide(
        self,
        *,
        office: str,
        seals: tuple[str, ...],
        rules: Iterable[RiskRule],
        guarantee_valid: bool,
        at: datetime,
    ) -> PresentationDecision:
        reasons: list[str] = list(self.pending.get(office, ()))  # still unanswered here
        if office not in self.declaration.itinerary.offices:
            reasons.append("off_itinerary")
        if self.recognised_control is None:
            reasons.append("no_prior_control")
        if set(seals) != set(self.seals):
            reasons.append("seal_mismatch")
        if self.open_incidents:
            reasons.append("incident_open")
        if not guarantee_valid:
            reasons.append("guarantee_invalid")
        if self.time_limit is not None and at > self.time_limit:
            reasons.append("overdue")
        reasons += rule_reasons(
            rules,
            mrn=self.mrn,
            declaration=self.declaration,
            departure_country=self.mrn.country,
            office=office,
            recognised=self.recognised_control,
            here=self.controls_here.get(office),
        )
        return PresentationDecision.from_reasons(reasons)

    # --- folding events ---------------------------------------------------------------------------

    def _require(self, action: str) -> None:
        if action not in ALLOWED[self.status]:
            raise ActionNotAllowed(
                f"cannot {action} transit {self.mrn}", status=self.status, allowed=self.allowed_actions()
            )

    def _require_office(self, office: str, expected: str, what: str) -> None:
        if office != expected:
            raise WrongOffice(f"{what} {expected}, not at {office}", fields={"office": f"expected {expected}"})

    def _record(self, event: TransitEvent) -> None:
        self._apply(event)
        self.events.append(event)

    def _apply(self, event: TransitEvent) -> None:
        match event:
            case DeclarationSubmitted():
                self.status = TransitStatus.SUBMITTED
            case TransitReleased(seals=seals, control=control, time_limit=limit):
                self.status = TransitStatus.IN_TRANSIT
                self.seals = seals
                self.time_limit = limit
                self.recognised_control = control
            case ReleaseRefused():
                self.status = TransitStatus.REFUSED
            case DeclarationCancelled():
                self.status = TransitStatus.CANCELLED
            case VehiclePresented(office=office, decision=decision) | ArrivalRecorded(office=office, decision=decision):
                assert office is not None
                self.presented.add(office)
                self.controls_here.pop(office, None)
                if decision.reasons:
                    # presenting again never answers an inspection: only a satisfactory control does
                    earlier = self.pending.get(office, ())
                    self.pending[office] = (*earlier, *(r for r in decision.reasons if r not in earlier))
                if isinstance(event, ArrivalRecorded):
                    self.status = TransitStatus.ARRIVED
            case ControlRecorded(control=control):
                self.controls_here[control.office] = control
                if control.satisfactory:
                    # a weaker check never undoes a stronger one, unless an incident voided it
                    previous = self.recognised_control
                    if self.open_incidents or previous is None or control.kind.strength >= previous.kind.strength:
                        self.recognised_control = control
                    self.open_incidents = 0
                    self.pending.pop(control.office, None)
                    if control.seals:
                        self.seals = control.seals
                else:
                    self.recognised_control = None
                    self.pending[control.office] = (
                        *self.pending.get(control.office, ()),
                        "control_unsatisfactory",
                    )
            case BorderExited(office=str(office)) | BorderEntered(office=str(office)):
                self.passed.append(office)
            case IncidentReported(seals=seals):
                self.open_incidents += 1
                if seals:
                    self.seals = seals
            case TransitDischarged():
                self.status = TransitStatus.DISCHARGED
            case _:
                raise TypeError(f"unknown transit event {type(event).__name__}")

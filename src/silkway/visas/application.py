"""The visa file: an application, its examination, the visa issued on it and the border checks made with it.

Rebuilt from its events (`replay`); every action checks the file's state, appends exactly one event
(`pending` until stored) and raises a `DomainError` without changing anything when a rule forbids it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from silkway.visas.errors import DecisionNotAllowed
from silkway.visas.events import (
    ApplicationLodged,
    ApplicationRefused,
    BorderCrossed,
    ConsultationReplied,
    VisaEvent,
    VisaIssued,
    VisaRevoked,
)
from silkway.visas.model import Applicant, ApplicationStatus, Refusal, Visa, VisaStatus


@dataclass(slots=True, kw_only=True)
class Consultation:
    """A consulted state's part in prior consultation: its answer, once given."""

    state: str
    objection: bool | None = None  # None while no answer came
    grounds: tuple[str, ...] = ()
    reason: str = ""


@dataclass(slots=True, kw_only=True)
class VisaApplication:
    """An application and all that followed. Build with `lodge` or `replay`, never directly.

    Invariants: `events[0]` is the `ApplicationLodged`; `status` is the fold of the events; `version` is the
    number of events already stored, so storage can refuse a concurrent writer.
    """

    id: str
    lodged: ApplicationLodged
    status: ApplicationStatus = ApplicationStatus.LODGED
    consultations: dict[str, Consultation] = field(default_factory=dict)
    refusal: Refusal | None = None
    visa: Visa | None = None
    crossings: list[BorderCrossed] = field(default_factory=list)
    events: list[VisaEvent] = field(default_factory=list)
    version: int = 0

    @classmethod
    def lodge(cls, application_id: str, event: ApplicationLodged) -> VisaApplication:
        file = cls(id=application_id, lodged=event)
        file._apply(event)
        return file

    @classmethod
    def replay(cls, application_id: str, events: Sequence[VisaEvent]) -> VisaApplication:
        """Fold stored events. On a history that does not start with the lodging, raises `ValueError`."""
        if not events or not isinstance(events[0], ApplicationLodged):
            raise ValueError(f"application {application_id} does not start with its lodging")
        file = cls(id=application_id, lodged=events[0])
        for event in events:
            file._apply(event)
        file.version = len(file.events)
        return file

    @property
    def applicant(self) -> Applicant:
        return self.lodged.applicant

    @property
    def competent_state(self) -> str:
        return self.lodged.competent_state

    @property
    def pending_events(self) -> list[VisaEvent]:
        return self.events[self.version :]

    @property
    def objecting_states(self) -> tuple[str, ...]:
        return tuple(sorted(s for s, c in self.consultations.items() if c.objection))

    def concerned_states(self) -> frozenset[str]:
        """The states entitled to this file's records: the competent state and the consulted ones; once a visa
        is issued, every state where it is valid; and any state that recorded a crossing or revoked it."""
        states = {self.competent_state, *self.consultations}
        if self.visa is not None:
            states |= {*self.visa.terms.states, self.visa.issuing_state}
            if self.visa.revoked_by is not None:
                states.add(self.visa.revoked_by)
        states |= {c.state for c in self.crossings}
        return frozenset(states)

    def accept(self, event: VisaEvent) -> None:
        """Take an event another state recorded (already signed by it), by the same rules as one recorded here.

        On an event that cannot follow — a second decision, an answer after the deadline, a crossing on a file
        without a visa — raises `DecisionNotAllowed`; nothing is applied.
        """
        match event:
            case ConsultationReplied():
                self.reply(event)
            case ApplicationRefused():
                self.refuse(event)
            case VisaIssued():
                self.issue(event)
            case VisaRevoked():
                self.revoke(event)
            case BorderCrossed():
                self.record_crossing(event)
            case _:
                raise DecisionNotAllowed(f"a {event.type} event cannot follow the lodging")

    def consultation_open(self, now: datetime) -> bool:
        """Whether some consulted state has not answered and its time to object has not run out."""
        until = self.lodged.consultation_until
        unanswered = any(c.objection is None for c in self.consultations.values())
        return unanswered and until is not None and now < until

    def reply(self, event: ConsultationReplied) -> None:
        """A consulted state's answer. Raises `DecisionNotAllowed` from a state not consulted, after the
        decision, after the deadline, or for a second answer."""
        consultation = self.consultations.get(event.state)
        if consultation is None:
            raise DecisionNotAllowed(f"{event.state} was not consulted on this application")
        if self.status is not ApplicationStatus.LODGED:
            raise DecisionNotAllowed(f"the application is already decided ({self.status.value})")
        if consultation.objection is not None:
            raise DecisionNotAllowed(f"{event.state} has already answered")
        until = self.lodged.consultation_until
        if until is not None and event.at >= until:
            raise DecisionNotAllowed(f"the time to object ran out at {until.isoformat()}")
        self._apply(event)

    def refuse(self, event: ApplicationRefused) -> None:
        self._require_undecided()
        self._apply(event)

    def issue(self, event: VisaIssued) -> None:
        """Issue the visa. Raises `DecisionNotAllowed` while consultation is open, or for a uniform visa (or one
        still valid in an objecting state) when a consulted state objected."""
        self._require_undecided()
        if self.consultation_open(event.at):
            raise DecisionNotAllowed(
                "prior consultation is still open until "
                f"{self.lodged.consultation_until.isoformat() if self.lodged.consultation_until else '-'}: "
                "wait for the consulted states' answers, or refuse"
            )
        objecting = [s for s in self.objecting_states if s in event.terms.states]
        if objecting:
            raise DecisionNotAllowed(
                f"{', '.join(objecting)} objected: issue a visa with limited territorial validity that excludes "
                "them, or refuse",
                fields={"excluded_states": f"must include {', '.join(objecting)}"},
            )
        self._apply(event)

    def revoke(self, event: VisaRevoked) -> None:
        if self.visa is None:
            raise DecisionNotAllowed("no visa was issued on this application")
        if self.visa.status is not VisaStatus.VALID:
            raise DecisionNotAllowed(f"the visa is already {self.visa.status.value}")
        self._apply(event)

    def record_crossing(self, event: BorderCrossed) -> None:
        if self.visa is None:
            raise DecisionNotAllowed("no visa was issued on this application")
        self._apply(event)

    def _require_undecided(self) -> None:
        if self.status is not ApplicationStatus.LODGED:
            raise DecisionNotAllowed(f"the application is already decided ({self.status.value})")

    def _apply(self, event: VisaEvent) -> None:
        match event:
            case ApplicationLodged():
                self.consultations = {s: Consultation(state=s) for s in event.consulted_states}
            case ConsultationReplied():
                self.consultations[event.state] = Consultation(
                    state=event.state, objection=event.objection, grounds=event.grounds, reason=event.reason
                )
            case ApplicationRefused():
                self.status = ApplicationStatus.REFUSED
                self.refusal = Refusal(grounds=event.grounds, appeal_until=event.appeal_until)
            case VisaIssued():
                self.status = ApplicationStatus.ISSUED_LTV if event.terms.limited else ApplicationStatus.ISSUED
                self.visa = Visa(
                    number=event.number,
                    issuing_state=event.issuing_state,
                    issuing_office=event.office,
                    issued_at=event.at,
                    terms=event.terms,
                    mrz=event.mrz,
                )
            case VisaRevoked():
                assert self.visa is not None
                self.visa = Visa(
                    number=self.visa.number,
                    issuing_state=self.visa.issuing_state,
                    issuing_office=self.visa.issuing_office,
                    issued_at=self.visa.issued_at,
                    terms=self.visa.terms,
                    mrz=self.visa.mrz,
                    status=VisaStatus.ANNULLED if event.annulled else VisaStatus.REVOKED,
                    revoked_at=event.at,
                    revoked_by=event.state,
                    revocation_grounds=event.grounds,
                )
            case BorderCrossed():
                self.crossings.append(event)
        self.events.append(event)

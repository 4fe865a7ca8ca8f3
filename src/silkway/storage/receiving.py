"""Receiving a peer state's records: verify, check entitlement, extend the chain or set the record aside as a
conflict — all in one transaction with the inbox entry, so a redelivered event changes nothing.

A record is stored only when it is signed by a key the trust list certifies for its office at its time, when
this node's state is entitled to its subject (a transit whose itinerary touches it, a visa file that concerns
it) and when it follows the last record held here. One that follows a record not yet here waits in the inbox;
one that claims a place already taken, or that the domain's rules say cannot follow, is a conflict: kept aside
and shown to officers, never merged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from silkway.shared.clock import Clock
from silkway.shared.errors import DomainError
from silkway.shared.exchange import IncomingEvent, Kind, Outcome, Receipt
from silkway.shared.mrn import Mrn
from silkway.signing.encoding import sha256_hex
from silkway.signing.errors import MalformedRecord, VerificationError
from silkway.signing.records import SignedRecord
from silkway.signing.trustlist import SignedSection, TrustList, trust_from_sections, verify_section
from silkway.signing.verify import verify_record
from silkway.storage.exchange import HeldEvent
from silkway.storage.uow import SqlUnitOfWork
from silkway.storage.visas import alert_from_record, application_subject
from silkway.transit import events as transit_events
from silkway.transit.lifecycle import Transit
from silkway.visas import events as visa_events
from silkway.visas.application import VisaApplication
from silkway.visas.events import BorderCrossed
from silkway.visas.model import Direction

_PREFIX = {Kind.TRUST: "trust:", Kind.TRANSIT: "transit:", Kind.VISA: "visa-application:", Kind.ALERT: "alert:"}
_PASSAGE = frozenset({"presented", "exited", "entered", "arrived", "control_recorded"})


class SqlReceiver:
    """`shared.exchange.Receiver` on the node's database."""

    def __init__(
        self,
        uow: Callable[[], SqlUnitOfWork],
        *,
        node_state: str,
        clock: Clock,
        office_country: Callable[[str], str | None],
    ) -> None:
        self._uow = uow
        self._node_state = node_state
        self._clock = clock
        self._office_country = office_country
        self._trust: tuple[tuple[tuple[str, int], ...], tuple[tuple[str, str], ...], TrustList] | None = None

    def receive(self, event: IncomingEvent) -> Receipt:
        now = self._clock.now()
        with self._uow() as uow:
            receipt = self._receive(uow, event, now)
            if receipt.outcome is not Outcome.RETRY:
                uow.commit()
        return receipt

    # -- the steps ---------------------------------------------------------------------------------------

    def _receive(self, uow: SqlUnitOfWork, event: IncomingEvent, now: datetime) -> Receipt:
        if sha256_hex(event.record) != event.event_id:
            return self._reject(uow, event, "event_id_mismatch", "the event id is not the SHA-256 of its record", now)
        if not event.subject.startswith(_PREFIX[event.kind]) or len(event.subject) > 60:
            return self._reject(uow, event, "bad_subject", f"{event.subject!r} is not a {event.kind} subject", now)
        prior = uow.inbox.outcome(event.event_id)
        if prior is not None:
            return Receipt(Outcome.DUPLICATE, f"event already handled here ({prior})")
        if event.kind is Kind.TRUST:
            return self._section(uow, event, now)
        record = SignedRecord(canonical=event.record, signature=event.signature)
        try:
            fields = record.fields
        except MalformedRecord as exc:
            return self._reject(uow, event, "malformed", str(exc), now)
        if fields.get("subject") != event.subject or fields.get("seq") != event.seq:
            return self._reject(uow, event, "envelope_mismatch", "the envelope names another subject or place", now)
        problems = verify_record(record, self._trust_list(uow), subject=event.subject)
        if any(p.code == "unknown_key" for p in problems):
            return Receipt(Outcome.RETRY, "signed with a key not (yet) on this node's trust list")
        if problems:
            return self._reject(uow, event, problems[0].code, "; ".join(p.message for p in problems), now)
        uow.inbox.hold(event, at=now)
        if event.kind is Kind.ALERT:
            self._drain_alert(uow, event.subject, now)
        else:
            chain: _Chain = (
                _TransitChain(uow, Mrn(event.subject.removeprefix("transit:")), self._office_country)
                if event.kind is Kind.TRANSIT
                else _VisaChain(uow, event.subject.removeprefix("visa-application:"))
            )
            self._drain(uow, event.kind, event.subject, chain, now)
        outcome = uow.inbox.outcome(event.event_id)
        if outcome == "rejected":
            return Receipt(Outcome.REJECTED, "this node's state is not entitled to this subject")
        return Receipt(Outcome(outcome or "waiting"))

    def _reject(self, uow: SqlUnitOfWork, event: IncomingEvent, code: str, reason: str, now: datetime) -> Receipt:
        uow.inbox.reject(event, code, reason, at=now)
        return Receipt(Outcome.REJECTED, f"{code}: {reason}")

    def _trust_list(self, uow: SqlUnitOfWork) -> TrustList:
        sections = uow.keys.sections()
        pins = uow.pins.all()
        own = uow.keys.root(self._node_state)
        if own is not None:
            pins[self._node_state] = own[0].key_id
        version = tuple(sorted((state, sequence) for state, sequence, _ in sections))
        pinned = tuple(sorted(pins.items()))
        if self._trust is None or self._trust[0] != version or self._trust[1] != pinned:
            trust = trust_from_sections([s for _, _, s in sections], pinned_roots=pins)
            self._trust = (version, pinned, trust)
        return self._trust[2]

    def _section(self, uow: SqlUnitOfWork, event: IncomingEvent, now: datetime) -> Receipt:
        state = event.subject.removeprefix("trust:")
        if state == self._node_state:
            return self._reject(uow, event, "own_section", f"only this node publishes the section of {state}", now)
        pinned = uow.pins.get(state)
        if pinned is None:
            return Receipt(Outcome.RETRY, f"{state} is not pinned here yet (the key ceremony comes first)")
        signed = SignedSection(canonical=event.record, signature=event.signature)
        try:
            section = verify_section(signed, pinned_root=pinned)
        except (VerificationError, MalformedRecord) as exc:
            return self._reject(uow, event, "bad_section", str(exc), now)
        if section.state != state or section.sequence != event.seq:
            return self._reject(uow, event, "envelope_mismatch", "the envelope names another state or sequence", now)
        current = uow.keys.section_sequence(state)
        if section.sequence <= current:
            return self._reject(
                uow, event, "replayed", f"section {section.sequence} of {state} is not newer than {current}", now
            )
        uow.keys.adopt_section(section, signed, at=now)
        uow.inbox.settle(event, "applied", at=now)
        return Receipt(Outcome.APPLIED)

    def _drain_alert(self, uow: SqlUnitOfWork, subject: str, now: datetime) -> None:
        for held in uow.inbox.waiting(subject):
            record = SignedRecord(canonical=held.record, signature=held.signature)
            stored = uow.visas.hashes(subject)
            if stored:
                outcome = "duplicate" if stored[0] == record.hash else "conflict"
                if outcome == "conflict":
                    self._conflict(
                        uow, Kind.ALERT, subject, held, record, "fork", "another alert was stored under this id", now
                    )
                uow.inbox.resolve(held.event_id, outcome, at=now)
                continue
            try:
                alert = alert_from_record(subject.removeprefix("alert:"), record)
            except ValueError as exc:
                self._conflict(uow, Kind.ALERT, subject, held, record, "malformed", str(exc), now)
                uow.inbox.resolve(held.event_id, "conflict", at=now)
                continue
            uow.alerts.receive(alert, record)
            uow.inbox.resolve(held.event_id, "applied", at=now)

    def _drain(self, uow: SqlUnitOfWork, kind: Kind, subject: str, chain: _Chain, now: datetime) -> None:
        """Apply the waiting records of `subject` that now follow the chain held here, in order."""
        hashes = chain.hashes()
        aggregate = chain.load() if hashes else None
        head = hashes[-1] if hashes else None
        run: list[tuple[HeldEvent, SignedRecord]] = []
        for held in uow.inbox.waiting(subject):
            record = SignedRecord(canonical=held.record, signature=held.signature)
            if held.seq <= len(hashes):
                if hashes[held.seq - 1] == record.hash:
                    uow.inbox.resolve(held.event_id, "duplicate", at=now)
                else:
                    assert aggregate is not None
                    code, text = chain.describe_fork(aggregate, held.seq, record, held.origin)
                    self._conflict(uow, kind, subject, held, record, code, text, now, local=hashes[held.seq - 1])
                    uow.inbox.resolve(held.event_id, "conflict", at=now)
                continue
            if held.seq != len(hashes) + len(run) + 1:
                break  # a gap: the missing record has not arrived yet
            if record.fields.get("prev") != head:
                text = f"event {held.seq} from {held.origin} follows a record this node does not hold (a fork)"
                self._conflict(uow, kind, subject, held, record, "fork", text, now, local=head)
                uow.inbox.resolve(held.event_id, "conflict", at=now)
                continue
            try:
                # the domain checks before it applies: a refused record leaves the aggregate as it was
                aggregate = chain.follow(aggregate, record)
            except (DomainError, KeyError, TypeError, ValueError) as exc:
                detail = exc.detail if isinstance(exc, DomainError) else f"unreadable event: {exc}"
                text = (
                    f"{record.fields.get('type')} at {record.fields.get('office')} from {held.origin} cannot follow "
                    f"what is recorded here: {detail}"
                )
                self._conflict(uow, kind, subject, held, record, "not_allowed", text, now, local=head)
                uow.inbox.resolve(held.event_id, "conflict", at=now)
                continue
            run.append((held, record))
            head = record.hash
        if not run or aggregate is None:
            return
        if not chain.entitled(aggregate, self._node_state):
            if chain.final_entitlement:
                for held, _ in run:
                    uow.inbox.resolve(held.event_id, "rejected", at=now)
            return  # a visa file may yet come to concern this state (a visa issued for it): the run waits
        chain.store(aggregate, [record for _, record in run])
        for held, _ in run:
            uow.inbox.resolve(held.event_id, "applied", at=now)
        for held, record, text in chain.contradictions(aggregate, run):
            self._conflict(uow, kind, subject, held, record, "two_exits", text, now, stored=True)

    def _conflict(
        self,
        uow: SqlUnitOfWork,
        kind: Kind,
        subject: str,
        held: HeldEvent,
        record: SignedRecord,
        code: str,
        description: str,
        now: datetime,
        *,
        local: str | None = None,
        stored: bool = False,
    ) -> None:
        fields = record.fields
        uow.inbox.conflict(
            kind=kind,
            subject=subject,
            seq=held.seq,
            code=code,
            description=description,
            origin=held.origin,
            local_hash=local,
            remote_hash=record.hash,
            remote_type=str(fields.get("type", ""))[:40],
            remote_office=str(fields.get("office", ""))[:40],
            remote_at=record.at,
            stored=stored,
            at=now,
        )


class _Aggregate(Protocol):
    version: int


class _Chain(Protocol):
    final_entitlement: bool

    def hashes(self) -> list[str]: ...
    def load(self) -> _Aggregate | None: ...
    def follow(self, aggregate: _Aggregate | None, record: SignedRecord) -> _Aggregate: ...
    def entitled(self, aggregate: _Aggregate, state: str) -> bool: ...
    def store(self, aggregate: _Aggregate, records: Sequence[SignedRecord]) -> None: ...
    def describe_fork(self, aggregate: _Aggregate, seq: int, record: SignedRecord, origin: str) -> tuple[str, str]: ...
    def contradictions(
        self, aggregate: _Aggregate, run: Sequence[tuple[HeldEvent, SignedRecord]]
    ) -> list[tuple[HeldEvent, SignedRecord, str]]: ...


@dataclass
class _TransitChain:
    uow: SqlUnitOfWork
    mrn: Mrn
    office_country: Callable[[str], str | None]
    final_entitlement: bool = True  # the itinerary, in the first record, settles who is concerned

    def hashes(self) -> list[str]:
        return self.uow.transits.hashes(self.mrn)

    def load(self) -> Transit | None:
        return self.uow.transits.get(self.mrn)

    def follow(self, aggregate: _Aggregate | None, record: SignedRecord) -> Transit:
        event = _transit_event(record)
        if aggregate is None:
            if not isinstance(event, transit_events.DeclarationSubmitted):
                raise ValueError("a transit's first record is its declaration")
            transit = Transit.replay(self.mrn, [event])
            transit.version = 0
            return transit
        assert isinstance(aggregate, Transit)
        aggregate.accept(event)
        return aggregate

    def entitled(self, aggregate: _Aggregate, state: str) -> bool:
        assert isinstance(aggregate, Transit)
        return state in aggregate.concerned_states(self.office_country)

    def store(self, aggregate: _Aggregate, records: Sequence[SignedRecord]) -> None:
        assert isinstance(aggregate, Transit)
        self.uow.transits.receive(aggregate, records)

    def describe_fork(self, aggregate: _Aggregate, seq: int, record: SignedRecord, origin: str) -> tuple[str, str]:
        assert isinstance(aggregate, Transit)
        mine = aggregate.events[seq - 1]
        theirs_type, theirs_office = record.fields.get("type"), record.fields.get("office")
        if mine.type in _PASSAGE and theirs_type in _PASSAGE and mine.office != theirs_office:
            return "passage_out_of_order", (
                f"{theirs_office} ({origin}) recorded “{theirs_type}” as event {seq}, but this node had already "
                f"recorded “{mine.type}” at {mine.office} there: the passage was recorded on both sides out of order"
            )
        return "fork", (
            f"{origin} sent a different event {seq} ({theirs_type} at {theirs_office}) from the one recorded here "
            f"({mine.type} at {mine.office})"
        )

    def contradictions(
        self, aggregate: _Aggregate, run: Sequence[tuple[HeldEvent, SignedRecord]]
    ) -> list[tuple[HeldEvent, SignedRecord, str]]:
        return []


@dataclass
class _VisaChain:
    uow: SqlUnitOfWork
    application_id: str
    final_entitlement: bool = False

    def hashes(self) -> list[str]:
        return self.uow.visas.hashes(application_subject(self.application_id))

    def load(self) -> VisaApplication | None:
        return self.uow.visas.get(self.application_id)

    def follow(self, aggregate: _Aggregate | None, record: SignedRecord) -> VisaApplication:
        event = _visa_event(record)
        if aggregate is None:
            if not isinstance(event, visa_events.ApplicationLodged):
                raise ValueError("a visa file's first record is its lodging")
            return VisaApplication.lodge(self.application_id, event)
        assert isinstance(aggregate, VisaApplication)
        aggregate.accept(event)
        return aggregate

    def entitled(self, aggregate: _Aggregate, state: str) -> bool:
        assert isinstance(aggregate, VisaApplication)
        return state in aggregate.concerned_states()

    def store(self, aggregate: _Aggregate, records: Sequence[SignedRecord]) -> None:
        assert isinstance(aggregate, VisaApplication)
        self.uow.visas.receive(aggregate, records)

    def describe_fork(self, aggregate: _Aggregate, seq: int, record: SignedRecord, origin: str) -> tuple[str, str]:
        assert isinstance(aggregate, VisaApplication)
        mine = aggregate.events[seq - 1]
        theirs = _visa_event(record)
        if (
            isinstance(mine, BorderCrossed)
            and isinstance(theirs, BorderCrossed)
            and mine.direction is Direction.EXIT
            and theirs.direction is Direction.EXIT
        ):
            return "two_exits", (
                f"two exits recorded for one entry: at {mine.office} ({mine.state}) here and at {theirs.office} "
                f"({theirs.state}) on {origin}'s node, both as event {seq}"
            )
        return "fork", (
            f"{origin} sent a different event {seq} ({theirs.type} at {theirs.office}) from the one recorded here "
            f"({mine.type} at {mine.office})"
        )

    def contradictions(
        self, aggregate: _Aggregate, run: Sequence[tuple[HeldEvent, SignedRecord]]
    ) -> list[tuple[HeldEvent, SignedRecord, str]]:
        """Exits that follow an exit with no entry between, among the records just stored: both stand (each is
        a signed fact), and officers are shown that they cannot both be true."""
        assert isinstance(aggregate, VisaApplication)
        found = []
        allowed = [c for c in aggregate.crossings if c.allowed]
        for (held, record), event in zip(run, aggregate.events[-len(run) :], strict=True):
            if not isinstance(event, BorderCrossed) or event.direction is not Direction.EXIT or not event.allowed:
                continue
            position = next(i for i, c in enumerate(allowed) if c is event)
            if position > 0 and allowed[position - 1].direction is Direction.EXIT:
                earlier = allowed[position - 1]
                text = (
                    f"two exits recorded for one entry: at {earlier.office} ({earlier.state}) and at {event.office} "
                    f"({event.state}), with no entry between"
                )
                found.append((held, record, text))
        return found


def _transit_event(record: SignedRecord) -> transit_events.TransitEvent:
    f = record.fields
    return transit_events.event_from_record(
        str(f["type"]), at=record.at, actor=str(f["actor"]), office=f.get("office"), body=record.body()
    )


def _visa_event(record: SignedRecord) -> visa_events.VisaEvent:
    f = record.fields
    return visa_events.event_from_record(
        str(f["type"]), at=record.at, actor=str(f["actor"]), office=str(f["office"]), body=record.body()
    )

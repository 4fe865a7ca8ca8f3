"""The node's exchange with its peer states, in its database: pinned peers, the outbox written beside each
shared record, the relay's view of it, the inbox of handled events, refusals and conflicts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.orm import Session

from silkway.shared.exchange import IncomingEvent, Kind, OutgoingEvent
from silkway.signing.encoding import sha256_hex
from silkway.storage.personal import PersonalData
from silkway.storage.tables import (
    ConflictRow,
    InboxRow,
    OutboxRow,
    RejectionRow,
    ShareRow,
    TransitEventRow,
    TrustPinRow,
    TrustSectionRow,
    VisaRecordRow,
)


def trust_subject(state: str) -> str:
    return f"trust:{state}"


class SqlOutbox:
    """Writes outbox rows in the caller's transaction, for the peers concerned by a subject.

    A subject goes to a peer state the first time one of its records concerns that state, and then the whole
    history goes with it (the state needs the declaration before the events that follow it); later records
    follow one by one. Only pinned peers receive anything: the embedded node has none, so nothing is queued.
    """

    def __init__(self, session: Session, node_state: str) -> None:
        self._session = session
        self._node_state = node_state
        self._peers: frozenset[str] | None = None

    def peers(self) -> frozenset[str]:
        if self._peers is None:
            self._peers = frozenset(self._session.scalars(select(TrustPinRow.state)))
        return self._peers

    def share(
        self,
        kind: Kind,
        subject: str,
        concerned: Iterable[str] | None,
        new: Sequence[tuple[int, str]],
        *,
        at: datetime,
    ) -> None:
        """Queue the `new` (seq, hash) records of `subject` for every peer among `concerned` (every peer when
        None); a peer that has not had the subject yet gets its earlier records first."""
        peers = self.peers()
        if not peers or not new:
            return
        wanted = peers if concerned is None else peers & frozenset(concerned)
        wanted -= {self._node_state}
        if not wanted:
            return
        known = set(self._session.scalars(select(ShareRow.state).where(ShareRow.subject == subject)))
        history: list[tuple[int, str]] | None = None
        rows = []
        for state in sorted(wanted):
            if state in known:
                records = list(new)
            else:
                if history is None:
                    history = self._history(kind, subject)
                records = history
                self._session.add(ShareRow(subject=subject, state=state, shared_at=at))
            rows += [
                {
                    "event_id": event_id,
                    "destination": state,
                    "kind": kind.value,
                    "subject": subject,
                    "seq": seq,
                    "created_at": at,
                    "published_at": None,
                    "attempts": 0,
                }
                for seq, event_id in records
            ]
        self._session.flush()
        self._session.execute(insert(OutboxRow), rows)

    def share_section(self, state: str, *, at: datetime, only: Iterable[str] | None = None) -> None:
        """Queue `state`'s current trust list section for every peer (or the peers in `only`) that has not
        had this very section yet."""
        row = self._session.get(TrustSectionRow, state)
        if row is None:
            return
        event_id = sha256_hex(row.canonical)
        wanted = self.peers() if only is None else self.peers() & frozenset(only)
        sent = set(
            self._session.scalars(
                select(OutboxRow.destination).where(OutboxRow.event_id == event_id, OutboxRow.kind == Kind.TRUST.value)
            )
        )
        rows = [
            {
                "event_id": event_id,
                "destination": peer,
                "kind": Kind.TRUST.value,
                "subject": trust_subject(state),
                "seq": row.sequence,
                "created_at": at,
                "published_at": None,
                "attempts": 0,
            }
            for peer in sorted(wanted - sent - {state})
        ]
        if rows:
            self._session.execute(insert(OutboxRow), rows)

    def _history(self, kind: Kind, subject: str) -> list[tuple[int, str]]:
        if kind is Kind.TRANSIT:
            query = (
                select(TransitEventRow.seq, TransitEventRow.hash)
                .where(TransitEventRow.mrn == subject.removeprefix("transit:"))
                .order_by(TransitEventRow.seq)
            )
        else:
            query = select(VisaRecordRow.seq, VisaRecordRow.hash).where(VisaRecordRow.subject == subject)
            query = query.order_by(VisaRecordRow.seq)
        return [(int(seq), str(h)) for seq, h in self._session.execute(query).all()]


class SqlPins:
    """The key ceremony's result on this node: which peer states it trusts, by their root key id."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def all(self) -> dict[str, str]:
        return {r.state: r.root_key_id for r in self._session.scalars(select(TrustPinRow))}

    def get(self, state: str) -> str | None:
        row = self._session.get(TrustPinRow, state)
        return None if row is None else row.root_key_id

    def pin(self, state: str, root_key_id: str, *, at: datetime) -> bool:
        """Pin (or re-pin) a peer's root; returns whether anything changed."""
        row = self._session.get(TrustPinRow, state)
        if row is not None and row.root_key_id == root_key_id:
            return False
        if row is None:
            self._session.add(TrustPinRow(state=state, root_key_id=root_key_id, pinned_at=at))
        else:
            row.root_key_id, row.pinned_at = root_key_id, at
        self._session.flush()
        return True

    def unpin(self, state: str) -> int:
        """Stop trusting and sharing with `state`; returns how many undelivered events to it were withdrawn."""
        self._session.execute(delete(TrustPinRow).where(TrustPinRow.state == state))
        withdrawn = self._session.execute(
            delete(OutboxRow).where(OutboxRow.destination == state, OutboxRow.published_at.is_(None))
        )
        return int(withdrawn.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class HeldEvent:
    """An inbox entry still waiting, with its bytes."""

    event_id: str
    origin: str
    seq: int
    record: bytes
    signature: bytes


class SqlInbox:
    """Received event ids and what became of them, in the receiver's transaction."""

    def __init__(self, session: Session, personal: PersonalData) -> None:
        self._session = session
        self._personal = personal  # a held visa record carries a passport number: it waits encrypted, too

    def outcome(self, event_id: str) -> str | None:
        return self._session.scalar(select(InboxRow.outcome).where(InboxRow.event_id == event_id))

    def hold(self, event: IncomingEvent, *, at: datetime) -> None:
        """Keep a verified event, bytes and all, until `resolve` says what became of it."""
        self._add(event, "waiting", keep=True, at=at)

    def settle(self, event: IncomingEvent, outcome: str, *, at: datetime) -> None:
        """Record an event handled at once (a trust section, say), without keeping its bytes."""
        self._add(event, outcome, keep=False, at=at)

    def _add(self, event: IncomingEvent, outcome: str, *, keep: bool, at: datetime) -> None:
        self._session.add(
            InboxRow(
                event_id=event.event_id,
                origin=event.origin,
                kind=event.kind.value,
                subject=event.subject,
                seq=event.seq,
                outcome=outcome,
                record=self._personal.seal(event.record, bound_to=_held(event.event_id)) if keep else None,
                signature=event.signature if keep else None,
                received_at=at,
                handled_at=None if keep else at,
            )
        )
        self._session.flush()

    def waiting(self, subject: str) -> list[HeldEvent]:
        rows = self._session.scalars(
            select(InboxRow)
            .where(InboxRow.subject == subject, InboxRow.outcome == "waiting")
            .order_by(InboxRow.seq, InboxRow.received_at)
        ).all()
        return [
            HeldEvent(
                r.event_id,
                r.origin,
                r.seq,
                b"" if r.record is None else self._held_bytes(r.event_id, r.record),
                r.signature or b"",
            )
            for r in rows
        ]

    def _held_bytes(self, event_id: str, stored: bytes) -> bytes:
        if stored.startswith(b"{"):  # held before waiting records were sealed (migration 0006): signed JSON as sent
            return stored
        return self._personal.open(stored, bound_to=_held(event_id))

    def resolve(self, event_id: str, outcome: str, *, at: datetime) -> None:
        """A waiting event is handled: its bytes are dropped (the stored record, or the conflict, keeps them)."""
        self._session.execute(
            update(InboxRow)
            .where(InboxRow.event_id == event_id)
            .values(outcome=outcome, record=None, signature=None, handled_at=at)
        )

    def reject(self, event: IncomingEvent, code: str, reason: str, *, at: datetime) -> None:
        self._session.add(
            RejectionRow(
                event_id=event.event_id[:64],
                origin=event.origin[:2],
                kind=event.kind.value,
                subject=event.subject[:60],
                code=code,
                reason=reason,
                received_at=at,
            )
        )

    def conflict(
        self,
        *,
        kind: Kind,
        subject: str,
        seq: int,
        code: str,
        description: str,
        origin: str,
        local_hash: str | None,
        remote_hash: str,
        remote_type: str,
        remote_office: str,
        remote_at: datetime,
        stored: bool,
        at: datetime,
    ) -> None:
        exists = self._session.scalar(select(ConflictRow.id).where(ConflictRow.remote_hash == remote_hash))
        if exists is not None:
            return
        self._session.add(
            ConflictRow(
                kind=kind.value,
                subject=subject,
                seq=seq,
                code=code,
                description=description,
                origin=origin,
                local_hash=local_hash,
                remote_hash=remote_hash,
                remote_type=remote_type,
                remote_office=remote_office,
                remote_at=remote_at,
                stored=stored,
                detected_at=at,
            )
        )
        self._session.flush()


@dataclass(frozen=True, slots=True, kw_only=True)
class Conflict:
    """Two facts that cannot both stand, as an officer sees them."""

    id: int
    kind: str
    subject: str
    seq: int
    code: str
    description: str
    origin: str
    remote_type: str
    remote_office: str
    remote_at: datetime
    stored: bool
    detected_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeStatus:
    """How the node's exchange stands: what waits to go out, per peer, and what came in."""

    peers: dict[str, str]
    undelivered: dict[str, int]
    oldest_undelivered: datetime | None
    published: int
    received: dict[str, int]
    rejected: int
    conflicts: int


class SqlExchange:
    """The exchange's reads and the relay's side of the outbox, each in a short transaction of its own."""

    def __init__(self, engine: Engine, personal: PersonalData, node_state: str) -> None:
        self._engine = engine
        self._personal = personal
        self._node_state = node_state

    def pending(self, limit: int) -> list[OutgoingEvent]:
        """The oldest undelivered outbox rows (at most `limit`), with the signed bytes they name. A row whose
        record is gone (purged personal data) or superseded (an older trust section) is settled on the way."""
        out: list[OutgoingEvent] = []
        skipped: list[int] = []
        with Session(self._engine) as session:
            rows = session.scalars(
                select(OutboxRow).where(OutboxRow.published_at.is_(None)).order_by(OutboxRow.id).limit(limit)
            ).all()
            for row in rows:
                found = self._signed(session, Kind(row.kind), row.subject, row.seq)
                if found is None:
                    skipped.append(row.id)
                    continue
                record, signature = found
                out.append(
                    OutgoingEvent(
                        outbox_id=row.id,
                        event_id=row.event_id,
                        destination=row.destination,
                        origin=self._node_state,
                        kind=Kind(row.kind),
                        subject=row.subject,
                        seq=row.seq,
                        record=record,
                        signature=signature,
                    )
                )
        if skipped:
            self.mark_published(skipped)
        return out

    def mark_published(self, outbox_ids: Sequence[int]) -> None:
        if not outbox_ids:
            return
        with Session(self._engine) as session, session.begin():
            session.execute(
                update(OutboxRow).where(OutboxRow.id.in_(list(outbox_ids))).values(published_at=datetime.now(UTC))
            )

    def _signed(self, session: Session, kind: Kind, subject: str, seq: int) -> tuple[bytes, bytes] | None:
        if kind is Kind.TRUST:
            section = session.get(TrustSectionRow, subject.removeprefix("trust:"))
            if section is None or section.sequence != seq:
                return None
            return section.canonical, section.signature
        if kind is Kind.TRANSIT:
            row = session.execute(
                select(TransitEventRow.canonical, TransitEventRow.signature).where(
                    TransitEventRow.mrn == subject.removeprefix("transit:"), TransitEventRow.seq == seq
                )
            ).first()
            return None if row is None else (row.canonical, row.signature)
        visa = session.execute(
            select(VisaRecordRow.sealed, VisaRecordRow.signature).where(
                VisaRecordRow.subject == subject, VisaRecordRow.seq == seq
            )
        ).first()
        if visa is None or visa.sealed is None:
            return None
        return self._personal.open(visa.sealed, bound_to=f"{subject}#{seq}"), visa.signature

    def status(self) -> ExchangeStatus:
        with Session(self._engine) as session:
            undelivered = dict(
                session.execute(
                    select(OutboxRow.destination, func.count())
                    .where(OutboxRow.published_at.is_(None))
                    .group_by(OutboxRow.destination)
                ).all()
            )
            oldest = session.scalar(select(func.min(OutboxRow.created_at)).where(OutboxRow.published_at.is_(None)))
            published = session.scalar(select(func.count()).where(OutboxRow.published_at.is_not(None))) or 0
            received = dict(session.execute(select(InboxRow.outcome, func.count()).group_by(InboxRow.outcome)).all())
            return ExchangeStatus(
                peers=SqlPins(session).all(),
                undelivered={str(k): int(v) for k, v in undelivered.items()},
                oldest_undelivered=None if oldest is None else oldest.astimezone(UTC),
                published=int(published),
                received={str(k): int(v) for k, v in received.items()},
                rejected=int(session.scalar(select(func.count()).select_from(RejectionRow)) or 0),
                conflicts=int(session.scalar(select(func.count()).select_from(ConflictRow)) or 0),
            )

    def conflicts(self, subject: str | None = None, limit: int = 200) -> list[Conflict]:
        """The conflicts detected here, newest first (of one subject when given)."""
        query = select(ConflictRow).order_by(ConflictRow.detected_at.desc(), ConflictRow.id.desc()).limit(limit)
        if subject is not None:
            query = query.where(ConflictRow.subject == subject)
        with Session(self._engine) as session:
            return [
                Conflict(
                    id=r.id,
                    kind=r.kind,
                    subject=r.subject,
                    seq=r.seq,
                    code=r.code,
                    description=r.description,
                    origin=r.origin,
                    remote_type=r.remote_type,
                    remote_office=r.remote_office,
                    remote_at=r.remote_at,
                    stored=r.stored,
                    detected_at=r.detected_at,
                )
                for r in session.scalars(query)
            ]

    def rejections(self, limit: int = 200) -> list[tuple[str, str, str, str]]:
        """(event id, origin, code, reason) of the latest refused events."""
        with Session(self._engine) as session:
            rows = session.execute(
                select(RejectionRow.event_id, RejectionRow.origin, RejectionRow.code, RejectionRow.reason)
                .order_by(RejectionRow.id.desc())
                .limit(limit)
            ).all()
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def holds(self, subject: str) -> bool:
        """Whether anything of `subject` is stored here: its records, or an event of it waiting in the inbox."""
        with Session(self._engine) as session:
            if subject.startswith("transit:"):
                records = select(func.count()).where(TransitEventRow.mrn == subject.removeprefix("transit:"))
            else:
                records = select(func.count()).where(VisaRecordRow.subject == subject)
            waiting = select(func.count()).where(InboxRow.subject == subject, InboxRow.record.is_not(None))
            return bool(session.scalar(records)) or bool(session.scalar(waiting))


def _held(event_id: str) -> str:
    return f"inbox:{event_id}"

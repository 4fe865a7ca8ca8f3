"""The audit trail: administrative writes as signed, chained and logged records, and a state's whole trail read
back in log order for its admin's export.

A state's trail is every record signed with one of its keys: the transit events of its offices, the visa records
of its consulates and border posts, and the administrative records signed with its node key. Nothing here
updates or deletes a row; each record also sits in the transparency log, so an edit made behind the
application's back breaks the record's hash, its chain and the log's tree heads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from silkway.shared.audit import AuditEvent
from silkway.signing.records import SignedRecord, sign_record
from silkway.signing.trustlist import KeyUsage
from silkway.storage.personal import PersonalData
from silkway.storage.tables import AuditRecordRow, TransitEventRow, TrustKeyRow, VisaRecordRow
from silkway.storage.trust import SqlLedger

KIND = "audit"


class SqlAuditTrail:
    """Writes administrative records in the unit of work's transaction (the `AuditTrail` port)."""

    def __init__(self, session: Session, ledger: SqlLedger) -> None:
        self._session = session
        self._ledger = ledger

    def record(self, event: AuditEvent) -> None:
        last = self._session.execute(
            select(AuditRecordRow.seq, AuditRecordRow.hash)
            .where(AuditRecordRow.subject == event.subject)
            .order_by(AuditRecordRow.seq.desc())
            .limit(1)
        ).first()
        seq, prev = (1, None) if last is None else (last.seq + 1, last.hash)
        key = self._ledger.signing_key(event.state, usage=KeyUsage.NODE)
        record = sign_record(
            key=key,
            type=event.type,
            subject=event.subject,
            seq=seq,
            prev=prev,
            at=event.at,
            office=event.state,
            actor=event.actor.username,
            body=dict(event.details),
        )
        # the log's `ref` column is short; the full subject is on the audit row that the log index points back to
        [index] = self._ledger.append([(KIND, event.subject[:40], seq, record)])
        self._session.connection().execute(
            insert(AuditRecordRow).values(
                state=event.state,
                subject=event.subject,
                seq=seq,
                type=event.type,
                actor=event.actor.username,
                at=event.at,
                canonical=record.canonical,
                signature=record.signature,
                key_id=key.key_id,
                hash=record.hash,
                log_index=index,
            )
        )


@dataclass(frozen=True, slots=True)
class TrailEntry:
    """One signed record of a state's trail. `record` is None for a visa record whose personal data was purged
    at the end of its retention period: its hash and signature stay, so the log still verifies."""

    log_index: int
    kind: str
    subject: str
    seq: int
    type: str
    actor: str
    at: datetime
    key_id: str
    hash: str
    signature: bytes
    record: SignedRecord | None


class AuditTrailQueries:
    """Reads a state's audit trail in log order, a page at a time."""

    MAX_PAGE = 1000

    def __init__(self, engine: Engine, personal: PersonalData) -> None:
        self._engine = engine
        self._personal = personal

    def trail(self, state: str, *, after: int = -1, limit: int = MAX_PAGE) -> list[TrailEntry]:
        """The records signed for `state` whose log index is above `after`, oldest first, at most `limit`."""
        limit = max(1, min(limit, self.MAX_PAGE))
        with Session(self._engine) as session:
            keys = select(TrustKeyRow.key_id).where(TrustKeyRow.state == state).scalar_subquery()
            entries = self._transits(session, keys, after, limit)
            entries += self._visas(session, keys, after, limit)
            entries += self._administrative(session, state, after, limit)
        return sorted(entries, key=lambda e: e.log_index)[:limit]

    @staticmethod
    def _transits(session: Session, keys: ScalarSelect[str], after: int, limit: int) -> list[TrailEntry]:
        rows = session.scalars(
            select(TransitEventRow)
            .where(TransitEventRow.key_id.in_(keys), TransitEventRow.log_index > after)
            .order_by(TransitEventRow.log_index)
            .limit(limit)
        ).all()
        return [_entry(r, "transit", f"transit:{r.mrn}", SignedRecord(r.canonical, r.signature)) for r in rows]

    def _visas(self, session: Session, keys: ScalarSelect[str], after: int, limit: int) -> list[TrailEntry]:
        rows = session.scalars(
            select(VisaRecordRow)
            .where(VisaRecordRow.key_id.in_(keys), VisaRecordRow.log_index > after)
            .order_by(VisaRecordRow.log_index)
            .limit(limit)
        ).all()
        return [
            _entry(
                r,
                "visa",
                r.subject,
                None
                if r.sealed is None
                else SignedRecord(self._personal.open(r.sealed, bound_to=f"{r.subject}#{r.seq}"), r.signature),
            )
            for r in rows
        ]

    @staticmethod
    def _administrative(session: Session, state: str, after: int, limit: int) -> list[TrailEntry]:
        rows: Sequence[AuditRecordRow] = session.scalars(
            select(AuditRecordRow)
            .where(AuditRecordRow.state == state, AuditRecordRow.log_index > after)
            .order_by(AuditRecordRow.log_index)
            .limit(limit)
        ).all()
        return [_entry(r, KIND, r.subject, SignedRecord(r.canonical, r.signature)) for r in rows]


def _entry(
    row: TransitEventRow | VisaRecordRow | AuditRecordRow, kind: str, subject: str, record: SignedRecord | None
) -> TrailEntry:
    return TrailEntry(
        row.log_index, kind, subject, row.seq, row.type, row.actor, row.at, row.key_id, row.hash, row.signature, record
    )

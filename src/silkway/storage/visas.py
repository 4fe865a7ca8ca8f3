"""Visa files and alerts as signed records, encrypted at rest, with the projections queues and checks read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from silkway.shared.errors import ConcurrentUpdate, RecordsAltered
from silkway.shared.exchange import Kind
from silkway.signing.errors import MalformedRecord
from silkway.signing.records import SignedRecord, sign_record
from silkway.storage.exchange import SqlOutbox
from silkway.storage.personal import PersonalData
from silkway.storage.tables import (
    VisaAlertRow,
    VisaApplicationRow,
    VisaConsultationRow,
    VisaCrossingRow,
    VisaRecordRow,
    VisaRow,
    VisaSerialRow,
)
from silkway.storage.trust import SqlLedger
from silkway.visas.application import VisaApplication
from silkway.visas.events import (
    ApplicationRefused,
    BorderCrossed,
    ConsultationReplied,
    VisaEvent,
    VisaIssued,
    VisaRevoked,
    event_from_record,
)
from silkway.visas.model import Alert, Direction, VisaStatus
from silkway.visas.ports import CrossingFact
from silkway.visas.scheme import Retention, consular_office


def application_subject(application_id: str) -> str:
    return f"visa-application:{application_id}"


def alert_subject(alert_id: str) -> str:
    return f"alert:{alert_id}"


@dataclass(frozen=True, slots=True)
class StoredVisaRecord:
    """A visa record as stored: its signed bytes (None once purged), signature and place in the log."""

    record: SignedRecord | None
    hash: str
    signature: bytes
    key_id: str
    log_index: int
    type: str
    at: datetime
    office: str


def read_records(session: Session, personal: PersonalData, subject: str) -> list[StoredVisaRecord]:
    """The records of a subject in order, decrypted; integrity (hash and chain) checked.

    On a record whose bytes no longer match its hash or chain, raises `RecordsAltered`.
    """
    rows = session.scalars(
        select(VisaRecordRow).where(VisaRecordRow.subject == subject).order_by(VisaRecordRow.seq)
    ).all()
    out: list[StoredVisaRecord] = []
    prev: str | None = None
    for expected, row in enumerate(rows, start=1):
        record = None
        if row.sealed is not None:
            record = SignedRecord(
                canonical=personal.open(row.sealed, bound_to=f"{subject}#{row.seq}"), signature=row.signature
            )
            try:
                fields = record.fields
            except MalformedRecord:
                fields = {}
            if record.hash != row.hash or fields.get("prev") != prev or fields.get("seq") != row.seq:
                raise RecordsAltered(f"the records of {subject} fail their integrity check at record {row.seq}")
        if row.seq != expected:
            raise RecordsAltered(f"the records of {subject} have a gap before record {row.seq}")
        prev = row.hash
        out.append(
            StoredVisaRecord(
                record=record,
                hash=row.hash,
                signature=row.signature,
                key_id=row.key_id,
                log_index=row.log_index,
                type=row.type,
                at=row.at,
                office=row.office,
            )
        )
    return out


class SqlVisaRepository:
    """Visa files as their signed records: each new event signed by its office, chained, logged and encrypted
    in the same transaction as the change; the projections updated beside them."""

    def __init__(
        self,
        session: Session,
        personal: PersonalData,
        retention: Retention,
        ledger: SqlLedger | None = None,
        outbox: SqlOutbox | None = None,
    ) -> None:
        self._session = session
        self._personal = personal
        self._retention = retention
        self._ledger = ledger
        self._outbox = outbox
        self._heads: dict[str, str] = {}

    def get(self, application_id: str, *, for_update: bool = True) -> VisaApplication | None:
        query = select(VisaApplicationRow.version, VisaApplicationRow.purged_at).where(
            VisaApplicationRow.id == application_id
        )
        if for_update:
            query = query.with_for_update()
        found = self._session.execute(query).first()
        if found is None or found.purged_at is not None:
            return None
        subject = application_subject(application_id)
        stored = read_records(self._session, self._personal, subject)
        events = [_event(s) for s in stored]
        file = VisaApplication.replay(application_id, events)
        if stored:
            self._heads[application_id] = stored[-1].hash
        if file.version != found.version:
            raise ConcurrentUpdate(f"visa application {application_id} changed while it was read; retry")
        return file

    def by_number(self, number: str, *, for_update: bool = True) -> VisaApplication | None:
        application_id = self._session.scalar(select(VisaRow.application_id).where(VisaRow.number == number))
        return None if application_id is None else self.get(application_id, for_update=for_update)

    def add(self, file: VisaApplication, *, token_digest: str) -> None:
        self._insert(file, token_digest=token_digest)
        self.save(file)

    def _insert(self, file: VisaApplication, *, token_digest: str) -> None:
        lodged = file.lodged
        a = lodged.applicant
        self._session.add(
            VisaApplicationRow(
                id=file.id,
                status=file.status.value,
                competent_state=lodged.competent_state,
                nationality=a.nationality,
                surname=a.surname,
                given_names=a.given_names,
                passport_lookup=self._personal.lookup(a.passport_number, a.nationality),
                token_digest=token_digest,
                arrive=lodged.plan.arrive,
                leave=lodged.plan.leave,
                lodged_at=lodged.at,
                consultation_until=lodged.consultation_until,
                decided_at=None,
                visa_number=None,
                version=0,
                purge_after=None,
                purged_at=None,
            )
        )
        self._session.flush()
        if lodged.consulted_states and lodged.consultation_until is not None:
            self._session.execute(
                insert(VisaConsultationRow),
                [
                    {"application_id": file.id, "state": s, "objection": None, "until": lodged.consultation_until}
                    for s in lodged.consulted_states
                ],
            )

    def save(self, file: VisaApplication) -> None:
        pending = file.pending_events
        if not pending:
            return
        subject = application_subject(file.id)
        self._bump(file)
        prev = self._heads.get(file.id)
        records = []
        for seq, event in enumerate(pending, start=file.version + 1):
            record = self._sign(subject, seq, prev, event.type, event.at, event.office, event.actor, event.body())
            records.append(record)
            prev = record.hash
        self._write(file, records)
        if self._outbox is not None:
            self._outbox.share(
                Kind.VISA, subject, file.concerned_states(), [(r.seq, r.hash) for r in records], at=pending[-1].at
            )

    def receive(self, file: VisaApplication, records: Sequence[SignedRecord]) -> None:
        """Store records other states signed, as they are: `file` holds them as pending events (accepted by the
        domain), `records` their signed bytes in order. A file with version 0 is new here; the traveller's
        status link works only on the node where the application was lodged."""
        if file.version == 0:
            self._insert(file, token_digest="")
        self._bump(file)
        self._write(file, records)

    def _bump(self, file: VisaApplication) -> None:
        """Move the file's version past its pending events, only if nobody else did since it was read."""
        result = self._session.execute(
            update(VisaApplicationRow)
            .where(VisaApplicationRow.id == file.id, VisaApplicationRow.version == file.version)
            .values(version=file.version + len(file.pending_events), status=file.status.value)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrentUpdate(f"visa application {file.id} was changed by someone else; retry")

    def _write(self, file: VisaApplication, records: Sequence[SignedRecord]) -> None:
        pending = file.pending_events
        new_version = file.version + len(pending)
        self._store(application_subject(file.id), "visa", file.id, [(r.seq, r) for r in records])
        self._heads[file.id] = records[-1].hash
        file.version = new_version
        for event in pending:
            self._project(file, event)

    def hashes(self, subject: str) -> list[str]:
        """The hashes of a subject's stored records, by sequence (empty when it is not held here)."""
        return list(
            self._session.scalars(
                select(VisaRecordRow.hash).where(VisaRecordRow.subject == subject).order_by(VisaRecordRow.seq)
            )
        )

    def next_number(self, state: str) -> str:
        updated = self._session.execute(
            update(VisaSerialRow)
            .where(VisaSerialRow.state == state)
            .values(last=VisaSerialRow.last + 1)
            .returning(VisaSerialRow.last)
        ).scalar_one_or_none()
        if updated is None:
            self._session.add(VisaSerialRow(state=state, last=1))
            self._session.flush()
            updated = 1
        return f"{state}{int(updated):07d}"

    def crossings_of(self, passport_number: str, nationality: str) -> Sequence[CrossingFact]:
        lookup = self._personal.lookup(passport_number, nationality)
        rows = self._session.execute(
            select(
                VisaCrossingRow.at,
                VisaCrossingRow.day,
                VisaCrossingRow.state,
                VisaCrossingRow.direction,
                VisaCrossingRow.visa_number,
            )
            .where(VisaCrossingRow.passport_lookup == lookup, VisaCrossingRow.allowed.is_(True))
            # a visa's crossings in the order its chain recorded them (rows are stored in chain order), not by
            # their times: those come from the clocks of different states' nodes, which may disagree by hours
            .order_by(
                func.min(VisaCrossingRow.at).over(partition_by=VisaCrossingRow.application_id),
                VisaCrossingRow.application_id,
                VisaCrossingRow.id,
            )
        ).all()
        return [
            CrossingFact(at=r.at, day=r.day, state=r.state, direction=Direction(r.direction), visa_number=r.visa_number)
            for r in rows
        ]

    def purge(self, today: date, now: datetime) -> tuple[int, int]:
        """Erase the personal data of files and alerts past their retention; returns (files, alerts) purged.

        What stays: each record's hash, signature and log entry (so the log still verifies), the visa's number
        and status (so a revoked visa stays refused), and counts for statistics.
        """
        app = VisaApplicationRow
        ids = self._session.scalars(
            select(app.id).where(app.purge_after < today, app.purged_at.is_(None)).with_for_update()
        ).all()
        for application_id in ids:
            self._session.execute(
                update(VisaRecordRow)
                .where(VisaRecordRow.subject == application_subject(application_id))
                .values(sealed=None)
            )
            self._session.execute(delete(VisaCrossingRow).where(VisaCrossingRow.application_id == application_id))
            self._session.execute(
                update(app)
                .where(app.id == application_id)
                .values(surname="", given_names="", passport_lookup="", token_digest="", purged_at=now)
            )
        cutoff = today - timedelta(days=self._retention.alert)
        expired = self._session.scalars(
            select(VisaAlertRow.id).where(
                ((VisaAlertRow.expires_on.is_not(None)) & (VisaAlertRow.expires_on < today))
                | (VisaAlertRow.entered_at < datetime.combine(cutoff, datetime.min.time(), tzinfo=now.tzinfo))
            )
        ).all()
        for alert_id in expired:
            self._session.execute(
                update(VisaRecordRow).where(VisaRecordRow.subject == alert_subject(alert_id)).values(sealed=None)
            )
            self._session.execute(delete(VisaAlertRow).where(VisaAlertRow.id == alert_id))
        return len(ids), len(expired)

    # -- storing ---------------------------------------------------------------------------------------------

    def _sign(
        self,
        subject: str,
        seq: int,
        prev: str | None,
        type_: str,
        at: datetime,
        office: str,
        actor: str,
        body: dict[str, object],
    ) -> SignedRecord:
        if self._ledger is None:
            raise RuntimeError("this repository reads only: it was opened without a ledger to sign with")
        return sign_record(
            key=self._ledger.signing_key(office),
            type=type_,
            subject=subject,
            seq=seq,
            prev=prev,
            at=at,
            office=office,
            actor=actor,
            body=body,
        )

    def _store(self, subject: str, kind: str, ref: str, signed: Sequence[tuple[int, SignedRecord]]) -> None:
        if self._ledger is None:
            raise RuntimeError("this repository reads only: it was opened without a ledger to log with")
        indices = self._ledger.append((kind, ref, seq, record) for seq, record in signed)
        self._session.execute(
            insert(VisaRecordRow),
            [
                {
                    "subject": subject,
                    "seq": seq,
                    "type": record.fields["type"],
                    "office": record.fields["office"],
                    "actor": record.fields["actor"],
                    "at": record.at,
                    "sealed": self._personal.seal(record.canonical, bound_to=f"{subject}#{seq}"),
                    "signature": record.signature,
                    "key_id": record.key_id,
                    "hash": record.hash,
                    "log_index": index,
                }
                for (seq, record), index in zip(signed, indices, strict=True)
            ],
        )

    def _project(self, file: VisaApplication, event: VisaEvent) -> None:
        app = VisaApplicationRow
        match event:
            case ConsultationReplied():
                self._session.execute(
                    update(VisaConsultationRow)
                    .where(VisaConsultationRow.application_id == file.id, VisaConsultationRow.state == event.state)
                    .values(objection=event.objection)
                )
            case ApplicationRefused():
                purge = event.at.date() + timedelta(days=self._retention.application_refused)
                self._session.execute(
                    update(app).where(app.id == file.id).values(decided_at=event.at, purge_after=purge)
                )
            case VisaIssued():
                terms = event.terms
                purge = terms.valid_until + timedelta(days=self._retention.visa)
                self._session.execute(
                    update(app)
                    .where(app.id == file.id)
                    .values(decided_at=event.at, visa_number=event.number, purge_after=purge)
                )
                self._session.add(
                    VisaRow(
                        number=event.number,
                        application_id=file.id,
                        issuing_state=event.issuing_state,
                        nationality=file.applicant.nationality,
                        status=VisaStatus.VALID.value,
                        limited=terms.limited,
                        valid_from=terms.valid_from,
                        valid_until=terms.valid_until,
                        issued_at=event.at,
                        revoked_at=None,
                        revoked_by=None,
                    )
                )
                self._session.flush()
            case VisaRevoked():
                assert file.visa is not None
                self._session.execute(
                    update(VisaRow)
                    .where(VisaRow.number == file.visa.number)
                    .values(status=file.visa.status.value, revoked_at=event.at, revoked_by=event.state)
                )
            case BorderCrossed():
                assert file.visa is not None
                a = file.applicant
                self._session.add(
                    VisaCrossingRow(
                        application_id=file.id,
                        visa_number=file.visa.number,
                        passport_lookup=self._personal.lookup(a.passport_number, a.nationality),
                        state=event.state,
                        office=event.office,
                        direction=event.direction.value,
                        at=event.at,
                        day=event.day,
                        allowed=event.allowed,
                        flags=",".join(event.flags)[:200],
                        overstay_days=event.overstay_days,
                        latest_exit=event.latest_exit,
                    )
                )
                crossing_purge = event.day + timedelta(days=self._retention.crossing)
                current = self._session.scalar(select(app.purge_after).where(app.id == file.id))
                if current is None or current < crossing_purge:
                    self._session.execute(update(app).where(app.id == file.id).values(purge_after=crossing_purge))
            case _:
                pass


class SqlAlertRepository:
    """The shared alert list: each entry a signed record of the entering state's consular service."""

    def __init__(
        self, session: Session, personal: PersonalData, ledger: SqlLedger | None = None, outbox: SqlOutbox | None = None
    ) -> None:
        self._session = session
        self._personal = personal
        self._ledger = ledger
        self._outbox = outbox

    def add(self, alert: Alert) -> None:
        if self._ledger is None:
            raise RuntimeError("this repository reads only")
        office = consular_office(alert.state)
        record = sign_record(
            key=self._ledger.signing_key(office),
            type="alert_entered",
            subject=alert_subject(alert.id),
            seq=1,
            prev=None,
            at=alert.entered_at,
            office=office,
            actor=alert.entered_by,
            body=alert_body(alert),
        )
        self._write(alert, record)
        if self._outbox is not None:
            # the alert list is shared by every state of the scheme: every peer is concerned
            self._outbox.share(Kind.ALERT, alert_subject(alert.id), None, [(1, record.hash)], at=alert.entered_at)

    def receive(self, alert: Alert, record: SignedRecord) -> None:
        """Store an alert another state entered, as its consular service signed it."""
        self._write(alert, record)

    def _write(self, alert: Alert, record: SignedRecord) -> None:
        if self._ledger is None:
            raise RuntimeError("this repository reads only")
        subject = alert_subject(alert.id)
        office = str(record.fields["office"])
        self._session.add(
            VisaAlertRow(
                id=alert.id,
                state=alert.state,
                name=alert.name,
                date_of_birth=alert.date_of_birth,
                nationality=alert.nationality,
                reason=alert.reason,
                entered_at=alert.entered_at,
                entered_by=alert.entered_by,
                expires_on=alert.expires_on,
            )
        )
        self._session.flush()
        (index,) = self._ledger.append([("alert", alert.id, 1, record)])
        self._session.add(
            VisaRecordRow(
                subject=subject,
                seq=1,
                type="alert_entered",
                office=office,
                actor=alert.entered_by,
                at=alert.entered_at,
                sealed=self._personal.seal(record.canonical, bound_to=f"{subject}#1"),
                signature=record.signature,
                key_id=record.key_id,
                hash=record.hash,
                log_index=index,
            )
        )

    def active(self, on: date) -> Sequence[Alert]:
        rows = self._session.scalars(
            select(VisaAlertRow)
            .where((VisaAlertRow.expires_on.is_(None)) | (VisaAlertRow.expires_on >= on))
            .order_by(VisaAlertRow.entered_at)
        ).all()
        return [
            Alert(
                id=r.id,
                state=r.state,
                name=r.name,
                date_of_birth=r.date_of_birth,
                nationality=r.nationality,
                reason=r.reason,
                entered_at=r.entered_at,
                entered_by=r.entered_by,
                expires_on=r.expires_on,
            )
            for r in rows
        ]


def alert_body(alert: Alert) -> dict[str, object]:
    """The signed fields of an alert entry, beside the record envelope."""
    return {
        "state": alert.state,
        "name": alert.name,
        "date_of_birth": None if alert.date_of_birth is None else alert.date_of_birth.isoformat(),
        "nationality": alert.nationality,
        "reason": alert.reason,
        "expires_on": None if alert.expires_on is None else alert.expires_on.isoformat(),
    }


def alert_from_record(alert_id: str, record: SignedRecord) -> Alert:
    """The alert a signed `alert_entered` record states. On fields that are not an alert, raises `ValueError`."""
    f = record.fields
    if f.get("type") != "alert_entered":
        raise ValueError(f"not an alert record: {f.get('type')!r}")
    try:
        return Alert(
            id=alert_id,
            state=str(f["state"]),
            name=str(f["name"]),
            date_of_birth=None if f.get("date_of_birth") is None else date.fromisoformat(str(f["date_of_birth"])),
            nationality=None if f.get("nationality") is None else str(f["nationality"]),
            reason=str(f["reason"]),
            entered_at=record.at,
            entered_by=str(f["actor"]),
            expires_on=None if f.get("expires_on") is None else date.fromisoformat(str(f["expires_on"])),
        )
    except KeyError as exc:
        raise ValueError(f"an alert record lacks {exc}") from None


def _event(stored: StoredVisaRecord) -> VisaEvent:
    if stored.record is None:
        raise RecordsAltered("a purged record was asked for as a live one")
    record = stored.record
    return event_from_record(
        stored.type, at=record.at, actor=record.fields["actor"], office=stored.office, body=record.body()
    )

"""Repositories: translate between domain objects and rows, by hand, in both directions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from silkway.accounts.model import Account, FailedSignIns
from silkway.shared.actors import Role
from silkway.shared.errors import ConcurrentUpdate, RecordsAltered
from silkway.shared.exchange import Kind
from silkway.shared.idempotency import IdempotencyKey, StoredResponse
from silkway.shared.money import Money
from silkway.shared.mrn import Mrn
from silkway.signing.errors import MalformedRecord
from silkway.signing.records import SignedRecord, sign_record
from silkway.storage.exchange import SqlOutbox
from silkway.storage.tables import (
    AccountRow,
    GuaranteeRow,
    IdempotencyRow,
    MrnSerialRow,
    RiskRuleRow,
    TransitEventRow,
    TransitOfficeRow,
    TransitRow,
)
from silkway.storage.trust import SqlLedger
from silkway.transit.events import ArrivalRecorded, TransitEvent, VehiclePresented, event_from_record
from silkway.transit.lifecycle import CLOSED, Transit
from silkway.transit.model import ControlKind, Guarantee
from silkway.transit.ports import Places
from silkway.transit.risk import RiskRule


class SqlTransitRepository:
    """Transits as their signed event records: each new event is signed by its office, chained to the one
    before and appended to the transparency log in the same transaction as the change."""

    def __init__(
        self, session: Session, places: Places, ledger: SqlLedger | None = None, outbox: SqlOutbox | None = None
    ) -> None:
        self._session = session
        self._places = places
        self._ledger = ledger
        self._outbox = outbox
        self._heads: dict[str, str] = {}  # mrn → hash of its latest stored record, for the next `prev`

    def get(self, mrn: Mrn, *, for_update: bool = True) -> Transit | None:
        query = select(TransitRow.version).where(TransitRow.mrn == mrn)
        if for_update:
            query = query.with_for_update()
        version = self._session.scalar(query)
        if version is None:
            return None
        rows = self._session.scalars(
            select(TransitEventRow).where(TransitEventRow.mrn == mrn).order_by(TransitEventRow.seq)
        ).all()
        records = [SignedRecord(canonical=row.canonical, signature=row.signature) for row in rows]
        _check_integrity(mrn, rows, records)
        transit = Transit.replay(mrn, [_event(row, record) for row, record in zip(rows, records, strict=True)])
        if rows:
            self._heads[mrn] = rows[-1].hash
        if transit.version != version:
            raise ConcurrentUpdate(f"transit {mrn} changed while it was read; retry")
        return transit

    def add(self, transit: Transit) -> None:
        self._insert(transit)
        self.save(transit)

    def _insert(self, transit: Transit) -> None:
        d = transit.declaration
        now = transit.events[-1].at
        self._session.add(
            TransitRow(
                mrn=transit.mrn,
                status=transit.status.value,
                holder=d.holder,
                departure_office=d.itinerary.departure,
                destination_office=d.itinerary.destination,
                plate=None if d.vehicle is None else d.vehicle.plate,
                guarantee_reference=d.guarantee.reference,
                guarantee_amount=d.guarantee.amount.amount,
                version=0,
                submitted_at=now,
                updated_at=now,
            )
        )
        self._session.flush()
        self._session.execute(
            insert(TransitOfficeRow),
            [
                {
                    "mrn": transit.mrn,
                    "position": i,
                    "office": code,
                    "country": self._places.office_country(code),
                }
                for i, code in enumerate(d.itinerary.offices)
            ],
        )

    def save(self, transit: Transit) -> None:
        pending = transit.pending_events
        if not pending:
            return
        if self._ledger is None:
            raise RuntimeError("this repository reads only: it was opened without a ledger to sign with")
        self._bump(transit)
        prev = self._heads.get(transit.mrn)
        records = []
        for seq, event in enumerate(pending, start=transit.version + 1):
            office = event.office or transit.declaration.itinerary.departure
            record = sign_record(
                key=self._ledger.signing_key(office),
                type=event.type,
                subject=f"transit:{transit.mrn}",
                seq=seq,
                prev=prev,
                at=event.at,
                office=office,
                actor=event.actor,
                body=event.body(),
            )
            records.append(record)
            prev = record.hash
        self._write(transit, records)
        if self._outbox is not None:
            self._outbox.share(
                Kind.TRANSIT,
                f"transit:{transit.mrn}",
                transit.concerned_states(self._places.office_country),
                [(r.seq, r.hash) for r in records],
                at=pending[-1].at,
            )

    def receive(self, transit: Transit, records: Sequence[SignedRecord]) -> None:
        """Store records another state's offices signed, as they are: `transit` holds them as pending events
        (accepted by the domain), `records` their signed bytes in the same order. A transit with version 0 is
        new here. Nothing is shared onwards: the recording node shares with every state concerned itself."""
        if transit.version == 0:
            self._insert(transit)
        self._bump(transit)
        self._write(transit, records)

    def _bump(self, transit: Transit) -> None:
        """Move the transit's version past its pending events, only if nobody else did since it was read."""
        pending = transit.pending_events
        result = self._session.execute(
            update(TransitRow)
            .where(TransitRow.mrn == transit.mrn, TransitRow.version == transit.version)
            .values(version=transit.version + len(pending), status=transit.status.value, updated_at=pending[-1].at)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrentUpdate(f"transit {transit.mrn} was changed by someone else; retry")

    def _write(self, transit: Transit, records: Sequence[SignedRecord]) -> None:
        pending = transit.pending_events
        new_version = transit.version + len(pending)
        if self._ledger is None:
            raise RuntimeError("this repository reads only: it was opened without a ledger to log with")
        indices = self._ledger.append(("transit", transit.mrn, r.seq, r) for r in records)
        self._session.execute(
            insert(TransitEventRow),
            [
                {
                    "mrn": transit.mrn,
                    "seq": record.seq,
                    "type": event.type,
                    "office": record.fields["office"],
                    "actor": event.actor,
                    "at": event.at,
                    "canonical": record.canonical,
                    "signature": record.signature,
                    "key_id": record.key_id,
                    "hash": record.hash,
                    "decision": _decision(event),
                    "log_index": index,
                }
                for event, record, index in zip(pending, records, indices, strict=True)
            ],
        )
        self._heads[transit.mrn] = records[-1].hash
        transit.version = new_version

    def hashes(self, mrn: str) -> list[str]:
        """The hashes of the transit's stored records, by sequence (empty when it is not held here)."""
        return list(
            self._session.scalars(
                select(TransitEventRow.hash).where(TransitEventRow.mrn == mrn).order_by(TransitEventRow.seq)
            )
        )

    def next_serial(self, country: str, year: int) -> int:
        updated = self._session.execute(
            update(MrnSerialRow)
            .where(MrnSerialRow.country == country, MrnSerialRow.year == year)
            .values(last=MrnSerialRow.last + 1)
            .returning(MrnSerialRow.last)
        ).scalar_one_or_none()
        if updated is not None:
            return int(updated)
        self._session.add(MrnSerialRow(country=country, year=year, last=1))
        self._session.flush()
        return 1

    def committed(self, guarantee: str) -> Decimal:
        total = self._session.scalar(
            select(func.coalesce(func.sum(TransitRow.guarantee_amount), 0)).where(
                TransitRow.guarantee_reference == guarantee,
                TransitRow.status.not_in([s.value for s in CLOSED]),
            )
        )
        return Decimal(str(total or 0))


def _check_integrity(mrn: str, rows: Sequence[TransitEventRow], records: Sequence[SignedRecord]) -> None:
    """Refuse to act on records changed behind Silkway's back: each must hash to its stored hash and name its
    predecessor's. (Signatures are checked by whoever verifies against the trust list.)"""
    prev: str | None = None
    for expected_seq, (row, record) in enumerate(zip(rows, records, strict=True), start=1):
        try:
            fields = record.fields
        except MalformedRecord:
            fields = {}
        if row.seq != expected_seq or record.hash != row.hash or fields.get("prev") != prev:
            raise RecordsAltered(f"the records of transit {mrn} fail their integrity check at event {row.seq}.")
        prev = row.hash


def _event(row: TransitEventRow, record: SignedRecord) -> TransitEvent:
    # the signed bytes are the event: its fields are read from them, never from a second copy
    return event_from_record(row.type, at=record.at, actor=row.actor, office=row.office, body=record.body())


def _decision(event: TransitEvent) -> str | None:
    """The presentation decision, kept beside the record so statistics count it in SQL."""
    if isinstance(event, VehiclePresented | ArrivalRecorded):
        return event.decision.decision.value
    return None


class SqlGuaranteeRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, reference: str, *, for_update: bool = False) -> Guarantee | None:
        query = select(GuaranteeRow).where(GuaranteeRow.reference == reference)
        if for_update:
            query = query.with_for_update()
        row = self._session.scalar(query)
        if row is None:
            return None
        return Guarantee(
            reference=row.reference,
            holder=row.holder,
            cover=Money(amount=row.cover_amount, currency=row.currency),
            valid_until=row.valid_until,
            revoked=row.revoked,
        )

    def add(self, guarantee: Guarantee) -> None:
        self._session.add(
            GuaranteeRow(
                reference=guarantee.reference,
                holder=guarantee.holder,
                cover_amount=guarantee.cover.amount,
                currency=guarantee.cover.currency,
                valid_until=guarantee.valid_until,
                revoked=guarantee.revoked,
            )
        )


class SqlRiskRuleRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def for_country(self, country: str) -> Sequence[RiskRule]:
        rows = self._session.scalars(
            select(RiskRuleRow).where(RiskRuleRow.country == country).order_by(RiskRuleRow.id)
        ).all()
        return [_rule(row) for row in rows]

    def get(self, country: str, rule_id: str) -> RiskRule | None:
        row = self._session.get(RiskRuleRow, (country, rule_id))
        return None if row is None else _rule(row)

    def put(self, rule: RiskRule) -> None:
        self._session.merge(
            RiskRuleRow(
                country=rule.country,
                id=rule.id,
                description=rule.description,
                hs_prefix=rule.hs_prefix,
                departure_country=rule.departure_country,
                min_value_amount=None if rule.min_value_per_kg is None else rule.min_value_per_kg.amount,
                min_value_currency=None if rule.min_value_per_kg is None else rule.min_value_per_kg.currency,
                sampling_rate=rule.sampling_rate,
                seed=rule.seed,
                required_control=None if rule.required_control is None else rule.required_control.value,
                active=rule.active,
            )
        )

    def delete(self, country: str, rule_id: str) -> bool:
        result = self._session.execute(
            delete(RiskRuleRow).where(RiskRuleRow.country == country, RiskRuleRow.id == rule_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _rule(row: RiskRuleRow) -> RiskRule:
    floor = None
    if row.min_value_amount is not None and row.min_value_currency is not None:
        floor = Money(amount=row.min_value_amount, currency=row.min_value_currency)
    return RiskRule(
        id=row.id,
        country=row.country,
        description=row.description,
        hs_prefix=row.hs_prefix,
        departure_country=row.departure_country,
        min_value_per_kg=floor,
        sampling_rate=row.sampling_rate,
        seed=row.seed,
        required_control=None if row.required_control is None else ControlKind(row.required_control),
        active=row.active,
    )


class SqlIdempotencyRecords:
    def __init__(self, session: Session) -> None:
        self._session = session

    def find(self, owner: str, key: str) -> tuple[str, StoredResponse | None] | None:
        row = self._session.get(IdempotencyRow, (owner, key))
        if row is None:
            return None
        stored = None if row.status is None or row.body is None else StoredResponse(status=row.status, body=row.body)
        return row.fingerprint, stored

    def claim(self, claim: IdempotencyKey) -> None:
        self._session.add(
            IdempotencyRow(
                owner=claim.owner,
                key=claim.key,
                fingerprint=claim.fingerprint,
                status=None,
                body=None,
                created_at=datetime.now(UTC),
            )
        )

    def answer(self, owner: str, key: str, response: StoredResponse) -> None:
        self._session.execute(
            update(IdempotencyRow)
            .where(IdempotencyRow.owner == owner, IdempotencyRow.key == key)
            .values(status=response.status, body=response.body)
        )


class SqlAccountRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, username: str) -> Account | None:
        """The account, its row locked until the transaction ends (PostgreSQL; SQLite's write transactions hold
        the whole database), so that counting a failed sign-in is one step even for parallel requests."""
        row = self._session.get(AccountRow, username, with_for_update=True)
        return None if row is None else _account(row)

    def add(self, account: Account) -> None:
        self._session.add(
            AccountRow(
                username=account.username,
                role=account.role.value,
                country=account.country,
                display_name=account.display_name,
                password_hash=account.password_hash,
                active=account.active,
                created_at=account.created_at,
                failed_sign_ins=account.failed_sign_ins.count,
                last_failed_sign_in=account.failed_sign_ins.latest,
            )
        )

    def update(self, account: Account) -> None:
        self._session.execute(
            update(AccountRow)
            .where(AccountRow.username == account.username)
            .values(
                role=account.role.value,
                display_name=account.display_name,
                password_hash=account.password_hash,
                active=account.active,
                failed_sign_ins=account.failed_sign_ins.count,
                last_failed_sign_in=account.failed_sign_ins.latest,
            )
        )

    def of_country(self, country: str) -> Sequence[Account]:
        rows = self._session.scalars(
            select(AccountRow).where(AccountRow.country == country).order_by(AccountRow.username)
        ).all()
        return [_account(row) for row in rows]


def _account(row: AccountRow) -> Account:
    return Account(
        username=row.username,
        role=Role(row.role),
        country=row.country,
        display_name=row.display_name,
        password_hash=row.password_hash,
        active=row.active,
        created_at=row.created_at,
        failed_sign_ins=FailedSignIns(count=row.failed_sign_ins, latest=row.last_failed_sign_in),
    )

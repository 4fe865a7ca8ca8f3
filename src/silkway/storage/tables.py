"""The tables. Typed columns, one UTC-aware datetime type, a naming convention for constraints."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Computed,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which forgets the zone) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Amount = Numeric(18, 2, asdecimal=True)


class Base(DeclarativeBase):
    metadata = metadata
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, Decimal: Amount}


class AccountRow(Base):
    __tablename__ = "accounts"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool]
    created_at: Mapped[datetime]
    failed_sign_ins: Mapped[int] = mapped_column(server_default="0")
    last_failed_sign_in: Mapped[datetime | None]


class LimitCounterRow(Base):
    """How often one client (an address, a username) did one thing (`scope`) in its current window: fixed from
    the window's first hit for rate limits, renewed by each hit for failed sign-ins of unknown usernames. The key
    is a keyed hash: the table names no address and no username. Rows past their window are purged as they go."""

    __tablename__ = "limit_counters"

    scope: Mapped[str] = mapped_column(String(24), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    hits: Mapped[int]
    since: Mapped[datetime]

    __table_args__ = (Index("ix_limit_counters_scope_since", "scope", "since"),)


class GuaranteeRow(Base):
    __tablename__ = "guarantees"

    reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64), index=True)
    cover_amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    valid_until: Mapped[datetime]
    revoked: Mapped[bool]


class TransitRow(Base):
    """The current state of a transit, projected from its events for lists and look-ups."""

    __tablename__ = "transits"

    mrn: Mapped[str] = mapped_column(String(18), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    holder: Mapped[str] = mapped_column(String(64), index=True)
    departure_office: Mapped[str] = mapped_column(String(40))
    destination_office: Mapped[str] = mapped_column(String(40))
    plate: Mapped[str | None] = mapped_column(String(20), index=True)
    plate_key: Mapped[str | None] = mapped_column(
        String(20), Computed("replace(replace(plate, ' ', ''), '-', '')", persisted=True), index=True
    )
    """The plate with spaces and dashes taken out, as an officer's look-up compares it; kept by the database."""
    guarantee_reference: Mapped[str] = mapped_column(String(40), index=True)
    guarantee_amount: Mapped[Decimal]
    version: Mapped[int]
    submitted_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class TransitOfficeRow(Base):
    """The offices of a transit's itinerary, so officers can find the transits that concern them."""

    __tablename__ = "transit_offices"

    mrn: Mapped[str] = mapped_column(ForeignKey("transits.mrn", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    office: Mapped[str] = mapped_column(String(40))
    country: Mapped[str] = mapped_column(String(2), index=True)


# by office, then MRN: "is this transit on that office's route?" is one look into the index
Index("ix_transit_offices_office", TransitOfficeRow.office, TransitOfficeRow.mrn)


class TransitEventRow(Base):
    __tablename__ = "transit_events"
    __table_args__ = (UniqueConstraint("mrn", "seq", name="uq_transit_events_mrn_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    mrn: Mapped[str] = mapped_column(ForeignKey("transits.mrn", ondelete="CASCADE"))
    seq: Mapped[int]
    type: Mapped[str] = mapped_column(String(40))
    office: Mapped[str | None] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)
    # the exact signed bytes (RFC 8785) and what proves them; the event's fields are read from `canonical`
    canonical: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(32), index=True)
    hash: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str | None] = mapped_column(String(10))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)


# by office and type, then MRN: "was this transit seen at that office?" is one look into the index
Index("ix_transit_events_office_type", TransitEventRow.office, TransitEventRow.type, TransitEventRow.mrn)


class MrnSerialRow(Base):
    __tablename__ = "mrn_serials"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int]


class RiskRuleRow(Base):
    __tablename__ = "risk_rules"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    hs_prefix: Mapped[str | None] = mapped_column(String(6))
    departure_country: Mapped[str | None] = mapped_column(String(2))
    min_value_amount: Mapped[Decimal | None]
    min_value_currency: Mapped[str | None] = mapped_column(String(3))
    sampling_rate: Mapped[Decimal | None] = mapped_column(Numeric(7, 6))
    seed: Mapped[str] = mapped_column(String(100))
    required_control: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool]


class IdempotencyRow(Base):
    __tablename__ = "idempotency_keys"

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None]
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class TrustKeyRow(Base):
    """A key of the trust list: a state's root, an office's signing key or a node's key.

    `sealed_private` holds the private key encrypted under the node's passphrase (see signing.keys.KeyVault),
    and only for keys of this node's own states; other states' keys arrive public-only.
    """

    __tablename__ = "trust_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(2), index=True)
    usage: Mapped[str] = mapped_column(String(10))
    office: Mapped[str | None] = mapped_column(String(40), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    certificate: Mapped[bytes | None] = mapped_column(LargeBinary)
    certificate_signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10))
    rotated_at: Mapped[datetime | None]
    compromised_at: Mapped[datetime | None]
    sealed_private: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class TrustSectionRow(Base):
    """A state's section of the trust list, exactly as its root signed it."""

    __tablename__ = "trust_sections"

    state: Mapped[str] = mapped_column(String(2), primary_key=True)
    sequence: Mapped[int]
    canonical: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime]


class LogStateRow(Base):
    """The size of the transparency log; its row lock orders appends."""

    __tablename__ = "log_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)


class LogLeafRow(Base):
    """One entry of the transparency log: the leaf hash of a record and where the record is kept."""

    __tablename__ = "log_leaves"

    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    ref: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int]


class LogNodeRow(Base):
    """The hash of a complete subtree of the log: leaves [idx·2^level, (idx+1)·2^level)."""

    __tablename__ = "log_nodes"

    level: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class VisaApplicationRow(Base):
    """A visa application's current state, projected from its records, for queues and look-ups.

    The passport number is never stored in clear: `passport_lookup` is a keyed hash to find it by, and the
    records that hold it are encrypted (see storage.personal).
    """

    __tablename__ = "visa_applications"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    competent_state: Mapped[str] = mapped_column(String(2), index=True)
    nationality: Mapped[str] = mapped_column(String(3), index=True)
    surname: Mapped[str] = mapped_column(String(100))
    given_names: Mapped[str] = mapped_column(String(100))
    passport_lookup: Mapped[str] = mapped_column(String(64), index=True)
    token_digest: Mapped[str] = mapped_column(String(64))
    arrive: Mapped[date] = mapped_column(Date)
    leave: Mapped[date] = mapped_column(Date)
    lodged_at: Mapped[datetime] = mapped_column(index=True)
    consultation_until: Mapped[datetime | None]
    decided_at: Mapped[datetime | None] = mapped_column(index=True)
    visa_number: Mapped[str | None] = mapped_column(String(9), unique=True)
    version: Mapped[int]
    purge_after: Mapped[date | None] = mapped_column(Date, index=True)
    purged_at: Mapped[datetime | None]


class VisaConsultationRow(Base):
    __tablename__ = "visa_consultations"

    application_id: Mapped[str] = mapped_column(
        ForeignKey("visa_applications.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(2), primary_key=True, index=True)
    objection: Mapped[bool | None]
    until: Mapped[datetime]


class VisaRow(Base):
    """An issued visa's current status, for border checks, revocation lists and statistics."""

    __tablename__ = "visas"

    number: Mapped[str] = mapped_column(String(9), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("visa_applications.id", ondelete="CASCADE"), index=True)
    issuing_state: Mapped[str] = mapped_column(String(2), index=True)
    nationality: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10))
    limited: Mapped[bool]
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(index=True)
    revoked_by: Mapped[str | None] = mapped_column(String(2))


class VisaRecordRow(Base):
    """A signed record of the visa domain (an application's events, an alert). `sealed` is the exact signed
    bytes encrypted at rest; `hash` and `signature` are public, so the log verifies even after a purge."""

    __tablename__ = "visa_records"
    __table_args__ = (UniqueConstraint("subject", "seq", name="uq_visa_records_subject_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int]
    type: Mapped[str] = mapped_column(String(40))
    office: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)  # None once purged
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(32), index=True)
    hash: Mapped[str] = mapped_column(String(64))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)


class AuditRecordRow(Base):
    """A signed record of an administrative write (an account, a risk rule, a guarantee, a sign-in lock-out),
    signed by the acting state's node key, chained per subject and appended to the transparency log like every
    other record. Rows are only ever inserted: no route updates or deletes them."""

    __tablename__ = "audit_records"
    __table_args__ = (UniqueConstraint("subject", "seq", name="uq_audit_records_subject_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    state: Mapped[str] = mapped_column(String(2))
    subject: Mapped[str] = mapped_column(String(80))
    seq: Mapped[int]
    type: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)
    canonical: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(32))
    hash: Mapped[str] = mapped_column(String(64))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)


# a state's trail in log order: the admin's export pages through it
Index("ix_audit_records_state", AuditRecordRow.state, AuditRecordRow.log_index)


class VisaCrossingRow(Base):
    """An allowed entry or exit (or a refused entry), for the stay rule and the overstayers list."""

    __tablename__ = "visa_crossings"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("visa_applications.id", ondelete="CASCADE"), index=True)
    visa_number: Mapped[str] = mapped_column(String(9), index=True)
    passport_lookup: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(2), index=True)
    office: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(5))
    at: Mapped[datetime] = mapped_column(index=True)
    day: Mapped[date] = mapped_column(Date)
    allowed: Mapped[bool]
    flags: Mapped[str] = mapped_column(String(200))
    overstay_days: Mapped[int]
    latest_exit: Mapped[date | None] = mapped_column(Date)


class VisaAlertRow(Base):
    """An entry of the shared alert list; its signed record is in `visa_records` under ``alert:<id>``."""

    __tablename__ = "visa_alerts"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    state: Mapped[str] = mapped_column(String(2), index=True)
    name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    nationality: Mapped[str | None] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(Text)
    entered_at: Mapped[datetime]
    entered_by: Mapped[str] = mapped_column(String(64))
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)


class VisaSerialRow(Base):
    __tablename__ = "visa_serials"

    state: Mapped[str] = mapped_column(String(2), primary_key=True)
    last: Mapped[int]


class TrustPinRow(Base):
    """A peer state's root key id, read out at the key ceremony: what this node trusts that state's section by.

    Pinned states are the node's peers: it shares with them and accepts their records; unpinning is leaving."""

    __tablename__ = "trust_pins"

    state: Mapped[str] = mapped_column(String(2), primary_key=True)
    root_key_id: Mapped[str] = mapped_column(String(32))
    pinned_at: Mapped[datetime]


class OutboxRow(Base):
    """A record to deliver to a peer state, written in the same transaction as the record itself.

    It names the record (kind, subject, seq); the relay reads the signed bytes when it publishes, so no second
    copy of personal data waits here."""

    __tablename__ = "exchange_outbox"
    __table_args__ = (UniqueConstraint("event_id", "destination", name="uq_exchange_outbox_event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64))
    destination: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(60))
    seq: Mapped[int]
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int]


class ShareRow(Base):
    """That a subject's records are shared with a state: later records follow; the first share sends them all."""

    __tablename__ = "exchange_shares"

    subject: Mapped[str] = mapped_column(String(60), primary_key=True)
    state: Mapped[str] = mapped_column(String(2), primary_key=True)
    shared_at: Mapped[datetime]


class InboxRow(Base):
    """A received event, by its id (the SHA-256 of its signed bytes): handled once, whatever the redeliveries.

    `outcome` is `applied`, `duplicate`, `conflict` or `waiting` (its predecessor, or what entitles this node
    to it, has not arrived); a waiting event keeps its bytes until it is applied."""

    __tablename__ = "exchange_inbox"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    origin: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(60), index=True)
    seq: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(10), index=True)
    record: Mapped[bytes | None] = mapped_column(LargeBinary)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    received_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]


class RejectionRow(Base):
    """An event refused before anything was stored (forged, replayed, from an unpinned state…), kept for review."""

    __tablename__ = "exchange_rejections"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(60))
    code: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(index=True)


class ConflictRow(Base):
    """Two facts that cannot both stand, as received: shown to officers, never merged.

    `local_hash` is this node's record at the same place (None when the received record was stored but
    contradicts an earlier one, as with two exits for one entry)."""

    __tablename__ = "exchange_conflicts"
    __table_args__ = (UniqueConstraint("remote_hash", name="uq_exchange_conflicts_remote_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(60), index=True)
    seq: Mapped[int]
    code: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(2))
    local_hash: Mapped[str | None] = mapped_column(String(64))
    remote_hash: Mapped[str] = mapped_column(String(64))
    remote_type: Mapped[str] = mapped_column(String(40))
    remote_office: Mapped[str] = mapped_column(String(40))
    remote_at: Mapped[datetime]
    stored: Mapped[bool]
    detected_at: Mapped[datetime] = mapped_column(index=True)

"""federation

The node's exchange with its peer states: pinned peer roots (the key ceremony), the outbox written with each
shared record, which subjects are shared with which state, the inbox of handled event ids, refused events,
and conflicting facts shown to officers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 12:32:17.865121
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import silkway.storage.tables

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exchange_conflicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=60), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=2), nullable=False),
        sa.Column("local_hash", sa.String(length=64), nullable=True),
        sa.Column("remote_hash", sa.String(length=64), nullable=False),
        sa.Column("remote_type", sa.String(length=40), nullable=False),
        sa.Column("remote_office", sa.String(length=40), nullable=False),
        sa.Column("remote_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("stored", sa.Boolean(), nullable=False),
        sa.Column("detected_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_conflicts")),
        sa.UniqueConstraint("remote_hash", name="uq_exchange_conflicts_remote_hash"),
    )
    with op.batch_alter_table("exchange_conflicts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_conflicts_detected_at"), ["detected_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_exchange_conflicts_subject"), ["subject"], unique=False)

    op.create_table(
        "exchange_inbox",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=2), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=60), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("record", sa.LargeBinary(), nullable=True),
        sa.Column("signature", sa.LargeBinary(), nullable=True),
        sa.Column("received_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("handled_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_exchange_inbox")),
    )
    with op.batch_alter_table("exchange_inbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_inbox_outcome"), ["outcome"], unique=False)
        batch_op.create_index(batch_op.f("ix_exchange_inbox_subject"), ["subject"], unique=False)

    op.create_table(
        "exchange_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("destination", sa.String(length=2), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=60), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("created_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("published_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_outbox")),
        sa.UniqueConstraint("event_id", "destination", name="uq_exchange_outbox_event_id"),
    )
    with op.batch_alter_table("exchange_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_outbox_published_at"), ["published_at"], unique=False)

    op.create_table(
        "exchange_rejections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=2), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=60), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_rejections")),
    )
    with op.batch_alter_table("exchange_rejections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_rejections_received_at"), ["received_at"], unique=False)

    op.create_table(
        "exchange_shares",
        sa.Column("subject", sa.String(length=60), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("shared_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject", "state", name=op.f("pk_exchange_shares")),
    )
    op.create_table(
        "trust_pins",
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("root_key_id", sa.String(length=32), nullable=False),
        sa.Column("pinned_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_trust_pins")),
    )


def downgrade() -> None:
    op.drop_table("trust_pins")
    op.drop_table("exchange_shares")
    with op.batch_alter_table("exchange_rejections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_rejections_received_at"))

    op.drop_table("exchange_rejections")
    with op.batch_alter_table("exchange_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_outbox_published_at"))

    op.drop_table("exchange_outbox")
    with op.batch_alter_table("exchange_inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_inbox_subject"))
        batch_op.drop_index(batch_op.f("ix_exchange_inbox_outcome"))

    op.drop_table("exchange_inbox")
    with op.batch_alter_table("exchange_conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_conflicts_subject"))
        batch_op.drop_index(batch_op.f("ix_exchange_conflicts_detected_at"))

    op.drop_table("exchange_conflicts")

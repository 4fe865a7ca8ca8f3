"""signed records and transparency log

Transit events become signed records: their exact RFC 8785 bytes, the office's signature, the key id, the
hash that chains the next record, and their place in the transparency log. Events recorded before signing
existed cannot be signed after the fact — that would put an office's name on something it never signed —
so the upgrade refuses a database that still holds them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 09:48:34.006540
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import silkway.storage.tables

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ENVELOPE = ("type", "subject", "seq", "prev", "at", "office", "actor", "key_id")


def upgrade() -> None:
    unsigned = op.get_bind().execute(sa.text("SELECT count(*) FROM transit_events")).scalar_one()
    if unsigned:
        raise RuntimeError(
            f"this database holds {unsigned} transit events recorded before signing; they cannot be signed "
            "after the fact. Start the pilot from a new database (remove var/silkway.db, then `make run`)."
        )
    op.create_table(
        "log_leaves",
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("index", name=op.f("pk_log_leaves")),
        sa.UniqueConstraint("leaf_hash", name=op.f("uq_log_leaves_leaf_hash")),
    )
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_log_nodes")),
    )
    op.create_table(
        "log_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_state")),
    )
    op.execute(sa.text("INSERT INTO log_state (id, size) VALUES (1, 0)"))
    op.create_table(
        "trust_keys",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("usage", sa.String(length=10), nullable=False),
        sa.Column("office", sa.String(length=40), nullable=True),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("certificate", sa.LargeBinary(), nullable=True),
        sa.Column("certificate_signature", sa.LargeBinary(), nullable=True),
        sa.Column("valid_from", silkway.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", silkway.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("rotated_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("compromised_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("sealed_private", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_trust_keys")),
    )
    with op.batch_alter_table("trust_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trust_keys_office"), ["office"], unique=False)
        batch_op.create_index(batch_op.f("ix_trust_keys_state"), ["state"], unique=False)

    op.create_table(
        "trust_sections",
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("canonical", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_trust_sections")),
    )
    with op.batch_alter_table("transit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("canonical", sa.LargeBinary(), nullable=False))
        batch_op.add_column(sa.Column("signature", sa.LargeBinary(), nullable=False))
        batch_op.add_column(sa.Column("key_id", sa.String(length=32), nullable=False))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=False))
        batch_op.add_column(sa.Column("decision", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("log_index", sa.BigInteger(), nullable=False))
        batch_op.create_index(batch_op.f("ix_transit_events_key_id"), ["key_id"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_transit_events_log_index"), ["log_index"])
        batch_op.drop_column("body")


def downgrade() -> None:
    # the unsigned form keeps each event's own fields, read back from its signed bytes
    with op.batch_alter_table("transit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body", sa.JSON(), nullable=True))
    bind = op.get_bind()
    events = sa.table(
        "transit_events",
        sa.column("id", sa.Integer),
        sa.column("canonical", sa.LargeBinary),
        sa.column("body", sa.JSON),
    )
    for row in bind.execute(sa.select(events.c.id, events.c.canonical)).all():
        record = json.loads(bytes(row.canonical))
        body = {k: v for k, v in record.items() if k not in ENVELOPE}
        bind.execute(events.update().where(events.c.id == row.id).values(body=body))
    with op.batch_alter_table("transit_events", schema=None) as batch_op:
        batch_op.alter_column("body", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_transit_events_log_index"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_transit_events_key_id"))
        batch_op.drop_column("log_index")
        batch_op.drop_column("decision")
        batch_op.drop_column("hash")
        batch_op.drop_column("key_id")
        batch_op.drop_column("signature")
        batch_op.drop_column("canonical")

    op.drop_table("trust_sections")
    with op.batch_alter_table("trust_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_keys_state"))
        batch_op.drop_index(batch_op.f("ix_trust_keys_office"))

    op.drop_table("trust_keys")
    op.drop_table("log_state")
    op.drop_table("log_nodes")
    op.drop_table("log_leaves")

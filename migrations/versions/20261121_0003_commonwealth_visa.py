"""commonwealth visa

Visa applications, visas, their signed records (encrypted at rest), border crossings, the shared alert list
and visa number serials. The records are in the transparency log, so a downgrade that would drop them while
the log keeps their leaves is refused once any exist.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 10:21:10.718708
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import silkway.storage.tables

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visa_alerts",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("nationality", sa.String(length=3), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("entered_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visa_alerts")),
    )
    with op.batch_alter_table("visa_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visa_alerts_expires_on"), ["expires_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_visa_alerts_state"), ["state"], unique=False)

    op.create_table(
        "visa_applications",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("competent_state", sa.String(length=2), nullable=False),
        sa.Column("nationality", sa.String(length=3), nullable=False),
        sa.Column("surname", sa.String(length=100), nullable=False),
        sa.Column("given_names", sa.String(length=100), nullable=False),
        sa.Column("passport_lookup", sa.String(length=64), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("arrive", sa.Date(), nullable=False),
        sa.Column("leave", sa.Date(), nullable=False),
        sa.Column("lodged_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("consultation_until", silkway.storage.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("visa_number", sa.String(length=9), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("purge_after", sa.Date(), nullable=True),
        sa.Column("purged_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visa_applications")),
        sa.UniqueConstraint("visa_number", name=op.f("uq_visa_applications_visa_number")),
    )
    with op.batch_alter_table("visa_applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visa_applications_competent_state"), ["competent_state"], unique=False)
        batch_op.create_index(batch_op.f("ix_visa_applications_lodged_at"), ["lodged_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_visa_applications_nationality"), ["nationality"], unique=False)
        batch_op.create_index(batch_op.f("ix_visa_applications_passport_lookup"), ["passport_lookup"], unique=False)
        batch_op.create_index(batch_op.f("ix_visa_applications_purge_after"), ["purge_after"], unique=False)
        batch_op.create_index(batch_op.f("ix_visa_applications_status"), ["status"], unique=False)

    op.create_table(
        "visa_records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("office", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visa_records")),
        sa.UniqueConstraint("log_index", name=op.f("uq_visa_records_log_index")),
        sa.UniqueConstraint("subject", "seq", name="uq_visa_records_subject_seq"),
    )
    with op.batch_alter_table("visa_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visa_records_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_visa_records_key_id"), ["key_id"], unique=False)

    op.create_table(
        "visa_serials",
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_visa_serials")),
    )
    op.create_table(
        "visa_consultations",
        sa.Column("application_id", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("objection", sa.Boolean(), nullable=True),
        sa.Column("until", silkway.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["visa_applications.id"],
            name=op.f("fk_visa_consultations_application_id_visa_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("application_id", "state", name=op.f("pk_visa_consultations")),
    )
    with op.batch_alter_table("visa_consultations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visa_consultations_state"), ["state"], unique=False)

    op.create_table(
        "visa_crossings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.String(length=16), nullable=False),
        sa.Column("visa_number", sa.String(length=9), nullable=False),
        sa.Column("passport_lookup", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("office", sa.String(length=40), nullable=False),
        sa.Column("direction", sa.String(length=5), nullable=False),
        sa.Column("at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("flags", sa.String(length=200), nullable=False),
        sa.Column("overstay_days", sa.Integer(), nullable=False),
        sa.Column("latest_exit", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["visa_applications.id"],
            name=op.f("fk_visa_crossings_application_id_visa_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visa_crossings")),
    )
    with op.batch_alter_table("visa_crossings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visa_crossings_application_id"), ["application_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_visa_crossings_passport_lookup"), ["passport_lookup"], unique=False)
        batch_op.create_index(batch_op.f("ix_visa_crossings_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_visa_crossings_visa_number"), ["visa_number"], unique=False)

    op.create_table(
        "visas",
        sa.Column("number", sa.String(length=9), nullable=False),
        sa.Column("application_id", sa.String(length=16), nullable=False),
        sa.Column("issuing_state", sa.String(length=2), nullable=False),
        sa.Column("nationality", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("limited", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("issued_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", silkway.storage.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["visa_applications.id"],
            name=op.f("fk_visas_application_id_visa_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_visas")),
    )
    with op.batch_alter_table("visas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visas_application_id"), ["application_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_visas_issuing_state"), ["issuing_state"], unique=False)


def downgrade() -> None:
    logged = op.get_bind().execute(sa.text("SELECT count(*) FROM visa_records")).scalar_one()
    if logged:
        raise RuntimeError(
            f"this database holds {logged} signed visa records that the transparency log refers to; "
            "they cannot be dropped. Downgrade a copy without visa data, or keep this revision."
        )
    with op.batch_alter_table("visas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visas_issuing_state"))
        batch_op.drop_index(batch_op.f("ix_visas_application_id"))

    op.drop_table("visas")
    with op.batch_alter_table("visa_crossings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visa_crossings_visa_number"))
        batch_op.drop_index(batch_op.f("ix_visa_crossings_state"))
        batch_op.drop_index(batch_op.f("ix_visa_crossings_passport_lookup"))
        batch_op.drop_index(batch_op.f("ix_visa_crossings_application_id"))

    op.drop_table("visa_crossings")
    with op.batch_alter_table("visa_consultations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visa_consultations_state"))

    op.drop_table("visa_consultations")
    op.drop_table("visa_serials")
    with op.batch_alter_table("visa_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visa_records_key_id"))
        batch_op.drop_index(batch_op.f("ix_visa_records_at"))

    op.drop_table("visa_records")
    with op.batch_alter_table("visa_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visa_applications_status"))
        batch_op.drop_index(batch_op.f("ix_visa_applications_purge_after"))
        batch_op.drop_index(batch_op.f("ix_visa_applications_passport_lookup"))
        batch_op.drop_index(batch_op.f("ix_visa_applications_nationality"))
        batch_op.drop_index(batch_op.f("ix_visa_applications_lodged_at"))
        batch_op.drop_index(batch_op.f("ix_visa_applications_competent_state"))

    op.drop_table("visa_applications")
    with op.batch_alter_table("visa_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visa_alerts_state"))
        batch_op.drop_index(batch_op.f("ix_visa_alerts_expires_on"))

    op.drop_table("visa_alerts")

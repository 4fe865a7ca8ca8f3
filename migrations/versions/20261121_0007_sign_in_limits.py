"""sign-in limits

- each account counts its failed sign-ins in a row (`failed_sign_ins`, `last_failed_sign_in`): enough of them
  lock it out for a while, and a success forgets them (`silkway.accounts.model.LockOut`);
- `limit_counters` counts what one client did in its current window — unsuccessful sign-ins per address and
  per username, visa applications per address, failed sign-ins with unknown usernames — so the limits hold
  across every worker process and a restart (`silkway.storage.limits`).

Both are additions: existing accounts start with no failures, and nothing is rebuilt on SQLite.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import silkway.storage.tables

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_sign_ins", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("last_failed_sign_in", silkway.storage.tables.UtcDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "limit_counters",
        sa.Column("scope", sa.String(length=24), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("since", silkway.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_limit_counters")),
    )
    with op.batch_alter_table("limit_counters", schema=None) as batch_op:
        batch_op.create_index("ix_limit_counters_scope_since", ["scope", "since"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("limit_counters", schema=None) as batch_op:
        batch_op.drop_index("ix_limit_counters_scope_since")
    op.drop_table("limit_counters")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("last_failed_sign_in")
        batch_op.drop_column("failed_sign_ins")

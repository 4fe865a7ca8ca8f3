"""officer look-ups

What an officer looks up must not read a year of traffic to answer:

- a vehicle's transits by its plate typed any way ("123 ABC-02", "123abc02"): the look-up compared every
  plate with its spaces and dashes taken out, for every transit ever lodged (half a second at a million
  transits). The bare plate is now a column the database keeps itself (generated from `plate`, so nothing
  writes it), with an index to find it by;
- the transits expected at an office, and those standing there: each candidate transit is asked whether it
  is on the office's route and whether it was seen there. The indexes of `transit_offices` by office and of
  `transit_events` by office and type now end with the MRN, so each question is one look into an index;
- the analyst's visa figures of a period: visas decided, issued and revoked, and entries and exits, are now
  found by their dates instead of by reading every visa and crossing of the node.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 14:50:00.000000
"""

from collections.abc import Sequence
from typing import Literal

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BARE_PLATE = "replace(replace(plate, ' ', ''), '-', '')"
DATED = (
    ("visa_applications", "decided_at"),
    ("visas", "issued_at"),
    ("visas", "revoked_at"),
    ("visa_crossings", "at"),
)


def _recreate() -> Literal["always", "auto"]:
    # SQLite adds a stored generated column only by making the table again; PostgreSQL alters it in place
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade() -> None:
    with op.batch_alter_table("transits", schema=None, recreate=_recreate()) as batch_op:
        batch_op.add_column(sa.Column("plate_key", sa.String(length=20), sa.Computed(BARE_PLATE, persisted=True)))
        batch_op.create_index(batch_op.f("ix_transits_plate_key"), ["plate_key"], unique=False)
    with op.batch_alter_table("transit_offices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transit_offices_office"))
        batch_op.create_index(batch_op.f("ix_transit_offices_office"), ["office", "mrn"], unique=False)
    with op.batch_alter_table("transit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_transit_events_office_type")
        batch_op.create_index("ix_transit_events_office_type", ["office", "type", "mrn"], unique=False)
    for table, column in DATED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(DATED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
    with op.batch_alter_table("transit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_transit_events_office_type")
        batch_op.create_index("ix_transit_events_office_type", ["office", "type"], unique=False)
    with op.batch_alter_table("transit_offices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transit_offices_office"))
        batch_op.create_index(batch_op.f("ix_transit_offices_office"), ["office"], unique=False)
    with op.batch_alter_table("transits", schema=None, recreate=_recreate()) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transits_plate_key"))
        batch_op.drop_column("plate_key")

"""Alembic environment: batch mode so every migration also runs on SQLite."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from silkway.storage.engine import make_engine
from silkway.storage.tables import metadata

config = context.config


def _url() -> str:
    url = config.attributes.get("url") or os.environ.get("SILKWAY_DATABASE_URL")
    if not url:
        raise SystemExit("set SILKWAY_DATABASE_URL (for example sqlite:///var/silkway.db)")
    return str(url)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, render_as_batch=True, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()

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


def _migrate(connection: Connection) -> None:
    """Run the migrations; on SQLite with foreign keys off while they run, checked before the commit.

    Batch mode changes a SQLite table by copying it into a new one and dropping the old. With foreign keys
    enforced, that drop deletes every row that refers to the table (ON DELETE CASCADE): upgrading a pilot's
    database would lose its transits' offices and events. SQLite ignores the pragma inside a transaction, so it
    is set on the driver's connection first; `foreign_key_check` then proves nothing was left dangling."""
    sqlite = connection.dialect.name == "sqlite" and not connection.in_transaction()
    if sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if dangling:
                    raise RuntimeError(f"the migration left rows whose references are gone: {dangling[:5]}")
    finally:
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _migrate(conn)
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, render_as_batch=True, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()

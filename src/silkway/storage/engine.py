"""Engines for SQLite (the embedded pilot) and PostgreSQL (a national node)."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import OperationalError

from silkway.shared.errors import ServiceUnavailable, StorageFull


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine with the settings each backend needs.

    On SQLite: WAL, a busy timeout, foreign keys on, and write transactions that take the write lock at
    BEGIN (`BEGIN IMMEDIATE`), so two writers queue instead of failing on lock upgrade.

    Statement parameters are kept out of error messages (`hide_parameters`): they hold names, passport digests
    and sealed personal data, and a database error is logged.
    """
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)
        _tune_sqlite(engine)
    else:
        engine = create_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, hide_parameters=True
        )
    event.listen(engine, "handle_error", _unavailable)
    return engine


def _unavailable(context: ExceptionContext) -> None:
    """A database that went away or refused for want of space is `ServiceUnavailable` (`StorageFull`) wherever it
    happens — in a unit of work, a read, a count — so every entrypoint answers it alike (503/507, an exit code).
    The pool's own liveness check is left alone: it reconnects quietly."""
    error = context.sqlalchemy_exception
    if context.is_pre_ping or not isinstance(error, OperationalError):
        return
    if _disk_full(error):
        raise StorageFull(
            "the node's disk is full: nothing of this request was recorded, and what was recorded before "
            "is intact; retry once the node's operator has freed space"
        ) from error
    raise ServiceUnavailable("the database is unavailable; nothing was recorded") from error


def _disk_full(error: OperationalError) -> bool:
    """Whether the database refused a write for want of space: SQLite's SQLITE_FULL ("database or disk is full",
    also its `max_page_count` reached) or PostgreSQL's disk_full (SQLSTATE 53100)."""
    cause = error.orig
    sqlite_code = getattr(cause, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int) and sqlite_code & 0xFF == sqlite3.SQLITE_FULL:
        return True
    return getattr(cause, "sqlstate", None) == "53100"


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("sqlite_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writer(engine: Engine) -> Engine:
    """The same engine, marked so that transactions on it are write transactions."""
    return engine.execution_options(sqlite_write=True)


def snapshot(engine: Engine) -> Engine:
    """The same engine, for reads that must agree with each other: on PostgreSQL each transaction reads one
    snapshot (REPEATABLE READ; a read-only one never fails to serialise), so a commit landing between two of
    its statements — an officer's, or a peer state's event being stored — cannot make them disagree. SQLite's
    transactions read one snapshot already."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="REPEATABLE READ")
    return engine

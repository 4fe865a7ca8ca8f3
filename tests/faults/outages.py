"""The database failing under a running node, as it fails in production, at a chosen moment of a request.

On PostgreSQL the failures are the server's own: a request's backend terminated by a second connection
(`pg_terminate_backend`, what an operator or a failover does) just before one of its statements runs, or the
database refusing every connection (`ALLOW_CONNECTIONS false`, every backend terminated). On SQLite, which has
no server to lose, the statement fails with the error SQLite gives when its file can no longer be read or
written (SQLITE_IOERR, "disk I/O error"), and a full disk is SQLite's own SQLITE_FULL (`PRAGMA max_page_count`).

The hooks are SQLAlchemy events on every engine, removed when the block ends; only statements on the database
under test, once armed, count.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import Any, Self

import psycopg
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import Pool


@dataclass
class Trip:
    """Where the database went away: the statement it failed on, or "COMMIT" (None while it has not)."""

    statement: str | None = None


def _libpq(url: str, database: str | None = None) -> str:
    """A libpq connection string for `url` (or another database on the same server)."""
    parsed = make_url(url)
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class Outage:
    """The database at `url` failing for real, during one `with` block of each method."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.backend = make_url(url).get_backend_name()
        self._database = make_url(url).database
        self._admin: psycopg.Connection[Any] | None = None  # the second connection that terminates backends

    def _ours(self, conn: Any) -> bool:
        return bool(conn.engine.url.database == self._database)

    def _gone(self, conn: Any) -> None:
        """The database goes away under `conn`, now."""
        if self.backend == "sqlite":
            raise sqlite3.OperationalError("disk I/O error")
        pid = conn.connection.driver_connection.info.backend_pid
        if self._admin is None:
            self._admin = psycopg.connect(_libpq(self.url, "postgres"), autocommit=True)
        # waits (up to 10 s) for the backend to be gone, so what comes next surely meets a dead connection
        self._admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the second connection (PostgreSQL), if one was opened."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None

    @contextmanager
    def during_write(self, step: int) -> Iterator[Trip]:
        """The database goes away at `step` of the next write transaction (a unit of work): just before its
        `step`-th statement runs, or, one step further, as it commits (PostgreSQL only: SQLite's COMMIT cannot
        be made to fail from outside). Past its last step the transaction is left alone. The second connection
        stays open for the next step: use the `Outage` as a context manager to close it."""
        trip = Trip()
        steps = 0
        committed = False

        def statement(conn: Any, cursor: Any, sql: str, params: Any, context: Any, executemany: bool) -> None:
            nonlocal steps
            if committed or trip.statement is not None or not self._ours(conn):
                return
            if not conn.get_execution_options().get("sqlite_write"):  # see storage.engine.writer
                return
            steps += 1
            if steps == step:
                trip.statement = sql
                self._gone(conn)

        def commit(conn: Any) -> None:
            nonlocal committed
            if committed or trip.statement is not None or not self._ours(conn):
                return
            if not conn.get_execution_options().get("sqlite_write"):
                return
            committed = True
            if steps + 1 == step and self.backend != "sqlite":
                trip.statement = "COMMIT"
                self._gone(conn)

        event.listen(Engine, "before_cursor_execute", statement)
        event.listen(Engine, "commit", commit)
        try:
            yield trip
        finally:
            event.remove(Engine, "before_cursor_execute", statement)
            event.remove(Engine, "commit", commit)

    @contextmanager
    def before(self, statement: str) -> Iterator[Trip]:
        """The database goes away just before the first statement (after entering) that starts with
        `statement`, whichever transaction runs it."""
        trip = Trip()

        def hook(conn: Any, cursor: Any, sql: str, params: Any, context: Any, executemany: bool) -> None:
            if trip.statement is None and self._ours(conn) and sql.lstrip().startswith(statement):
                trip.statement = sql
                self._gone(conn)

        event.listen(Engine, "before_cursor_execute", hook)
        try:
            yield trip
        finally:
            event.remove(Engine, "before_cursor_execute", hook)
            self.close()

    @contextmanager
    def down(self) -> Iterator[None]:
        """Nothing reaches the database until the block ends: on PostgreSQL it accepts no connection and every
        open one is terminated; on SQLite every statement fails with an I/O error."""
        if self.backend == "sqlite":

            def fail(conn: Any, cursor: Any, sql: str, params: Any, context: Any, executemany: bool) -> None:
                if self._ours(conn):
                    raise sqlite3.OperationalError("disk I/O error")

            event.listen(Engine, "before_cursor_execute", fail)
            try:
                yield
            finally:
                event.remove(Engine, "before_cursor_execute", fail)
            return
        name = self._database
        with psycopg.connect(_libpq(self.url, "postgres"), autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            admin.execute("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = %s", (name,))
            try:
                yield
            finally:
                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    @contextmanager
    def disk_full(self, table: str = "transit_events") -> Iterator[Disk]:
        """Writes that need more space fail as on a full disk, until `Disk.free` (or the block's end).

        SQLite answers SQLITE_FULL ("database or disk is full") as soon as its file would grow by a page, whatever
        the table: `PRAGMA max_page_count` is set on each connection as the pool hands it out, after a VACUUM
        left no free page inside the file. PostgreSQL answers SQLSTATE 53100 (disk_full) as a row is stored in
        `table`: a trigger raises what a full tablespace raises."""
        disk = Disk(self.url)
        if self.backend == "sqlite":
            # the file holds only live pages, as a disk that filled up: no free page inside it to take instead
            with closing(sqlite3.connect(make_url(self.url).database or "")) as vacuum:
                vacuum.execute("VACUUM")
            event.listen(Pool, "checkout", disk.on_checkout)
            try:
                yield disk
            finally:
                event.remove(Pool, "checkout", disk.on_checkout)
            return
        engine = create_engine(self.url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE FUNCTION silkway_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; "
                    "END $$"
                )
            )
            conn.execute(
                text(
                    f"CREATE TRIGGER silkway_disk_full BEFORE INSERT ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION silkway_disk_full()"
                )
            )
        disk.drop = lambda: _drop_trigger(engine, table)
        try:
            yield disk
        finally:
            disk.free()
            engine.dispose()


class Disk:
    """The full disk of `Outage.disk_full`; `free` gives the space back."""

    def __init__(self, url: str) -> None:
        self._path = os.path.realpath(make_url(url).database or "")
        self._full = True
        self._limits: dict[int, int] = {}  # each connection's own limit, to give back
        self.drop: Callable[[], None] | None = None

    def free(self) -> None:
        self._full = False
        if self.drop is not None:
            self.drop()
            self.drop = None

    def on_checkout(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        row = dbapi_connection.execute("PRAGMA database_list").fetchone()
        if row is None or os.path.realpath(str(row[2])) != self._path:
            return
        key = id(dbapi_connection)
        if key not in self._limits:
            self._limits[key] = int(dbapi_connection.execute("PRAGMA max_page_count").fetchone()[0])
        # asked for less than the file's size, SQLite sets the limit to the size itself: not one page more
        limit = 1 if self._full else self._limits[key]
        dbapi_connection.execute(f"PRAGMA max_page_count = {limit}")


def _drop_trigger(engine: Engine, table: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"DROP TRIGGER silkway_disk_full ON {table}"))
        conn.execute(text("DROP FUNCTION silkway_disk_full()"))

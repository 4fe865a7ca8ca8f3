"""Counters of what clients do, kept in the database so every worker process and a restarted server agree.

One row per (scope, client) in `limit_counters`: `hits` in the window that began at `since`. Each count is one
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` — atomic on PostgreSQL and SQLite alike, so parallel requests
from several processes all count, and one statement per request is all a count costs. Two kinds of window:

- fixed (the rate limits): the window starts at the first hit and lasts its length; the next hit after it
  starts a new one;
- renewed (failed sign-ins with unknown usernames, `silkway.accounts.ports.UnknownUsernames`): each hit moves
  `since` to itself, so the count is forgotten a window's length after the latest hit — as an account forgets
  its own failed sign-ins.

Clients are named by a keyed hash (HMAC-SHA-256 with the node's secret) of what identifies them, so the table
holds no client address and no username, and any length of username makes one short key. A row past its window
counts as no row; such rows are deleted now and then as counts are made.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, and_, case, delete, literal, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import ReturningInsert

from silkway.accounts.model import FailedSignIns
from silkway.storage.engine import writer
from silkway.storage.tables import LimitCounterRow

UNKNOWN_USERNAME = "sign_in_unknown"
"""The scope of failed sign-ins with usernames that name no account."""

PURGE_ONE_IN = 200
"""A count deletes its scope's expired rows once in this many, on average: rows stay few, writes stay one."""


@dataclass(frozen=True, slots=True)
class Count:
    """One thing to count: in `scope`, for the client `key`, in windows of `window`."""

    scope: str
    key: str
    window: timedelta
    renew: bool = False
    """Whether each hit restarts the window (forgetting comes a window after the latest hit)."""


@dataclass(frozen=True, slots=True)
class Tally:
    """A client's hits in its current window, and when that window began (its latest hit, for a renewed one);
    no hits and no start when it has none."""

    hits: int = 0
    since: datetime | None = None

    def ends(self, window: timedelta) -> datetime | None:
        return None if self.since is None else self.since + window


class SqlLimits:
    """Counts per client in the `limit_counters` table; implements `UnknownUsernames` too."""

    def __init__(self, engine: Engine, *, secret: str) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._secret = secret.encode()

    # --- the rate limits ---------------------------------------------------------------------------------

    def tallies(self, counts: Sequence[Count], *, now: datetime) -> list[Tally]:
        """The current tally of each of `counts` at `now`, without counting anything (one read)."""
        stored = self._stored(counts)
        return [_current(tally, count, now) for tally, count in zip(stored, counts, strict=True)]

    def count(self, counts: Sequence[Count], *, now: datetime) -> list[Tally]:
        """Add one hit at `now` to each of `counts`, in one transaction; the tallies with it."""
        purge = secrets.randbelow(PURGE_ONE_IN) == 0
        with self._writer.begin() as conn:
            tallies = []
            for count in counts:
                row = conn.execute(self._upsert(conn.dialect.name, count, now)).one()
                tallies.append(Tally(hits=row.hits, since=row.since))
            if purge:
                conn.execute(delete(LimitCounterRow).where(or_(*(_expired(count, now) for count in counts))))
        return tallies

    # --- `silkway.accounts.ports.UnknownUsernames` ---------------------------------------------------------

    def failed_sign_ins(self, username: str) -> FailedSignIns:
        # as stored: the domain itself forgets failures older than its lock-out's duration
        (tally,) = self._stored([_unknown(username, timedelta(0))])
        return FailedSignIns(count=tally.hits, latest=tally.since)

    def count_failed_sign_in(self, username: str, *, at: datetime, forget_after: timedelta) -> FailedSignIns:
        (tally,) = self.count([_unknown(username, forget_after)], now=at)
        return FailedSignIns(count=tally.hits, latest=tally.since)

    # --- the statements ------------------------------------------------------------------------------------

    def _stored(self, counts: Sequence[Count]) -> list[Tally]:
        keys = [(c.scope, self._digest(c)) for c in counts]
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(LimitCounterRow.scope, LimitCounterRow.key, LimitCounterRow.hits, LimitCounterRow.since).where(
                    tuple_(LimitCounterRow.scope, LimitCounterRow.key).in_(keys)
                )
            ).all()
        found = {(r.scope, r.key): Tally(hits=r.hits, since=r.since) for r in rows}
        return [found.get(key, Tally()) for key in keys]

    def _digest(self, count: Count) -> str:
        return hmac.new(self._secret, f"{count.scope}\n{count.key}".encode(), hashlib.sha256).hexdigest()[:32]

    def _upsert(self, dialect: str, count: Count, now: datetime) -> ReturningInsert[int, datetime]:
        row = LimitCounterRow
        insert = postgresql.insert(row) if dialect == "postgresql" else sqlite.insert(row)
        stmt = insert.values(scope=count.scope, key=self._digest(count), hits=1, since=now)
        running = row.since > now - count.window  # the stored window still runs at `now`
        since = stmt.excluded.since if count.renew else case((running, row.since), else_=stmt.excluded.since)
        return stmt.on_conflict_do_update(
            index_elements=[row.scope, row.key],
            set_={"hits": case((running, row.hits + 1), else_=literal(1)), "since": since},
        ).returning(row.hits, row.since)


def _unknown(username: str, forget_after: timedelta) -> Count:
    return Count(UNKNOWN_USERNAME, username, forget_after, renew=True)


def _current(tally: Tally, count: Count, now: datetime) -> Tally:
    """`tally` as it counts at `now`: nothing once its window is over."""
    if tally.since is None or now >= tally.since + count.window:
        return Tally()
    return tally


def _expired(count: Count, now: datetime) -> ColumnElement[bool]:
    return and_(LimitCounterRow.scope == count.scope, LimitCounterRow.since <= now - count.window)

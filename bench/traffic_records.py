"""The bytes of a year of traffic: signed records as the repositories make them, and COPY streams to load them.

A record is built exactly as `silkway.signing.records.sign_record` builds it (the same envelope, `instant` for
the time, the office's Ed25519 key), but canonicalised with the standard library's JSON encoder instead of the
pure-Python `rfc8785` package, which costs four times as much and would dominate a load of ten million
records. Both give the same bytes for the values records hold here — objects with ASCII keys, strings,
integers far below 2^53, booleans and null, never a float — and `Signer` proves it as it goes: every
`CHECK_EVERY`-th record is built again by the app's own `sign_record` and must come out byte for byte the
same, signature included (Ed25519 signatures are deterministic), or the load stops.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import psycopg
from psycopg import sql

from silkway.signing.encoding import instant
from silkway.signing.keys import SigningKey
from silkway.signing.records import sign_record

CHECK_EVERY = 1009
"""One record in this many is signed again by the app's `sign_record` and compared (a prime, so the check
walks over every kind of record)."""
EPOCH_US = int(datetime(1970, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)

_encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode


class Recorder(Protocol):
    """Where a worker's records go: their log entry at once, their row once the log has given them an index
    (`row` is the table's row without its last column, `log_index`)."""

    def __call__(
        self, at: datetime, leaf: bytes, kind: str, ref: str, seq: int, table: str, row: tuple[object, ...]
    ) -> None: ...


class NotCanonical(RuntimeError):
    """A record built here differs from the one the app's `sign_record` builds from the same fields."""


@dataclass(slots=True)
class Keys:
    """The active signing key of each office (by office code), unsealed from the node's trust tables, and
    its key id (worked out once: `SigningKey.key_id` derives it from the public key on every call)."""

    by_office: Mapping[str, SigningKey]
    ids: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = {office: key.key_id for office, key in self.by_office.items()}

    def __getitem__(self, office: str) -> SigningKey:
        return self.by_office[office]

    def seeds(self) -> dict[str, bytes]:
        """The keys as raw seeds, to hand to a worker process."""
        return {office: key.seed() for office, key in self.by_office.items()}

    @classmethod
    def from_seeds(cls, seeds: Mapping[str, bytes]) -> Keys:
        return cls({office: SigningKey.from_seed(seed) for office, seed in seeds.items()})


@dataclass(frozen=True, slots=True)
class Signed:
    """One signed record: its canonical bytes, hex SHA-256 (the next record's `prev`), signature and key id."""

    canonical: bytes
    hash: str
    signature: bytes
    key_id: str


@dataclass(slots=True)
class Signer:
    """Builds, canonicalises and signs records; counts them and checks a sample against `sign_record`."""

    keys: Keys
    made: int = 0
    checked: int = 0

    def sign(
        self,
        *,
        type: str,
        subject: str,
        seq: int,
        prev: str | None,
        at: datetime,
        office: str,
        actor: str,
        body: Mapping[str, object],
    ) -> Signed:
        key = self.keys[office]
        key_id = self.keys.ids[office]
        record: dict[str, object] = {
            "type": type,
            "subject": subject,
            "seq": seq,
            "prev": prev,
            "at": _instant(at),
            "office": office,
            "actor": actor,
            "key_id": key_id,
            **body,
        }
        data = _encode(record).encode("utf-8")
        signed = Signed(data, hashlib.sha256(data).hexdigest(), key.sign(data), key_id)
        self.made += 1
        if self.made % CHECK_EVERY == 1:
            self._check(signed, key, type, subject, seq, prev, at, office, actor, body)
        return signed

    def _check(
        self,
        signed: Signed,
        key: SigningKey,
        type: str,
        subject: str,
        seq: int,
        prev: str | None,
        at: datetime,
        office: str,
        actor: str,
        body: Mapping[str, object],
    ) -> None:
        reference = sign_record(
            key=key, type=type, subject=subject, seq=seq, prev=prev, at=at, office=office, actor=actor, body=body
        )
        if reference.canonical != signed.canonical or reference.signature != signed.signature:
            raise NotCanonical(f"record {subject}#{seq} ({type}) differs from the app's RFC 8785 form")
        self.checked += 1


def _instant(at: datetime) -> str:
    """`signing.encoding.instant` for the UTC instants of the generator, without `strftime`'s cost (the
    sampled check against `sign_record` compares the result)."""
    if at.utcoffset() != _ZERO:
        return instant(at)
    return (
        f"{at.year:04d}-{at.month:02d}-{at.day:02d}T{at.hour:02d}:{at.minute:02d}:{at.second:02d}.{at.microsecond:06d}Z"
    )


_ZERO = timedelta(0)


def micros(at: datetime) -> int:
    """An aware instant as microseconds since 1970, the log's sort key."""
    delta = at - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


# --- loading --------------------------------------------------------------------------------------


@dataclass(slots=True)
class Table:
    """One table loaded by COPY (binary) in its own transaction, after a TRUNCATE in that transaction, so the
    rows go in frozen (`COPY ... FREEZE`: no hint-bit rewrite and no vacuum afterwards). Rows that were there
    before (the demo data `load_demo` signed into the log) are read first and written back first."""

    name: str
    columns: Sequence[str]
    types: Sequence[str]
    connection: psycopg.Connection[Any]
    rows: int = 0
    _copy: Any = field(default=None, repr=False)
    _context: Any = field(default=None, repr=False)

    @classmethod
    def open(cls, url: str, name: str, columns: Sequence[str], types: Sequence[str]) -> Table:
        connection = psycopg.connect(url)
        bulk_session(connection)
        table = cls(name, columns, types, connection)
        table._start()
        return table

    def _start(self) -> None:
        cursor = self.connection.cursor()
        names = sql.SQL(", ").join(sql.Identifier(c) for c in self.columns)
        kept = cursor.execute(sql.SQL("SELECT {} FROM {}").format(names, sql.Identifier(self.name))).fetchall()
        cursor.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(self.name)))
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY, FREEZE)").format(sql.Identifier(self.name), names)
        self._context = cursor.copy(statement)
        self._copy = self._context.__enter__()
        self._copy.set_types(list(self.types))
        for row in kept:
            self.write(row)

    def write(self, row: Sequence[object]) -> None:
        self._copy.write_row(row)
        self.rows += 1

    def close(self) -> None:
        """End the COPY and commit."""
        self._context.__exit__(None, None, None)
        self.connection.commit()
        self.connection.close()


def bulk_session(connection: psycopg.Connection[Any]) -> None:
    """Session settings for a bulk load that are safe: a crash loses at most the last moments of an
    unfinished load, which is started again from scratch anyway; nothing is changed on the server."""
    connection.execute("SET synchronous_commit = off")
    connection.execute("SET maintenance_work_mem = '1GB'")
    connection.commit()

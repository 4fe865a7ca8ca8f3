"""A year of the region's traffic in a PostgreSQL database the application itself reads and verifies.

`build` makes the database the app's way — its Alembic migrations, its trust (`Services.establish_trust`),
its demo accounts, alerts and risk rules (`load_demo`), the carriers' guarantees through its repository —
and then loads a year of signed records at the speed of COPY:

- two worker processes drive the journeys (`traffic_transits`, `traffic_visas`) in time order, each through
  its domain's aggregate, and sign every record with its office's key (`traffic_records.Signer`);
- this process keeps the transparency log: day by day it merges the two workers' records by time, gives
  each its log index (the order the node would have appended them in), and appends their leaf hashes
  with `signing.merkle.completed_by_append`, writing `log_leaves` and `log_nodes` exactly as
  `storage.trust.SqlLedger.append` does;
- every table is filled by one COPY (binary, FREEZE) in its own transaction, with the indexes and
  constraints the migrations made dropped first and made again afterwards from their own definitions
  (checked equal to what the migrations left), then ANALYZE.

Nothing is written that the app would not write: the tests read the result back through the app.
"""

from __future__ import annotations

import heapq
import itertools
import math
import multiprocessing
import random
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from multiprocessing.queues import Queue
from typing import Any

import numpy as np
import psycopg
from sqlalchemy.engine import make_url

from bench.traffic_records import Keys, Signer, Table, bulk_session, micros
from bench.traffic_transits import EVENT_COLUMNS, OFFICE_COLUMNS, TRANSIT_COLUMNS, Carrier, TransitTraffic, carriers
from bench.traffic_visas import (
    APPLICATION_COLUMNS,
    CONSULTATION_COLUMNS,
    CROSSING_COLUMNS,
    RECORD_COLUMNS,
    VISA_COLUMNS,
    Frequent,
    VisaTraffic,
)
from silkway import bootstrap
from silkway.demo import load_demo
from silkway.places.reference import ReferenceData
from silkway.services import Services
from silkway.settings import Settings
from silkway.shared.clock import FixedClock
from silkway.shared.money import Money
from silkway.signing import merkle
from silkway.storage.personal import PersonalData
from silkway.transit.model import Guarantee
from silkway.transit.risk import RiskRule
from silkway.visas.scheme import Scheme

END = datetime(2027, 1, 1, tzinfo=UTC)
"""The node's "now" once the year is loaded: the benchmark reads the database as of this instant."""
YEAR_START = END - timedelta(days=365)
DRIVERS_FROM = END - timedelta(days=1040)
"""The frequent drivers' first journeys: some 2.8 years of history by the end of the year."""
TRUST_FROM = END - timedelta(days=1075)
"""When the node's keys were made: office keys are valid three years, so every record of the drivers' history
and of the year is signed within their validity, without a rotation."""
BULK_TABLES = (
    "transits",
    "transit_offices",
    "transit_events",
    "visa_applications",
    "visa_consultations",
    "visas",
    "visa_crossings",
    "visa_records",
    "log_leaves",
    "log_nodes",
)
DAYS_AHEAD = 8
"""How many days a worker may run ahead of the ledger (their rows wait in memory meanwhile)."""
APPLICATIONS_PER_VISA = 1.13
"""Applications lodged per visa wanted: some are refused, a few not yet decided when the year ends."""


@dataclass(frozen=True, slots=True)
class Scale:
    """How much traffic: transits and visas issued in the year, frequent drivers, carriers."""

    transits: int
    visas: int
    drivers: int
    carriers: int
    seed: int = 2026

    def __post_init__(self) -> None:
        for name in ("transits", "visas", "drivers", "carriers"):
            if getattr(self, name) < 1:
                raise ValueError(f"a scale needs at least one of each; {name} is {getattr(self, name)}")

    @classmethod
    def year(cls, fraction: float = 1.0, *, seed: int = 2026) -> Scale:
        """A year of the region (1 million transits, 1 million visas, 40 frequent drivers), or a fraction."""
        if not 0 < fraction <= 1:
            raise ValueError(f"a fraction of the year is in (0, 1], not {fraction}")
        return cls(
            transits=max(1, round(1_000_000 * fraction)),
            visas=max(1, round(1_000_000 * fraction)),
            drivers=max(1, round(40 * fraction)),
            carriers=max(1, round(2_000 * fraction)),
            seed=seed,
        )


@dataclass(slots=True)
class Dataset:
    """What `build` made: where, with which settings, how much of what, and how long each phase took."""

    url: str
    settings: Settings
    phases: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    log_size: int = 0
    frequent: list[Frequent] = field(default_factory=list)
    checked_records: int = 0
    indexes: dict[str, float] = field(default_factory=dict)
    """Seconds each index or constraint took to make again after the load."""

    def services(self) -> Services:
        """The app wired on this database as `bootstrap` wires it, its clock standing at the end of the year."""
        return bootstrap.build(self.settings, clock=FixedClock(END))


def build(
    admin_url: str, name: str, scale: Scale, *, env: str = "development", log: Callable[[str], None] = print
) -> Dataset:
    """Drop and make database `name` on the server of `admin_url`, and fill it with `scale`'s traffic."""
    url = make_url(admin_url).set(drivername="postgresql+psycopg", database=name).render_as_string(False)
    dataset = Dataset(url=url, settings=Settings(env=env, database_url=url))
    with _phase(dataset, "schema (Alembic migrations)", log):
        with psycopg.connect(_libpq(admin_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        bootstrap.migrate(url)
    rng = random.Random(scale.seed)
    with _phase(dataset, "trust, demo data and guarantees (through the app)", log):
        services = bootstrap.build(dataset.settings, clock=FixedClock(TRUST_FROM))
        try:
            load_demo(services)
            fleet = carriers(rng, services.reference, scale.carriers)
            _register_guarantees(services, fleet)
            keys = _office_keys(services)
            rules = {cc: list(services.queries.risk_rules(cc)) for cc in services.reference.member_states}
        finally:
            services.close()
    libpq = _libpq(url)
    with _phase(dataset, "indexes and constraints dropped", log):
        schema = Schema.stash(libpq)
    with _phase(dataset, "records generated, signed and copied", log):
        _load(dataset, libpq, scale, keys, rules, fleet, log)
    with _phase(dataset, "indexes and constraints made again", log):
        dataset.indexes = schema.restore(libpq)
    with _phase(dataset, "ANALYZE", log), psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute("ANALYZE")
    return dataset


# --- the load -------------------------------------------------------------------------------------


def _load(
    dataset: Dataset,
    url: str,
    scale: Scale,
    keys: Keys,
    rules: dict[str, list[RiskRule]],
    fleet: list[Carrier],
    log: Callable[[str], None],
) -> None:
    context = multiprocessing.get_context("fork")
    inbox: dict[str, Queue[Any]] = {"transits": context.Queue(), "visas": context.Queue()}
    outbox: dict[str, Queue[Any]] = {"transits": context.Queue(), "visas": context.Queue()}
    personal = (dataset.settings.key_passphrase, 10 if dataset.settings.env == "test" else 15)
    workers = [
        context.Process(
            target=_work,
            args=(domain, url, scale, keys.seeds(), personal, rules, fleet, outbox[domain], inbox[domain]),
            name=f"silkway-year-{domain}",
        )
        for domain in ("transits", "visas")
    ]
    for worker in workers:
        worker.start()
    try:
        ledger = Ledger.open(url)
        windows = _windows()
        started = time.perf_counter()
        for number, _ in enumerate(windows):
            batches = {domain: inbox[domain].get() for domain in ("transits", "visas")}
            for domain, batch in batches.items():
                if batch[0] == "failed":
                    raise RuntimeError(f"the {domain} worker failed: {batch[1]}")
            placed = ledger.merge(batches["transits"], batches["visas"])
            outbox["transits"].put(placed[0])
            outbox["visas"].put(placed[1])
            ledger.append_window()
            if number % 100 == 0 and number:
                log(f"day {number}/{len(windows)}: {ledger.size:,} log entries, {time.perf_counter() - started:.0f} s")
        summaries = {domain: inbox[domain].get() for domain in ("transits", "visas")}
        for domain, summary in summaries.items():
            if summary[0] == "failed":
                raise RuntimeError(f"the {domain} worker failed: {summary[1]}")
        ledger.close()
    finally:
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.terminate()
    for worker in workers:
        if worker.exitcode != 0:
            raise RuntimeError(f"{worker.name} exited with {worker.exitcode}")
    transit_summary, visa_summary = summaries["transits"][1], summaries["visas"][1]
    dataset.counts = {**transit_summary["counts"], **visa_summary["counts"]}
    dataset.frequent = visa_summary["frequent"]
    dataset.checked_records = transit_summary["checked"] + visa_summary["checked"]
    dataset.log_size = ledger.size
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE log_state SET size = %s WHERE id = 1", (ledger.size,))
        conn.cursor().executemany(
            "INSERT INTO mrn_serials (country, year, last) VALUES (%s, %s, %s)", transit_summary["serials"]
        )
        conn.cursor().executemany(
            "INSERT INTO visa_serials (state, last) VALUES (%s, %s) "
            "ON CONFLICT (state) DO UPDATE SET last = excluded.last",
            visa_summary["serials"],
        )


def _windows() -> list[datetime]:
    """The ends of the days the load goes through, from the node's first day to the end of the year."""
    first = datetime.combine(TRUST_FROM.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    days = (END - first).days
    return [first + timedelta(days=d) for d in range(days + 1)]


def _work(
    domain: str,
    url: str,
    scale: Scale,
    seeds: dict[str, bytes],
    personal_key: tuple[str, int],
    rules: dict[str, list[RiskRule]],
    fleet: list[Carrier],
    inbox: Queue[Any],
    outbox: Queue[Any],
) -> None:
    """One worker: its domain's journeys in time order, a day at a time; rows written once indexed."""
    try:
        _drive(domain, url, scale, seeds, personal_key, rules, fleet, inbox, outbox)
    except BaseException as exc:
        outbox.put(("failed", f"{type(exc).__name__}: {exc}"))
        raise


def _drive(
    domain: str,
    url: str,
    scale: Scale,
    seeds: dict[str, bytes],
    personal_key: tuple[str, int],
    rules: dict[str, list[RiskRule]],
    fleet: list[Carrier],
    inbox: Queue[Any],
    outbox: Queue[Any],
) -> None:
    rng = random.Random(f"{scale.seed}-{domain}")
    reference = ReferenceData.load()
    signer = Signer(Keys.from_seeds(seeds))
    window = Window()
    traffic: TransitTraffic | VisaTraffic
    if domain == "transits":
        columns = {"transits": TRANSIT_COLUMNS, "transit_offices": OFFICE_COLUMNS, "transit_events": EVENT_COLUMNS}
    else:
        columns = {
            "visa_applications": APPLICATION_COLUMNS,
            "visa_consultations": CONSULTATION_COLUMNS,
            "visas": VISA_COLUMNS,
            "visa_crossings": CROSSING_COLUMNS,
            "visa_records": RECORD_COLUMNS,
        }
    tables = {name: Table.open(url, name, [c for c, _ in cols], [t for _, t in cols]) for name, cols in columns.items()}
    if domain == "transits":
        traffic = TransitTraffic(
            rng=rng, reference=reference, rules=rules, fleet=fleet, signer=signer, tables=tables, record=window.add
        )
        starts = _spread(rng, YEAR_START, END, scale.transits, traffic.journey)
    else:
        scheme = Scheme.load()
        passphrase, work_factor = personal_key
        traffic = VisaTraffic(
            rng=rng,
            reference=reference,
            scheme=scheme,
            countries=bootstrap.VisaCountries(reference, scheme),
            personal=PersonalData(passphrase, work_factor=work_factor),
            signer=signer,
            tables=tables,
            record=window.add,
        )
        drivers = _spread(rng, DRIVERS_FROM, DRIVERS_FROM + timedelta(days=20), scale.drivers, traffic.driver)
        travellers = _spread(rng, YEAR_START, END, math.ceil(scale.visas * APPLICATIONS_PER_VISA), traffic.journey)
        starts = heapq.merge(drivers, travellers, key=lambda start: start[0])
    loop = EventLoop(starts)
    # days sent to the ledger whose rows wait for their log indices: a worker may run some days ahead of the
    # other, so a busy day of one does not hold the other up
    waiting: deque[Window] = deque()
    for end in _windows():
        loop.run_until(end)
        outbox.put(window.batch())
        waiting.append(window)
        if len(waiting) > DAYS_AHEAD:
            waiting.popleft().write(tables, inbox.get())
        window = Window()
        traffic.record = window.add
    while waiting:
        waiting.popleft().write(tables, inbox.get())
    traffic.finish()
    for table in tables.values():
        table.close()
    if isinstance(traffic, TransitTraffic):
        summary: dict[str, Any] = {
            "counts": {"transits": sum(traffic.statuses.values())}
            | {f"transits {status}": n for status, n in traffic.statuses.items()}
            | {"transit events": tables["transit_events"].rows},
            "serials": [(country, year, last) for (country, year), last in traffic.serials.items()],
        }
    else:
        summary = {
            "counts": {f"visa applications {status}": n for status, n in traffic.counts.items()}
            | {"visas": tables["visas"].rows, "visa crossings": tables["visa_crossings"].rows}
            | {"visa records": tables["visa_records"].rows},
            "serials": sorted(traffic.numbers.items()),
            "frequent": traffic.frequent,
        }
    summary["checked"] = signer.checked
    outbox.put(("done", summary))


def _spread(
    rng: random.Random, since: datetime, until: datetime, count: int, journey: Callable[[datetime], Iterator[datetime]]
) -> Iterator[tuple[datetime, Iterator[datetime]]]:
    """`count` journeys starting at random instants of [since, until), in time order."""
    span = (until - since) / timedelta(microseconds=1)
    offsets = sorted(rng.random() for _ in range(count))
    for offset in offsets:
        start = since + timedelta(microseconds=round(offset * span))
        yield start, _started(start, journey)


def _started(start: datetime, journey: Callable[[datetime], Iterator[datetime]]) -> Iterator[datetime]:
    """A journey that begins when the loop reaches its start (its first step is the start itself)."""
    yield from journey(start)


class EventLoop:
    """Runs journeys in time order, as `silkway.simulation.drive` does: each yields when it acts next."""

    def __init__(self, starts: Iterator[tuple[datetime, Iterator[datetime]]]) -> None:
        self._order = itertools.count()
        self._queue: list[tuple[datetime, int, Iterator[datetime]]] = []
        self._starts = starts
        self._next = next(starts, None)

    def run_until(self, end: datetime) -> None:
        queue = self._queue
        while True:
            while self._next is not None and self._next[0] < end:
                heapq.heappush(queue, (self._next[0], next(self._order), self._next[1]))
                self._next = next(self._starts, None)
            if not queue or queue[0][0] >= end:
                return
            at, _, journey = heapq.heappop(queue)
            following = next(journey, None)
            if following is not None:
                if following < at:
                    raise RuntimeError(f"a journey went back in time from {at} to {following}")
                heapq.heappush(queue, (following, next(self._order), journey))


class Window:
    """One day of a worker's records: their log entries for the ledger, their rows until indexed."""

    def __init__(self) -> None:
        self.at: list[int] = []
        self.leaves: list[bytes] = []
        self.kinds: list[str] = []
        self.refs: list[str] = []
        self.seqs: list[int] = []
        self.rows: list[tuple[str, tuple[object, ...]]] = []

    def add(
        self, at: datetime, leaf: bytes, kind: str, ref: str, seq: int, table: str, row: tuple[object, ...]
    ) -> None:
        self.at.append(micros(at))
        self.leaves.append(leaf)
        self.kinds.append(kind)
        self.refs.append(ref)
        self.seqs.append(seq)
        self.rows.append((table, row))

    def batch(self) -> tuple[str, bytes, bytes, list[str], list[str], list[int]]:
        return (
            "window",
            np.asarray(self.at, dtype=np.int64).tobytes(),
            b"".join(self.leaves),
            self.kinds,
            self.refs,
            self.seqs,
        )

    def write(self, tables: dict[str, Table], indices: Sequence[int]) -> None:
        for (table, row), index in zip(self.rows, indices, strict=True):
            tables[table].write((*row, index))


class Ledger:
    """The transparency log, appended to in time order: `log_leaves` and `log_nodes` as `SqlLedger.append`
    writes them, through `merkle.completed_by_append` itself."""

    def __init__(self, leaves: Table, nodes: Table, size: int, frontier: dict[merkle.NodeKey, bytes]) -> None:
        self.leaves = leaves
        self.nodes = nodes
        self.size = size
        self._frontier = frontier
        self._pending: list[tuple[bytes, str, str, int]] = []

    @classmethod
    def open(cls, url: str) -> Ledger:
        with psycopg.connect(url) as conn:
            size = int(conn.execute("SELECT size FROM log_state WHERE id = 1").fetchone()[0])  # type: ignore[index]
            wanted = merkle.range_keys(0, size)
            frontier = {
                (int(level), int(idx)): bytes(h)
                for level, idx, h in conn.execute("SELECT level, idx, hash FROM log_nodes").fetchall()
                if (int(level), int(idx)) in wanted
            }
        leaves = Table.open(url, "log_leaves", ["index", "leaf_hash", "kind", "ref", "seq"], _LEAF_TYPES)
        nodes = Table.open(url, "log_nodes", ["level", "idx", "hash"], ["int4", "int8", "bytea"])
        return cls(leaves, nodes, size, frontier)

    def merge(self, first: Sequence[Any], second: Sequence[Any]) -> tuple[list[int], list[int]]:
        """Place two workers' days of records in one time order (the first's before the second's at equal
        times); returns the log indices of each's records and keeps the merged entries for `append_window`."""
        at = [np.frombuffer(batch[1], dtype=np.int64) for batch in (first, second)]
        place = [
            np.arange(len(at[0])) + np.searchsorted(at[1], at[0], side="left"),
            np.arange(len(at[1])) + np.searchsorted(at[0], at[1], side="right"),
        ]
        merged: list[tuple[bytes, str, str, int]] = [(b"", "", "", 0)] * (len(at[0]) + len(at[1]))
        for batch, positions in zip((first, second), place, strict=True):
            leaves = batch[2]
            entries = zip(positions.tolist(), batch[3], batch[4], batch[5], strict=True)
            for i, (position, kind, ref, seq) in enumerate(entries):
                merged[position] = (leaves[32 * i : 32 * i + 32], kind, ref, seq)
        self._pending = merged
        return [self.size + int(p) for p in place[0]], [self.size + int(p) for p in place[1]]

    def append_window(self) -> None:
        frontier = self._frontier
        for leaf, kind, ref, seq in self._pending:
            index = self.size
            completed = merkle.completed_by_append(index, leaf, frontier.__getitem__)
            self.leaves.write((index, leaf, kind, ref, seq))
            for (level, idx), hash_ in completed:
                self.nodes.write((level, idx, hash_))
            for level in range(len(completed) - 1):
                del frontier[(level, (index >> level) - 1)]
            frontier[completed[-1][0]] = completed[-1][1]
            self.size += 1
        self._pending = []

    def close(self) -> None:
        self.leaves.close()
        self.nodes.close()


_LEAF_TYPES = ["int8", "bytea", "varchar", "varchar", "int4"]


# --- the schema around the load -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Schema:
    """The indexes and constraints of the bulk tables as the migrations left them, to drop before the load
    and make again after it from their own definitions."""

    constraints: tuple[tuple[str, str, str, str], ...]
    """(table, name, type p/u/f, definition)"""
    indexes: tuple[tuple[str, str], ...]
    """(name, CREATE INDEX statement) of the indexes that back no constraint"""

    @classmethod
    def read(cls, url: str) -> Schema:
        with psycopg.connect(url) as conn:
            constraints = conn.execute(
                "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('p', 'u', 'f') "
                "ORDER BY 1, 2",
                (list(BULK_TABLES),),
            ).fetchall()
            indexes = conn.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = ANY(%s::regclass[]) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
                (list(BULK_TABLES),),
            ).fetchall()
        return cls(tuple((str(a), str(b), str(c), str(d)) for a, b, c, d in constraints), tuple(indexes))

    @classmethod
    def stash(cls, url: str) -> Schema:
        """Read the definitions, then drop foreign keys, other constraints and indexes, in that order."""
        schema = cls.read(url)
        with psycopg.connect(url) as conn:
            for table, name, _, _ in sorted(schema.constraints, key=lambda c: c[2] != "f"):
                conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            for name, _ in schema.indexes:
                conn.execute(f'DROP INDEX "{name}"')
        return schema

    def restore(self, url: str) -> dict[str, float]:
        """Make every constraint and index again (keys first, foreign keys last, validated), then check the
        catalogue shows exactly what the migrations made; returns the seconds each took. Raises `RuntimeError`
        if the catalogue differs."""
        statements = [
            (name, f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
            for table, name, kind, definition in self.constraints
            if kind != "f"
        ]
        statements += list(self.indexes)
        statements += [
            (name, f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
            for table, name, kind, definition in self.constraints
            if kind == "f"
        ]
        took: dict[str, float] = {}
        with psycopg.connect(url, autocommit=True) as conn:
            bulk_session(conn)
            conn.execute("SET max_parallel_maintenance_workers = 2")
            for name, statement in statements:
                began = time.perf_counter()
                conn.execute(statement)
                took[name] = time.perf_counter() - began
        if Schema.read(url) != self:
            raise RuntimeError("the indexes and constraints made again differ from the migrations'")
        return took


# --- setting up through the app --------------------------------------------------------------------


def _register_guarantees(services: Services, fleet: Sequence[Carrier]) -> None:
    """Each carrier's comprehensive guarantee, through the app's repository."""
    with services.uow() as uow:
        for carrier in fleet:
            uow.guarantees.add(
                Guarantee(
                    reference=carrier.guarantee,
                    holder=carrier.username,
                    cover=Money(amount=Decimal("50000000.00"), currency="USD"),
                    valid_until=END + timedelta(days=3 * 365),
                )
            )
        uow.commit()


def _office_keys(services: Services) -> Keys:
    """The active key of every office, unsealed as the app's ledger unseals it to sign."""
    offices = [office for codes in services.offices_by_state().values() for office in codes]
    return Keys({office: services.notary.office_key(office) for office in offices})


def _libpq(url: str) -> str:
    """A SQLAlchemy URL as libpq takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def _phase(dataset: Dataset, name: str, log: Callable[[str], None]) -> Iterator[None]:
    """Time one phase of `build` into the dataset's phases, saying when it starts."""
    log(f"{name}…")
    began = time.perf_counter()
    yield
    dataset.phases[name] = time.perf_counter() - began

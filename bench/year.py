"""Part 2 of `make bench`: a year of the region's traffic, and how fast the app reads it.

`bench.traffic` loads a PostgreSQL database with a year of signed, chained, logged records (1 million
transits, 1 million visas with their entries and exits, frequent drivers with some 500 stays each; a
twentieth of that with `--quick`). Then the app is wired on it as `bootstrap` wires it, and the calls the API
routes and pages make are timed with random keys: the officer's look-ups, the analyst's dashboard, the stay
rule for a frequent driver, and the transparency log's tree head and proofs. Goal: each under 50 ms at p99.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg

from bench.report import Context, Goal, Section, table
from bench.traffic import END, Dataset, Scale, build
from silkway.services import Services
from silkway.shared.actors import Actor, Role
from silkway.shared.mrn import Mrn
from silkway.visas.border import judge
from silkway.visas.examination import alert_hits, stay_of
from silkway.visas.model import Direction
from silkway.web.api.views import transit_view

DATABASE = "silkway_bench_year"
GOAL_MS = 50.0
SAMPLE = 2_000
"""Keys drawn at random for each kind of look-up."""
PROBE_SECONDS = 30.0
WARM_SECONDS = 5.0
MIN_SAMPLES = 20
"""A call is timed `iterations` times, or for `PROBE_SECONDS` once it has `MIN_SAMPLES` (a slow one stays slow)."""
# SILKWAY_BENCH_YEAR_FRACTION=0.5 loads half a year's traffic instead of a whole one (the load is CPU-bound)


@dataclass(frozen=True, slots=True)
class Timing:
    """One call timed many times: name, group of the goal it counts for, and its latencies in ms."""

    name: str
    group: str
    latencies: Sequence[float]

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    @property
    def p99(self) -> float:
        return self.quantile(0.99)


@dataclass(frozen=True, slots=True)
class Probe:
    name: str
    group: str
    call: Callable[[random.Random], object]
    iterations: int


def run(ctx: Context) -> Section:
    scale = Scale.year(0.05 if ctx.quick else float(os.environ.get("SILKWAY_BENCH_YEAR_FRACTION", "1")))
    dataset = build(ctx.pg_url, DATABASE, scale, log=ctx.log)
    began = time.perf_counter()
    _warm(dataset.url)
    warmed = time.perf_counter() - began
    ctx.log(f"database read into memory in {warmed:.0f} s")
    size, biggest = _sizes(dataset.url)
    ctx.log(f"loaded {dataset.log_size:,} log entries in {sum(dataset.phases.values()):.0f} s; {size / 2**30:.1f} GiB")
    services = dataset.services()
    try:
        timings = measure(services, dataset, quick=ctx.quick, log=ctx.log)
    finally:
        services.close()
    charts = [
        _latency_chart(timings, ctx.charts / "year-latency.png"),
        _phase_chart(dataset, ctx.charts / "year-load.png"),
    ]
    return Section(
        title="A year of the region's traffic",
        body=_body(scale, dataset, size, biggest, timings, warmed),
        goals=_goals(timings),
        charts=charts,
    )


# --- what is measured ----------------------------------------------------------------------------


def measure(services: Services, dataset: Dataset, *, quick: bool, log: Callable[[str], None] = print) -> list[Timing]:
    """Time every probe after a warm-up, each call with keys drawn at random from the loaded data."""
    keys = _Keys.draw(dataset)
    probes = _probes(services, keys, quick=quick)
    rng = random.Random(7)
    timings = []
    for probe in probes:
        warm = time.perf_counter() + WARM_SECONDS
        for done in range(max(2, probe.iterations // 10)):
            if done >= 2 and time.perf_counter() > warm:
                break
            probe.call(rng)
        latencies: list[float] = []
        deadline = time.perf_counter() + PROBE_SECONDS
        floor = min(MIN_SAMPLES, probe.iterations)
        while len(latencies) < probe.iterations and (len(latencies) < floor or time.perf_counter() < deadline):
            began = time.perf_counter()
            probe.call(rng)
            latencies.append((time.perf_counter() - began) * 1000)
        timing = Timing(probe.name, probe.group, latencies)
        log(f"{probe.name}: p50 {statistics.median(latencies):.1f} ms, p99 {timing.p99:.1f} ms")
        timings.append(timing)
    return timings


@dataclass(frozen=True, slots=True)
class _Keys:
    mrns: list[str]
    plates: list[tuple[str, str]]
    offices: list[str]
    visas: list[tuple[str, str]]
    drivers: list[tuple[str, str]]
    leaves: list[tuple[int, bytes]]
    size: int

    @classmethod
    def draw(cls, dataset: Dataset) -> _Keys:
        with psycopg.connect(_libpq(dataset.url)) as conn:
            transits = conn.execute(
                "SELECT t.mrn, t.plate, o.country FROM transits t JOIN transit_offices o ON o.mrn = t.mrn "
                "AND o.position = 0 ORDER BY random() LIMIT %s",
                (SAMPLE,),
            ).fetchall()
            offices = [
                str(r[0])
                for r in conn.execute(
                    "SELECT office FROM transit_offices WHERE position > 0 GROUP BY office HAVING count(*) > 10"
                ).fetchall()
            ]
            visas = conn.execute(
                "SELECT v.number, v.issuing_state FROM visas v ORDER BY random() LIMIT %s", (SAMPLE,)
            ).fetchall()
            size = int(conn.execute("SELECT size FROM log_state").fetchone()[0])  # type: ignore[index]
            indices = random.Random(3).sample(range(size), min(SAMPLE, size))
            leaves = conn.execute(
                "SELECT index, leaf_hash FROM log_leaves WHERE index = ANY(%s)", (indices,)
            ).fetchall()
        return cls(
            mrns=[str(r[0]) for r in transits],
            plates=[(str(r[1]), str(r[2])) for r in transits if r[1]],
            offices=offices,
            visas=[(str(n), str(s)) for n, s in visas],
            drivers=[(f.visas[-1], f.passport) for f in dataset.frequent],
            leaves=[(int(i), bytes(h)) for i, h in leaves],
            size=size,
        )


def _probes(services: Services, keys: _Keys, *, quick: bool) -> list[Probe]:
    q, v, d, notary = services.queries, services.visa_queries, services.dashboard, services.notary
    now = services.clock.now()
    many, few = (100, 3) if quick else (400, 5)

    def transit(rng: random.Random) -> object:
        found = q.transit_with_records(Mrn(rng.choice(keys.mrns)))
        if found is None:
            raise LookupError("a loaded transit is not found")
        return transit_view(*found)

    def plate(rng: random.Random) -> object:
        number, country = rng.choice(keys.plates)
        return q.transits_with_plate(
            Actor(username=f"customs-{country.lower()}", role=Role.CUSTOMS, country=country), number
        )

    def border_check(rng: random.Random) -> object:
        number, state = rng.choice(keys.visas)
        file = v.visa(number)
        if file is None:
            raise LookupError(f"visa {number} is not found")
        a = file.applicant
        crossings = v.crossings_of(a.passport_number, a.nationality)
        policy = services.scheme.states[state]
        return judge(
            file=file,
            seal=None,
            visa_number=number,
            passport_number=a.passport_number,
            state=state,
            direction=Direction.ENTRY,
            day=policy.local_day(now),
            crossings=crossings,
            scheme=services.scheme,
        )

    def alerts(rng: random.Random) -> object:
        file = v.visa(rng.choice(keys.visas)[0])
        if file is None:
            raise LookupError("a loaded visa is not found")
        return alert_hits(file.applicant, v.alerts(now.date()))

    def stay(rng: random.Random) -> object:
        number, passport = rng.choice(keys.drivers)
        file = v.visa(number)
        if file is None or file.visa is None or file.applicant.passport_number != passport:
            raise LookupError(f"the frequent driver's visa {number} is not found")
        crossings = v.crossings_of(file.applicant.passport_number, file.applicant.nationality)
        terms = file.visa.terms
        return stay_of(
            crossings,
            now=now,
            valid_from=terms.valid_from,
            valid_until=terms.valid_until,
            duration_of_stay_days=terms.duration_of_stay_days,
            scheme=services.scheme,
        )

    def inclusion(rng: random.Random) -> object:
        index, leaf = rng.choice(keys.leaves)
        tree_size = rng.randint(index + 1, keys.size)
        found, proof = notary.inclusion_proof(leaf, tree_size)
        if found != index:
            raise LookupError("the inclusion proof names another leaf")
        return proof

    def consistency(rng: random.Random) -> object:
        second = rng.randint(2, keys.size)
        return notary.consistency_proof(rng.randint(1, second - 1), second)

    month, quarter = now - timedelta(days=30), now - timedelta(days=90)
    return [
        Probe("transit by MRN with its history (GET /transits/{mrn})", "officer", transit, many),
        Probe("transits of a plate (customs look-up)", "officer", plate, many),
        Probe(
            "expected arrivals at an office (customs list)",
            "officer",
            lambda rng: q.expected_arrivals(rng.choice(keys.offices), limit=25),
            many // 2,
        ),
        Probe(
            "standing at an office (customs desk)",
            "officer",
            lambda rng: q.standing_at(rng.choice(keys.offices)),
            many // 2,
        ),
        Probe("visa by number, judged as at the border check", "officer", border_check, many),
        Probe("alert list checked for an applicant (consul)", "officer", alerts, many // 2),
        Probe("stay of a frequent driver, ~500 stays (GET /visas/{n}/stay)", "stay", stay, many),
        Probe("signed tree head", "log", lambda rng: notary.tree_head(now), many),
        Probe("inclusion proof, random leaf and size", "log", inclusion, many),
        Probe("consistency proof, random sizes", "log", consistency, many),
        Probe(
            "transit figures, a state, 30 days",
            "dashboard",
            lambda rng: d.transit_figures(state=rng.choice(("KZ", "UZ", "KG")), since=month, until=now),
            few,
        ),
        Probe(
            "transit figures, the region, 30 days",
            "dashboard",
            lambda rng: d.transit_figures(state=None, since=month, until=now),
            few,
        ),
        Probe(
            "transit figures, a state, 90 days",
            "dashboard",
            lambda rng: d.transit_figures(state=rng.choice(("KZ", "UZ", "KG")), since=quarter, until=now),
            few,
        ),
        Probe(
            "visa figures, a state, 30 days",
            "dashboard",
            lambda rng: d.visa_figures(state=rng.choice(("KZ", "UZ", "KG")), since=month, until=now),
            few,
        ),
        Probe(
            "visa figures, the region, 30 days",
            "dashboard",
            lambda rng: d.visa_figures(state=None, since=month, until=now),
            few,
        ),
        Probe(
            "overstayers of a state",
            "dashboard",
            lambda rng: v.overstayers(rng.choice(("KZ", "UZ", "KG")), now.date()),
            few,
        ),
    ]


# --- the report ----------------------------------------------------------------------------------

GROUPS = {
    "officer": "officer's look-ups",
    "dashboard": "analyst dashboard's queries",
    "stay": "stay of a frequent traveller (500 stays)",
    "log": "log tree head and proofs",
}


def _goals(timings: Sequence[Timing]) -> list[Goal]:
    goals = []
    for group, label in GROUPS.items():
        members = [t for t in timings if t.group == group]
        if not members:
            continue
        worst = max(members, key=lambda t: t.p99)
        met = worst.p99 < GOAL_MS
        why = "" if met else _why(group, worst)
        goals.append(
            Goal(f"year of traffic: {label}", "p99 < 50 ms", f"worst p99 {worst.p99:,.1f} ms ({worst.name})", met, why)
        )
    return goals


def _why(group: str, worst: Timing) -> str:
    if group == "dashboard":
        return (
            "the dashboard computes its figures from the projections of the signed records at every request: "
            "crossing-time medians over every passage of the period, corridors and goods by HS section parsed "
            "from every declaration lodged in it (a month of the region is ~100,000 passages and ~80,000 "
            "declarations here), and overstayers from each traveller's last crossing in the state. Closing it takes "
            "figures kept as they are recorded (daily roll-ups per office and HS section, written by the "
            "repositories beside the records), so a page reads a few hundred rows instead of a month of traffic"
        )
    made_of = {
        "stay": "reading the visa file replays its records (a driver's six-month visa holds some 190: each "
        "decrypted, parsed and folded), then the driver's ~1,600 crossings are read by passport and the stay rule "
        "runs over ~500 stays",
        "log": "a proof reads the leaf by its hash and about 2·log2(n) stored subtree hashes in one query; "
        "the tree head folds about log2(n) of them and signs",
        "officer": "each look-up is a few indexed queries and the replay of the transits or visa files it shows",
    }.get(group, "")
    return (
        f"{worst.name} takes {worst.p99:,.0f} ms at p99 (p50 {statistics.median(worst.latencies):,.0f} ms): "
        f"{made_of}; a p99 far above the p50 is the machine (other work, or data not yet in memory), a high p50 "
        "the query itself"
    )


def _body(
    scale: Scale,
    dataset: Dataset,
    size: int,
    biggest: Sequence[tuple[str, int, int]],
    timings: Sequence[Timing],
    warmed: float,
) -> str:
    counts = dataset.counts
    scale_rows = [
        ("transits", counts.get("transits", 0)),
        ("transit events (signed records)", counts.get("transit events", 0)),
        (
            "visa applications",
            sum(n for k, n in counts.items() if k.startswith("visa applications ") and k[18:] in _STATUSES),
        ),
        ("visas issued", counts.get("visas", 0)),
        ("entries and exits recorded", counts.get("visa crossings", 0)),
        ("visa records (signed, encrypted)", counts.get("visa records", 0)),
        ("frequent drivers (about 500 stays each)", len(dataset.frequent)),
        ("transparency log entries", dataset.log_size),
        ("records re-signed by the app's sign_record and compared", dataset.checked_records),
    ]
    statuses = ", ".join(
        f"{k.removeprefix('transits ')} {n:,}" for k, n in sorted(counts.items()) if k.startswith("transits ")
    )
    visas = ", ".join(
        f"{k.removeprefix('visa applications ')} {n:,}"
        for k, n in sorted(counts.items())
        if k.startswith("visa applications ")
    )
    total = sum(dataset.phases.values())
    lines = [
        f"Scale ({'a twentieth of a year, --quick' if dataset.log_size < 2_000_000 else 'a year'}):",
        "",
        table(("what", "how many"), scale_rows),
        "",
        f"Transits by status: {statuses}. Visa files and border checks: {visas}.",
        "",
        f"Loading took {total / 60:.1f} min:",
        "",
        table(("phase", "seconds"), [(name, round(s, 1)) for name, s in dataset.phases.items()]),
        "",
        "The slowest indexes and constraints to make again: "
        + ", ".join(f"`{n}` {s:.0f} s" for n, s in sorted(dataset.indexes.items(), key=lambda i: -i[1])[:6])
        + ".",
        "",
        f"The database is {size / 2**30:.2f} GiB (`pg_database_size`); the biggest tables:",
        "",
        table(
            ("table", "table and indexes (MiB)", "indexes (MiB)"), [(n, t // 2**20, i // 2**20) for n, t, i in biggest]
        ),
        "",
        f"Latency of the app's own reads (ms; goal p99 < {GOAL_MS:.0f} ms), with the database read into the "
        f"operating system's cache first ({warmed:.0f} s, `pg_prewarm`), as a node's memory would hold it:",
        "",
        table(
            ("call", "n", "p50", "p95", "p99", "max", ""),
            [
                (
                    t.name,
                    len(t.latencies),
                    round(statistics.median(t.latencies), 2),
                    round(t.quantile(0.95), 2),
                    round(t.p99, 2),
                    round(max(t.latencies), 2),
                    "met" if t.p99 < GOAL_MS else "**missed**",
                )
                for t in timings
            ],
        ),
    ]
    return "\n".join(lines)


_STATUSES = {"lodged", "issued", "issued_ltv", "refused"}


def _warm(url: str) -> None:
    """Read every table and index of the database once, into the operating system's cache: a node with the
    memory for its database, not the disk of a machine that has just written 16 GB, is what is measured. The
    extension is dropped again, leaving the schema as the migrations made it."""
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        conn.execute(
            "SELECT pg_prewarm(c.oid, 'read') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 't')"
        )
        conn.execute("DROP EXTENSION pg_prewarm")


def _sizes(url: str) -> tuple[int, list[tuple[str, int, int]]]:
    with psycopg.connect(_libpq(url)) as conn:
        size = int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])  # type: ignore[index]
        rows = conn.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid), pg_indexes_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public' "
            "ORDER BY 2 DESC LIMIT 8"
        ).fetchall()
    return size, [(str(n), int(t), int(i)) for n, t, i in rows]


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


# --- charts --------------------------------------------------------------------------------------


def _latency_chart(timings: Sequence[Timing], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 0.45 * len(timings) + 1.5))
    names = [t.name for t in timings][::-1]
    p50 = [statistics.median(t.latencies) for t in timings][::-1]
    p99 = [t.p99 for t in timings][::-1]
    positions = range(len(names))
    ax.barh([p + 0.2 for p in positions], p99, height=0.4, label="p99", color="#c0504d")
    ax.barh([p - 0.2 for p in positions], p50, height=0.4, label="p50", color="#4f81bd")
    ax.axvline(GOAL_MS, color="black", linestyle="--", label="goal: 50 ms")
    ax.set_xscale("log")
    ax.set_yticks(list(positions), names, fontsize=8)
    ax.set_xlabel("ms (log scale)")
    ax.set_title("A year of traffic: latency of the app's reads")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _phase_chart(dataset: Dataset, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3))
    names = list(dataset.phases)[::-1]
    ax.barh(names, [dataset.phases[n] for n in names], color="#9bbb59")
    ax.set_xlabel("seconds")
    ax.set_title(f"Loading a year of traffic ({dataset.log_size:,} log entries)")
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


__all__ = ["END", "measure", "run"]

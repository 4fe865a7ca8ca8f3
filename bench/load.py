"""Border checks under load: Silkway's app and the bare floor, on SQLite and on PostgreSQL, in one run.

Customs officers present vehicles (``POST /api/v1/transits/{mrn}/presentations``) and border guards check
visas by their seal (``POST /api/v1/border/checks``, entry and exit in turn), half and half, from 64
concurrent connections of `wrk` on 127.0.0.1 for a bounded time. The server is uvicorn with 2 workers, as the
floor is (`bench.floor`: parse, one Ed25519 verification, one indexed read, one insert). Each run is
checked afterwards: every 2xx answer must be a presentation or a crossing stored in the database.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import psycopg
from sqlalchemy import create_engine, func, select

from bench import floor
from bench.report import Context, Goal, Section, table
from bench.workload import Presentation, Traveller, Workload, copy_database, environment, prepare
from silkway.storage.engine import normalise_url
from silkway.storage.tables import TransitEventRow, VisaCrossingRow

T = TypeVar("T")
CONNECTIONS = 64
REPLAY = Path(__file__).resolve().parent / "lua" / "replay.lua"
THROUGHPUT_GOAL = 0.5  # of the floor's requests per second
P99_GOAL_MS = 50.0


@dataclass(frozen=True)
class Scale:
    transits: int
    travellers: int
    warmup_travellers: int
    seconds: int
    warmup_seconds: int


FULL = Scale(transits=6000, travellers=1000, warmup_travellers=200, seconds=20, warmup_seconds=4)
QUICK = Scale(transits=1200, travellers=300, warmup_travellers=60, seconds=6, warmup_seconds=2)


@dataclass(frozen=True)
class Load:
    """What wrk measured: throughput, latency percentiles in milliseconds, and the answers by class."""

    rps: float
    p50: float
    p95: float
    p99: float
    max: float
    requests: int
    ok: int
    client_errors: int
    server_errors: int
    socket_errors: int

    @classmethod
    def parse(cls, output: str) -> Load:
        line = next(line for line in reversed(output.splitlines()) if line.startswith("{"))
        data = json.loads(line)
        return cls(
            rps=float(data["rps"]),
            p50=data["p50"] / 1000,
            p95=data["p95"] / 1000,
            p99=data["p99"] / 1000,
            max=data["max"] / 1000,
            requests=int(data["requests"]),
            ok=int(data["ok"]),
            client_errors=int(data["client_errors"]),
            server_errors=int(data["server_errors"]),
            socket_errors=int(data["socket_errors"]) + int(data["timeouts"]),
        )

    @property
    def failed(self) -> int:
        return self.client_errors + self.server_errors + self.socket_errors


@dataclass(frozen=True)
class Result:
    backend: str
    app: Load
    floor: Load
    stored: int  # presentations and crossings the run added to the database

    @property
    def ratio(self) -> float:
        return self.app.rps / self.floor.rps if self.floor.rps else 0.0


def run(ctx: Context) -> Section:
    scale = QUICK if ctx.quick else FULL
    sqlite_url = f"sqlite:///{ctx.work / 'load.db'}"
    pg_url = _database_url(ctx.pg_url, "silkway_bench_load")
    ctx.log(f"preparing {scale.transits} released transits and {scale.travellers} visas")
    began = time.perf_counter()
    workload = prepare(sqlite_url, transits=scale.transits, travellers=scale.travellers)
    _recreate(ctx.pg_url, "silkway_bench_load")
    copy_database(sqlite_url, pg_url)
    prepared = time.perf_counter() - began
    results = []
    for backend, url in (("SQLite", sqlite_url), ("PostgreSQL", pg_url)):
        floor_load = _floor(ctx, scale, backend)
        ctx.log(f"{backend} floor: {floor_load.rps:.0f} rps, p99 {floor_load.p99:.1f} ms")
        app_load, stored = _app(ctx, scale, url, workload)
        ctx.log(f"{backend} app: {app_load.rps:.0f} rps, p99 {app_load.p99:.1f} ms, {stored} stored")
        results.append(Result(backend=backend, app=app_load, floor=floor_load, stored=stored))
    _drop(ctx.pg_url, "silkway_bench_load")
    _drop(ctx.pg_url, "silkway_bench_floor")
    return _section(ctx, scale, results, prepared)


# --- the two servers ---------------------------------------------------------------------------------------


def _app(ctx: Context, scale: Scale, url: str, workload: Workload) -> tuple[Load, int]:
    env = environment(url)
    command = ["-m", "uvicorn", "silkway.bootstrap:create_web_app", "--factory"]
    with _serve(ctx, command, env, "/healthz", f"app-{_backend(url)}") as base:
        tokens = _tokens(base, workload)
        warmup, main = _requests(workload, tokens, scale, ctx.work)
        warm = _wrk(ctx, base, warmup, scale.warmup_seconds)
        before = _settled(url, quiet=max(3.0, 2 * warm.max / 1000))
        load = _wrk(ctx, base, main, scale.seconds)
        stored = _settled(url, quiet=max(3.0, 2 * load.max / 1000)) - before
    # wrk stops counting with up to one request per connection still in flight; the server finishes those
    if not load.ok <= stored <= load.ok + CONNECTIONS:
        raise RuntimeError(
            f"{load.ok} checks answered 2xx but {stored} were stored: the run lost or invented work ({load})"
        )
    return load, stored


def _floor(ctx: Context, scale: Scale, backend: str) -> Load:
    subjects = [f"S{n:08d}" for n in range(scale.transits)]
    if backend == "SQLite":
        target = str(ctx.work / "floor.db")
        Path(target).unlink(missing_ok=True)
    else:
        _recreate(ctx.pg_url, "silkway_bench_floor")
        target = _database_url(ctx.pg_url, "silkway_bench_floor")
    floor.create_schema(target, iter(subjects))
    lines = []
    for n, subject in enumerate(subjects):
        document, signature = floor.signed_document(subject, f"OFFICE-{n % 40}")
        body = json.dumps(
            {"subject": subject, "office": f"OFFICE-{n % 40}", "document": document, "signature": signature}
        )
        lines.append(f"POST\t/check\t\t{body}")
    warmup = _write(ctx.work / "floor-warmup.txt", lines[: len(lines) // 10])
    main = _write(ctx.work / "floor.txt", lines)
    with _serve(ctx, ["-m", "uvicorn", "bench.floor:app"], {"FLOOR_DATABASE": target}, "/health", "floor") as base:
        _wrk(ctx, base, warmup, scale.warmup_seconds)
        return _wrk(ctx, base, main, scale.seconds)


@contextmanager
def _serve(ctx: Context, command: Sequence[str], env: dict[str, str], health: str, name: str) -> Iterator[str]:
    """uvicorn with 2 workers on a free loopback port, without access logs; yields its base URL."""
    port = _free_port()
    log = (ctx.work / f"{name}.log").open("w")
    full = [ctx.python, *command, "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    full += ["--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(
        full,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[1],
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base + health, process, ctx.work / f"{name}.log")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped at start: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer {url} within a minute")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the requests ------------------------------------------------------------------------------------------


def _tokens(base: str, workload: Workload) -> dict[str, str]:
    """Sign in once as each officer and guard the workload needs (the demo accounts)."""
    users = {p.officer for p in workload.presentations} | {t.guard for t in workload.travellers}
    tokens = {}
    for user in sorted(users):
        form = urllib.parse.urlencode({"username": user, "password": "demo"}).encode()
        with urllib.request.urlopen(base + "/api/v1/auth/token", data=form, timeout=30) as answer:
            tokens[user] = "Bearer " + json.loads(answer.read())["access_token"]
    return tokens


def _requests(workload: Workload, tokens: dict[str, str], scale: Scale, folder: Path) -> tuple[Path, Path]:
    """Two request files: a warm-up on travellers and transits of its own, then the measured run.

    Presentations and visa checks alternate. Each traveller goes in and out in turn, and a traveller's next
    check comes a whole round of travellers later, long after the previous one was answered; the number of
    rounds is even, so the list can start again from the top (a vehicle may be presented again at an office
    it has not passed).
    """
    # the warm-up signs at every office and post once: a worker unseals each office's key (scrypt) on first use
    warm_transits = _covering(workload.presentations, lambda p: (p.office,), max(1, len(workload.presentations) // 10))
    warm_travellers = _covering(workload.travellers, lambda t: t.posts, scale.warmup_travellers)
    transits = [p for p in workload.presentations if p not in warm_transits]
    travellers = [t for t in workload.travellers if t not in warm_travellers]

    def lines(presentations: Sequence[Presentation], holders: Sequence[Traveller], rounds: int) -> list[str]:
        checks = []
        for round_ in range(rounds):
            for holder in holders:
                checks.append(_visa_check(holder, tokens, entry=round_ % 2 == 0))
        vehicles = [_presentation(p, tokens) for p in presentations]
        out = []
        for n in range(max(len(checks), len(vehicles))):
            out.append(vehicles[n % len(vehicles)])
            out.append(checks[n % len(checks)])
        return out

    rounds = max(2, 2 * round(len(transits) / len(travellers) / 2))
    return (
        _write(folder / "app-warmup.txt", lines(warm_transits, warm_travellers, 2)),
        _write(folder / "app.txt", lines(transits, travellers, rounds)),
    )


def _covering(items: Sequence[T], places: Callable[[T], Sequence[str]], at_least: int) -> list[T]:
    """The first item at each place, then more from the top until there are `at_least`; never more than half
    of the items, so the measured run keeps the rest."""
    seen: set[str] = set()
    chosen: list[T] = []
    for item in items:
        if not seen.issuperset(places(item)):
            seen.update(places(item))
            chosen.append(item)
    for item in items:
        if len(chosen) >= at_least:
            break
        if item not in chosen:
            chosen.append(item)
    return chosen[: max(1, len(items) // 2)]


def _visa_check(holder: Traveller, tokens: dict[str, str], *, entry: bool) -> str:
    body = {
        "office": holder.posts[0] if entry else holder.posts[1],
        "direction": "entry" if entry else "exit",
        "seal": holder.seal,
        "passport_number": holder.passport,
    }
    return f"POST\t/api/v1/border/checks\t{tokens[holder.guard]}\t{json.dumps(body)}"


def _presentation(presentation: Presentation, tokens: dict[str, str]) -> str:
    body = {"office": presentation.office, "seals": list(presentation.seals)}
    path = f"/api/v1/transits/{presentation.mrn}/presentations"
    return f"POST\t{path}\t{tokens[presentation.officer]}\t{json.dumps(body)}"


def _write(path: Path, lines: Sequence[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def _wrk(ctx: Context, base: str, requests: Path, seconds: int) -> Load:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk (make bench installs it)")
    command = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s", "-s", str(REPLAY), base, "--"]
    out = subprocess.run([*command, str(requests)], capture_output=True, text=True, check=True)
    return Load.parse(out.stdout)


def _settled(url: str, quiet: float) -> int:
    """The count of stored checks once the requests still in flight when wrk stopped have been answered: the
    count has not moved for `quiet` seconds (twice the longest answer of the run)."""
    count, since = _stored(url), time.monotonic()
    while time.monotonic() - since < quiet:
        time.sleep(0.25)
        again = _stored(url)
        if again != count:
            count, since = again, time.monotonic()
    return count


def _stored(url: str) -> int:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as connection:
            presented = connection.scalar(
                select(func.count()).select_from(TransitEventRow).where(TransitEventRow.type == "presented")
            )
            crossings = connection.scalar(select(func.count()).select_from(VisaCrossingRow))
        return int(presented or 0) + int(crossings or 0)
    finally:
        engine.dispose()


# --- databases ---------------------------------------------------------------------------------------------


def _backend(url: str) -> str:
    return "pg" if url.startswith("postgresql") else "sqlite"


def _database_url(admin: str, name: str) -> str:
    parts = urllib.parse.urlsplit(admin)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def _recreate(admin: str, name: str) -> None:
    _drop(admin, name)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')


def _drop(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the report --------------------------------------------------------------------------------------------


def _section(ctx: Context, scale: Scale, results: Sequence[Result], prepared: float) -> Section:
    rows = []
    for r in results:
        for name, load in ((f"{r.backend}: Silkway", r.app), (f"{r.backend}: floor", r.floor)):
            rows.append((name, load.rps, load.p50, load.p95, load.p99, load.max, f"{load.ok:,}", f"{load.failed:,}"))
    body = [
        f"{CONNECTIONS} concurrent connections (`wrk`, one thread) for {scale.seconds} s after a "
        f"{scale.warmup_seconds} s warm-up on requests of its own; uvicorn with 2 workers for both servers. "
        f"Half the requests are customs officers presenting a released vehicle at its first border office, half "
        f"border guards checking a visa by its seal ({scale.travellers - scale.warmup_travellers:,} travellers "
        f"going in and out in turn). Data: {scale.transits:,} transits released and {scale.travellers:,} visas "
        f"issued through the handlers ({prepared:.0f} s to prepare, then copied to PostgreSQL).",
        "",
        table(("server", "requests/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "2xx", "failed"), rows),
        "",
        "Every 2xx answer of Silkway's runs was checked against the database afterwards: "
        + ", ".join(f"{r.backend} stored {r.stored:,} presentations and crossings" for r in results)
        + ".",
    ]
    goals = []
    for r in results:
        goals.append(
            Goal(
                f"Border checks on {r.backend}: throughput",
                f"≥ {THROUGHPUT_GOAL:.0%} of the floor",
                f"{r.ratio:.0%} ({r.app.rps:,.0f} of {r.floor.rps:,.0f} requests/s)",
                met=r.ratio >= THROUGHPUT_GOAL,
                why=WHY_THROUGHPUT,
            )
        )
        goals.append(
            Goal(
                f"Border checks on {r.backend}: p99 latency",
                f"< {P99_GOAL_MS:.0f} ms",
                f"{r.app.p99:.1f} ms (floor {r.floor.p99:.1f} ms)",
                met=r.app.p99 < P99_GOAL_MS,
                why=_why_latency(r),
            )
        )
    charts = [_chart(ctx, results)]
    return Section(title="Border checks under load", body="\n".join(body), goals=goals, charts=charts)


WHY_THROUGHPUT = (
    "a border check does far more than the floor's one verify, one read and one insert: it reads the "
    "transit's or visa's signed history, signs and chains a new record, appends it to the Merkle log and "
    "writes its outbox row, all in one transaction. See bench/README.md (profile) for where the time goes."
)


def _why_latency(r: Result) -> str:
    return (
        f"with {CONNECTIONS} connections on 2 workers, each request waits for the others: at "
        f"{r.app.rps:,.0f} requests/s the queueing alone is about {CONNECTIONS / max(r.app.rps, 1) * 1000:.0f} ms "
        f"per request (Little's law); the floor's p99 is {r.floor.p99:.0f} ms at {r.floor.rps:,.0f} requests/s. "
        f"Cutting CPU per check (see the profile) shortens the queue in proportion."
    )


def _chart(ctx: Context, results: Sequence[Result]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    names = [r.backend for r in results]
    x = range(len(names))
    left.bar([i - 0.2 for i in x], [r.app.rps for r in results], width=0.4, label="Silkway")
    left.bar([i + 0.2 for i in x], [r.floor.rps for r in results], width=0.4, label="floor")
    left.set_xticks(list(x), names)
    left.set_ylabel("requests/s")
    left.set_title("Throughput, 64 connections")
    left.legend()
    for label in ("p50", "p95", "p99"):
        right.plot(names, [getattr(r.app, label) for r in results], marker="o", label=f"Silkway {label}")
    right.plot(names, [r.floor.p99 for r in results], marker="x", linestyle="--", label="floor p99")
    right.axhline(P99_GOAL_MS, color="red", linewidth=0.8, label="goal: p99 50 ms")
    right.set_ylabel("ms")
    right.set_title("Latency")
    right.legend(fontsize="small")
    fig.tight_layout()
    path = ctx.charts / "load.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

"""The load benchmark's parts: the workload it replays, the floor it is measured against, wrk's report."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from starlette.testclient import TestClient

from bench import floor
from bench.load import QUICK, Load, _requests, _stored
from bench.workload import Workload, copy_database, environment, prepare

WRK_LINE = (
    '{"requests": 900, "seconds": 6.001, "rps": 149.9, "p50": 410000, "p90": 700000, "p95": 800000, '
    '"p99": 950500, "max": 1200000, "mean": 420000.0, "ok": 880, "client_errors": 15, "server_errors": 3, '
    '"socket_errors": 1, "timeouts": 1}'
)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Workload]:
    url = f"sqlite:///{tmp_path_factory.mktemp('load') / 'load.db'}"
    return url, prepare(url, transits=6, travellers=4)


def test_wrk_report_is_read_in_milliseconds_with_every_failure_counted() -> None:
    load = Load.parse("Running 6s test\n  64 connections\n" + WRK_LINE + "\n")
    assert (load.rps, load.p50, load.p99, load.max) == (149.9, 410.0, 950.5, 1200.0)
    assert load.ok == 880
    assert load.failed == 15 + 3 + 2


def test_a_report_without_wrk_s_line_is_an_error() -> None:
    with pytest.raises(StopIteration):
        Load.parse("wrk: connection refused\n")


def test_preparing_nothing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one"):
        prepare(f"sqlite:///{tmp_path / 'x.db'}", transits=0, travellers=1)


def _environment(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """create_web_app reads its settings from the environment; monkeypatch puts it back after the test."""
    for name, value in environment(url).items():
        monkeypatch.setenv(name, value)


def test_the_workload_is_what_officers_and_guards_present(
    prepared: tuple[str, Workload], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, workload = prepared
    _environment(monkeypatch, url)
    from silkway.bootstrap import create_web_app

    with TestClient(create_web_app()) as client:

        def bearer(user: str) -> dict[str, str]:
            answer = client.post("/api/v1/auth/token", data={"username": user, "password": "demo"})
            return {"Authorization": "Bearer " + answer.json()["access_token"]}

        for presentation in workload.presentations:
            assert presentation.office[:2] == presentation.officer[-2:].upper()
            answer = client.post(
                f"/api/v1/transits/{presentation.mrn}/presentations",
                json={"office": presentation.office, "seals": list(presentation.seals)},
                headers=bearer(presentation.officer),
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["decision"] in ("green", "inspect")
        holder = workload.travellers[0]
        for direction, post in (("entry", holder.posts[0]), ("exit", holder.posts[1]), ("entry", holder.posts[0])):
            answer = client.post(
                "/api/v1/border/checks",
                json={"office": post, "direction": direction, "seal": holder.seal, "passport_number": holder.passport},
                headers=bearer(holder.guard),
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["allowed"] is True, answer.json()
    assert _stored(url) == len(workload.presentations) + 3


def test_request_files_alternate_presentations_and_visa_checks(prepared: tuple[str, Workload], tmp_path: Path) -> None:
    _, workload = prepared
    tokens = {user: f"Bearer {user}" for user in {p.officer for p in workload.presentations}}
    tokens |= {t.guard: f"Bearer {t.guard}" for t in workload.travellers}
    scale = QUICK.__class__(transits=6, travellers=4, warmup_travellers=1, seconds=1, warmup_seconds=1)
    warmup, main = _requests(workload, tokens, scale, tmp_path)
    lines = main.read_text().splitlines()
    assert [line.split("\t")[1].endswith("/presentations") for line in lines[:4]] == [True, False, True, False]
    # the warm-up has travellers of its own (one at each post, as far as half of them go); each measured one goes
    # in, then out, in turn
    warm = warmup.read_text()
    warm_travellers = [t for t in workload.travellers if t.passport in warm]
    assert warm_travellers
    measured = [t for t in workload.travellers if t not in warm_travellers]
    assert measured
    checks = [line.split("\t")[3] for line in lines if "/border/checks" in line]
    for holder in measured:
        directions = [c for c in checks if holder.passport in c]
        assert ['"entry"' in c for c in directions] == [n % 2 == 0 for n in range(len(directions))]
        assert '"exit"' in directions[-1]
    assert not any(t.passport in line for t in warm_travellers for line in lines)
    assert {p.office for p in workload.presentations if p.mrn in warm}


def test_the_floor_verifies_reads_and_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = str(tmp_path / "floor.db")
    floor.create_schema(target, iter(["S1", "S2"]))
    monkeypatch.setenv("FLOOR_DATABASE", target)
    document, signature = floor.signed_document("S1", "KZ-KORDAY")
    with TestClient(floor.app) as client:
        body = {"subject": "S1", "office": "KZ-KORDAY", "document": document, "signature": signature}
        assert client.post("/check", json=body).json() == {"subject": "S1", "status": "released", "verified": True}
        assert client.post("/check", json={**body, "subject": "S9"}).status_code == 404
        forged = {**body, "document": floor.signed_document("S2", "KZ-KORDAY")[0]}
        assert client.post("/check", json=forged).status_code == 422
        assert client.post("/check", json={"subject": "S1"}).status_code == 422
    import sqlite3

    with sqlite3.connect(target) as connection:
        assert connection.execute("SELECT count(*) FROM checks").fetchone() == (2,)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """An empty database of its own on this machine's PostgreSQL (skipped without one, failed in CI)."""
    admin = os.environ.get("SILKWAY_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    admin = admin.replace("postgresql+psycopg://", "postgresql://")
    try:
        psycopg.connect(admin, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL not reachable for the load workload's copy: {type(exc).__name__}"
        if os.environ.get("SILKWAY_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message} — SILKWAY_REQUIRE_SERVICES=1 makes PostgreSQL mandatory")
        pytest.skip(message)
    name = f"silkway_bench_copy_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    yield admin.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_the_workload_copies_to_postgresql_and_keeps_working(
    prepared: tuple[str, Workload], postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, workload = prepared
    before = _stored(source)
    copy_database(source, postgres_url)
    assert _stored(postgres_url) == before
    _environment(monkeypatch, postgres_url)
    from silkway.bootstrap import create_web_app

    with TestClient(create_web_app()) as client:
        holder = workload.travellers[1]
        token = client.post("/api/v1/auth/token", data={"username": holder.guard, "password": "demo"}).json()
        answer = client.post(
            "/api/v1/border/checks",
            json={
                "office": holder.posts[0],
                "direction": "entry",
                "seal": holder.seal,
                "passport_number": holder.passport,
            },
            headers={"Authorization": "Bearer " + token["access_token"]},
        )
        assert answer.status_code == 200, answer.text  # new rows take ids after the copied ones
    assert _stored(postgres_url) == before + 1

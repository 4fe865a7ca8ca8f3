"""The node's disk full: SQLite answers SQLITE_FULL ("database or disk is full"; its file may not grow by a page,
`PRAGMA max_page_count`), PostgreSQL SQLSTATE 53100 (disk_full). The API says so plainly — 507 storage_full, not
the generic "unavailable" — and the CLI a message and exit code 3; the refused write left nothing, everything
written before is intact and verifies, and once space is back the same request goes through.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from evidence import Log, contents, genuine, integrity, signed_in, trust_of
from fastapi.testclient import TestClient
from outages import Outage

from silkway.cli.common import EXIT_UNAVAILABLE
from silkway.cli.main import main
from silkway.services import Services

sys.path.insert(0, str(Path(__file__).parents[1] / "federation"))
from journeys import ROUTE, SEALS, declaration


def a_large_declaration() -> dict[str, Any]:
    """A declaration whose signed record spans several pages: it cannot fit in what room is left on a page."""
    goods = declaration()["goods"][0]
    return {
        **declaration(),
        "goods": [{**goods, "description": f"Laptops, batch {i}: " + "x" * 480} for i in range(12)],
    }


def test_a_write_on_a_full_disk_is_refused_507_whole_and_goes_through_once_space_is_back(
    database_url: str, services: Services, client: TestClient
) -> None:
    carrier, customs = signed_in(client, "carrier-kz"), signed_in(client, "customs-kz")
    # written before the disk fills: a released transit, two signed records
    earlier = client.post("/api/v1/transits", json=declaration(), headers=carrier).json()["mrn"]
    release = {"office": ROUTE[0], "seals": SEALS, "control": {"kind": "physical", "result": "satisfactory"}}
    assert client.post(f"/api/v1/transits/{earlier}/release", json=release, headers=customs).status_code == 200
    log = Log(client, trust_of(services))
    size = log.size()
    before = contents(database_url)
    headers = {**carrier, "Idempotency-Key": "declare-on-a-full-disk"}

    with Outage(database_url).disk_full() as disk:
        refused = client.post("/api/v1/transits", json=a_large_declaration(), headers=headers)
        assert refused.status_code == 507, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["Retry-After"]) > 0
        problem = refused.json()
        assert (problem["status"], problem["code"]) == (507, "storage_full")
        assert "disk is full" in problem["detail"]
        assert "nothing of this request was recorded" in problem["detail"]

        # nothing of it was kept, and what was there before is whole: readable, signed, chained, logged
        assert contents(database_url) == before
        if Outage(database_url).backend == "sqlite":  # SQLite's own check of the file, page by page
            assert integrity(database_url) == "ok"
        path = f"/api/v1/transits/{earlier}"
        assert genuine(client, trust_of(services), path, carrier, f"transit:{earlier}") == 2
        assert log.size() == size

        disk.free()
        retried = client.post("/api/v1/transits", json=a_large_declaration(), headers=headers)
    assert retried.status_code == 201, retried.text
    replayed = client.post("/api/v1/transits", json=a_large_declaration(), headers=headers)
    assert (replayed.headers.get("Idempotent-Replayed"), replayed.json()) == ("true", retried.json())
    assert len(contents(database_url)["transits"]) == len(before["transits"]) + 1
    assert log.size() == size + 1


def test_the_cli_says_the_disk_is_full_and_exits_3(
    database_url: str, services: Services, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SILKWAY_DATABASE_URL", database_url)
    monkeypatch.setenv("SILKWAY_ENV", "test")
    monkeypatch.setenv("SILKWAY_CLOCK_START", "2026-11-21T09:00:00Z")
    monkeypatch.setattr(sys, "argv", ["silkway", "trust", "rotate", "KZ-ZHIBEKZHOLY"])
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # Typer installs its own: put the test's back after
    before = contents(database_url)

    with Outage(database_url).disk_full(table="trust_keys"), pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == EXIT_UNAVAILABLE
    said = capsys.readouterr().err
    assert "error: the node's disk is full: nothing of this request was recorded" in " ".join(said.split())
    assert "free space on the disk" in said
    assert "Traceback" not in said
    assert contents(database_url) == before

    # space is back: the same command goes through
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code in (0, None)
    assert len(contents(database_url)["trust_keys"]) == len(before["trust_keys"]) + 1

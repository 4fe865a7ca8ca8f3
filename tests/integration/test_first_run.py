"""The first start of a node: a month of simulated transits and visa travellers, all in the past, all genuine.

`load_history` is run on a fresh SQLite database with a `FixedClock`, and `silkway serve` is run twice
against another one (with uvicorn's run replaced, so the command returns once the node is ready).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from silkway import bootstrap
from silkway.cli.main import app
from silkway.demo import DEMO_GUARANTEES, SETUP_LEAD, load_demo, load_history
from silkway.services import Services
from silkway.settings import Settings
from silkway.shared.clock import FixedClock
from silkway.shared.mrn import Mrn
from silkway.signing.audit import AuditState, audit
from silkway.signing.trustlist import load_trust_list
from silkway.signing.verify import verify_records
from silkway.storage.tables import (
    AccountRow,
    TransitEventRow,
    TrustKeyRow,
    VisaApplicationRow,
    VisaCrossingRow,
    VisaRecordRow,
    VisaRow,
    metadata,
)
from silkway.web.app import create_app

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
DAYS = 20
TRANSITS = 60
TRAVELLERS = 50


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, Any]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('first-run') / 'silkway.db'}"
    bootstrap.migrate(url)
    services = bootstrap.build(Settings(env="test", database_url=url), clock=FixedClock(NOW))
    history = load_history(services, days=DAYS, transits=TRANSITS, travellers=TRAVELLERS, seed=11)
    yield services, history
    services.close()


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = {t.name: conn.scalar(select(func.count()).select_from(t)) or 0 for t in metadata.sorted_tables}
    engine.dispose()
    return found


def test_a_fresh_node_gets_transits_and_visa_travellers(node: tuple[Services, Any]) -> None:
    services, history = node
    transits, visas = history.transits, history.visas

    assert history.since == NOW - timedelta(days=DAYS)
    assert history.until == NOW
    assert transits.submitted == TRANSITS
    assert transits.discharged > TRANSITS // 2
    assert transits.discharged + transits.refused + transits.under_way == transits.submitted
    assert transits.inspections_avoided > 0
    assert visas.lodged == TRAVELLERS
    assert visas.issued > visas.refused > 0
    assert visas.revoked >= 1
    assert visas.entries > 0
    assert visas.exits > 0
    assert visas.overstays + visas.staying_on > 0
    figures = services.dashboard.visa_figures(state=None, since=history.since, until=NOW)
    assert figures.applications_lodged == TRAVELLERS
    assert sum(n for _, n in figures.by_issuing_state) == visas.issued
    assert len(figures.by_issuing_state) >= 3  # several states' consular services
    assert len(figures.by_nationality) >= 3
    assert figures.revoked == visas.revoked
    assert figures.entries_refused == visas.entries_refused


def test_nothing_is_dated_after_the_nodes_clock(node: tuple[Services, Any]) -> None:
    services, history = node
    engine = create_engine(services.settings.database_url)
    with engine.connect() as conn:
        latest = {
            column: conn.scalar(select(func.max(column)))
            for column in (
                TransitEventRow.at,
                VisaRecordRow.at,
                VisaCrossingRow.at,
                VisaApplicationRow.lodged_at,
                VisaApplicationRow.decided_at,
                VisaRow.issued_at,
                VisaRow.revoked_at,
                TrustKeyRow.created_at,
                AccountRow.created_at,
            )
        }
        earliest_key = conn.scalar(select(func.min(TrustKeyRow.valid_from)))
        earliest_event = conn.scalar(select(func.min(TransitEventRow.at)))
    engine.dispose()

    assert all(value is not None for value in latest.values()), latest
    assert all(value < NOW for value in latest.values()), latest
    # the keys were made before the history they sign, an hour before it begins
    assert earliest_key is not None
    assert earliest_event is not None
    assert earliest_key <= history.since - SETUP_LEAD < earliest_event


def test_every_record_verifies_and_the_log_rebuilds(node: tuple[Services, Any]) -> None:
    services, history = node
    trust = load_trust_list(services.notary.trust_list(NOW))

    for mrn in history.transits.mrns:
        records = [logged.record for logged in services.queries.transit_records(Mrn(mrn))]
        assert verify_records(records, trust, subject=f"transit:{mrn}") == [], mrn
    engine = create_engine(services.settings.database_url)
    with engine.connect() as conn:
        applications = list(conn.scalars(select(VisaApplicationRow.id)))
    engine.dispose()
    assert len(applications) == TRAVELLERS
    for application in applications:
        stored = services.visa_queries.records(application)
        records = [s.record for s in stored if s.record is not None]
        assert len(records) == len(stored) >= 1
        assert verify_records(records, trust) == [], application

    with TestClient(create_app(services)) as client:

        def fetch(path: str) -> Any:
            response = client.get(path)
            assert response.status_code == 200, response.text
            return response.json()

        report = audit(fetch, trust, AuditState(), entries=True)
    assert report.ok, report.problems
    assert report.head is not None
    assert report.checked_entries == report.head.tree_size > TRANSITS * 5


def test_a_second_run_adds_nothing(node: tuple[Services, Any]) -> None:
    services, _ = node
    before = counts(services.settings.database_url)

    assert load_history(services, days=DAYS, transits=TRANSITS, travellers=TRAVELLERS, seed=11) is None
    assert load_demo(services) == 0
    assert services.establish_trust() == 0
    assert counts(services.settings.database_url) == before


def test_no_history_is_made_on_a_node_whose_keys_are_younger_than_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys-first.db'}"
    bootstrap.migrate(url)
    services = bootstrap.build(Settings(env="test", database_url=url), clock=FixedClock(NOW))
    try:
        services.establish_trust()  # as `silkway trust init` would, before any first start
        load_demo(services)
        before = counts(url)

        assert load_history(services, days=DAYS, transits=5, travellers=5) is None
        assert counts(url) == before
    finally:
        services.close()


def test_the_serve_command_simulates_on_the_first_start_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    url = f"sqlite:///{tmp_path / 'serve.db'}"
    started: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **_: started.append(str(target)))
    env = {"SILKWAY_DATABASE_URL": url, "SILKWAY_ENV": "test"}

    first = CliRunner().invoke(app, ["serve"], env=env)
    after_first = counts(url)
    second = CliRunner().invoke(app, ["serve"], env=env)

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert started == ["silkway.bootstrap:create_web_app"] * 2
    assert "demo history" in first.output
    assert "demo history" not in second.output
    assert after_first["transits"] >= 250
    assert after_first["visa_applications"] >= 100
    assert after_first["guarantees"] == len(DEMO_GUARANTEES) + 1  # and the simulation's own
    assert counts(url) == after_first


@pytest.mark.parametrize("off", ["0", "off", "false"])
def test_serve_makes_no_history_when_told_not_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, off: str) -> None:
    import uvicorn

    url = f"sqlite:///{tmp_path / 'plain.db'}"
    monkeypatch.setattr(uvicorn, "run", lambda target, **_: None)

    started = CliRunner().invoke(
        app, ["serve"], env={"SILKWAY_DATABASE_URL": url, "SILKWAY_ENV": "test", "SILKWAY_DEMO_HISTORY": off}
    )

    assert started.exit_code == 0, started.output
    assert "demo history" not in started.output
    assert counts(url)["transits"] == 0
    assert counts(url)["visa_applications"] == 0


def test_simulate_drives_visa_travellers_too(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'simulate.db'}"
    bootstrap.migrate(url)
    env = {"SILKWAY_DATABASE_URL": url, "SILKWAY_ENV": "test"}

    result = CliRunner().invoke(app, ["simulate", "--transits", "3", "--visas", "8", "--seed", "4"], env=env)
    nothing = CliRunner().invoke(app, ["simulate", "--transits", "0"], env=env)

    assert result.exit_code == 0, result.output
    assert "Simulated traffic" in result.output
    assert "Simulated travellers" in result.output
    assert counts(url)["visa_applications"] == 8
    assert counts(url)["transits"] == 3
    assert nothing.exit_code == 2
    assert "nothing to simulate" in nothing.output

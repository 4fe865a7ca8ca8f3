"""The traffic simulation against a real, freshly migrated SQLite database, and the `simulate` command."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from silkway import bootstrap
from silkway.cli.main import app
from silkway.demo import load_demo
from silkway.settings import Settings
from silkway.shared.mrn import Mrn
from silkway.simulation import INCIDENT_SHARE, SimulationSummary, simulate
from silkway.transit.events import (
    ArrivalRecorded,
    BorderEntered,
    BorderExited,
    ControlRecorded,
    IncidentReported,
    VehiclePresented,
)
from silkway.transit.lifecycle import Transit
from silkway.transit.model import Decision, TransitStatus

TRANSITS = 30
SEED = 7


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    summary: SimulationSummary
    transits: dict[Mrn, Transit]
    done: int


def _simulate(directory: Path, *, transits: int = TRANSITS, seed: int = SEED) -> Run:
    url = f"sqlite:///{directory / 'sim.db'}"
    bootstrap.migrate(url)
    services = bootstrap.build(Settings(env="test", database_url=url))
    done: list[None] = []
    try:
        services.establish_trust()
        load_demo(services)
        summary = simulate(services, transits=transits, seed=seed, on_done=lambda: done.append(None))
        stored = {mrn: services.queries.transit(mrn) for mrn in summary.mrns}
    finally:
        services.close()
    found = {mrn: transit for mrn, transit in stored.items() if transit is not None}
    assert len(found) == len(stored), "every MRN in the summary is stored"
    return Run(summary=summary, transits=found, done=len(done))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _simulate(tmp_path_factory.mktemp("simulation"))


def test_every_transit_is_driven_to_discharge_or_refusal(run: Run) -> None:
    summary = run.summary
    statuses = [t.status for t in run.transits.values()]

    assert summary.submitted == TRANSITS == len(set(summary.mrns)) == run.done
    assert summary.discharged + summary.refused == TRANSITS
    assert summary.released == summary.discharged
    assert statuses.count(TransitStatus.DISCHARGED) == summary.discharged
    assert statuses.count(TransitStatus.REFUSED) == summary.refused


def test_decisions_add_up_and_match_the_stored_events(run: Run) -> None:
    summary = run.summary
    decisions = [
        e.decision for t in run.transits.values() for e in t.events if isinstance(e, VehiclePresented | ArrivalRecorded)
    ]
    inspect = [d for d in decisions if d.decision is Decision.INSPECT]
    en_route_controls = [e for t in run.transits.values() for e in t.events if isinstance(e, ControlRecorded)]

    assert summary.presentations == len(decisions) == summary.inspections_decided + summary.inspections_avoided
    assert summary.inspections_decided == len(inspect) == summary.controls_en_route == len(en_route_controls)
    assert summary.inspections_avoided > 0
    reasons = dict(summary.inspections_by_reason)
    assert sum(reasons.values()) == sum(len(d.reasons) for d in inspect)
    assert summary.risk_rule_hits == sum(n for reason, n in reasons.items() if reason.startswith("risk_rule:"))


def test_the_planned_seal_incidents_happen_and_are_caught(run: Run) -> None:
    summary = run.summary
    reported = [e for t in run.transits.values() for e in t.events if isinstance(e, IncidentReported)]
    reasons = dict(summary.inspections_by_reason)

    assert summary.incidents_reported + summary.wrong_seals_presented == round(INCIDENT_SHARE * TRANSITS) >= 1
    assert len(reported) == summary.incidents_reported
    assert reasons.get("seal_mismatch", 0) == summary.wrong_seals_presented
    assert reasons.get("incident_open", 0) == summary.incidents_reported


def test_discharged_transits_pass_their_offices_in_itinerary_order(run: Run) -> None:
    discharged = [t for t in run.transits.values() if t.status is TransitStatus.DISCHARGED]
    assert discharged

    for transit in discharged:
        itinerary = transit.declaration.itinerary
        visited: list[str] = []
        for event in transit.events:
            if event.office is not None and event.office not in visited:
                visited.append(event.office)
        passages = [e.office for e in transit.events if isinstance(e, BorderExited | BorderEntered)]
        times = [e.at for e in transit.events]

        assert tuple(visited) == itinerary.offices, transit.mrn
        assert tuple(passages) == itinerary.border_offices, transit.mrn
        assert times == sorted(times), transit.mrn


def test_the_same_seed_on_a_fresh_database_gives_the_same_summary(run: Run, tmp_path: Path) -> None:
    again = _simulate(tmp_path)

    assert again.summary == run.summary
    assert again.summary.as_dict() == run.summary.as_dict()


def test_the_summary_renders_as_a_table_and_as_json(run: Run) -> None:
    console = Console(record=True, width=120)
    console.print(run.summary.table())
    text = console.export_text()
    data = json.loads(json.dumps(run.summary.as_dict()))

    assert "Inspections avoided" in text
    assert f"{run.summary.inspections_avoided}" in text
    assert data["submitted"] == TRANSITS
    assert data["mrns"] == [str(m) for m in run.summary.mrns]


def test_simulate_refuses_zero_transits(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one"):
        _simulate(tmp_path, transits=0)


def test_the_simulate_command_prints_the_summary(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    bootstrap.migrate(url)

    result = CliRunner().invoke(
        app,
        ["simulate", "--transits", "5", "--seed", "3"],
        env={"SILKWAY_DATABASE_URL": url, "SILKWAY_ENV": "test"},
    )

    assert result.exit_code == 0, result.output
    assert "inspections avoided" in result.output.lower()

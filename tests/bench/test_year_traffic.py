"""The year-of-traffic generator writes a database the app itself reads, verifies and goes on appending to.

A small year (a few hundred transits and visa files, one frequent driver with some 500 stays) is generated
into a fresh PostgreSQL database of this worker; then everything is read back through the app wired as
`bootstrap` wires it: transit histories, visa files, the stay rule, the transparency log and its proofs, and
every record's signature, chain and canonical form against the node's own trust list.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, LiteralString

import psycopg
import pytest
from alembic import command
from alembic.config import Config

from bench.traffic import END, Dataset, Scale, build
from silkway.bootstrap import MIGRATIONS
from silkway.shared.actors import Actor, Role
from silkway.shared.mrn import Mrn
from silkway.signing import merkle
from silkway.signing.trustlist import load_trust_list
from silkway.signing.verify import verify_records
from silkway.visas import handlers
from silkway.visas.border import history_of
from silkway.visas.commands import CheckAtBorder
from silkway.visas.examination import stay_of
from silkway.visas.model import Direction

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
SMALL = Scale(transits=150, visas=150, drivers=1, carriers=5, seed=11)


def _admin_url() -> str:
    url = os.environ.get("SILKWAY_TEST_DATABASE_URL", DEFAULT_POSTGRES).replace("+psycopg", "")
    try:
        with psycopg.connect(url, connect_timeout=3):
            return url
    except psycopg.OperationalError as exc:
        if os.environ.get("SILKWAY_REQUIRE_SERVICES") == "1":
            pytest.fail(f"PostgreSQL not reachable: {exc} — SILKWAY_REQUIRE_SERVICES=1 makes it mandatory")
        pytest.skip(f"PostgreSQL not reachable ({type(exc).__name__}); set SILKWAY_TEST_DATABASE_URL")


@pytest.fixture(scope="module")
def dataset() -> Iterator[Dataset]:
    admin = _admin_url()
    name = f"silkway_bench_year_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    yield build(admin, name, SMALL, env="test", log=lambda _: None)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rows(dataset: Dataset, query: LiteralString) -> list[tuple[Any, ...]]:
    with psycopg.connect(dataset.url.replace("+psycopg", "")) as conn:
        return conn.execute(query).fetchall()


def test_the_schema_is_the_migrations_and_the_counts_are_the_scale(dataset: Dataset) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = dataset.url
    command.check(config)  # raises if the tables and indexes differ from the models
    assert dataset.counts["transits"] == SMALL.transits
    assert dataset.counts["visas"] >= SMALL.visas
    assert dataset.counts["transit events"] >= 4 * SMALL.transits
    assert dataset.checked_records > 0


def test_every_transit_reads_back_with_its_verified_history(dataset: Dataset) -> None:
    services = dataset.services()
    try:
        trust = load_trust_list(services.notary.trust_list(END))
        mrns = [str(r[0]) for r in _rows(dataset, "SELECT mrn FROM transits")]
        assert len(mrns) == SMALL.transits
        for mrn in mrns:
            found = services.queries.transit_with_records(Mrn(mrn))
            assert found is not None
            transit, logged = found
            assert transit.version == len(logged) == len(transit.events)
            records = [entry.record for entry in logged]
            assert verify_records(records, trust, subject=f"transit:{mrn}") == []
        statuses = {str(r[0]) for r in _rows(dataset, "SELECT DISTINCT status FROM transits")}
        assert {"discharged", "refused"} <= statuses
    finally:
        services.close()


def test_every_visa_is_found_by_number_and_its_records_verify(dataset: Dataset) -> None:
    services = dataset.services()
    try:
        trust = load_trust_list(services.notary.trust_list(END))
        visas = _rows(dataset, "SELECT number, application_id FROM visas")
        assert len(visas) >= SMALL.visas
        for number, application_id in visas:
            file = services.visa_queries.visa(str(number))
            assert file is not None
            assert file.visa is not None
            assert file.visa.number == number
            stored = services.visa_queries.records(str(application_id))
            records = [s.record for s in stored if s.record is not None]
            assert len(records) == len(stored) == len(file.events)
            assert verify_records(records, trust, subject=f"visa-application:{application_id}") == []
    finally:
        services.close()


def test_the_frequent_driver_has_some_500_stays_and_the_stay_rule_computes(dataset: Dataset) -> None:
    services = dataset.services()
    try:
        (driver,) = dataset.frequent
        file = services.visa_queries.visa(driver.visas[-1])
        assert file is not None
        assert file.visa is not None
        crossings = services.visa_queries.crossings_of(driver.passport, driver.nationality)
        stays = history_of(crossings).stays
        assert len(stays) >= 450
        terms = file.visa.terms
        status = stay_of(
            crossings,
            now=END - timedelta(days=1),
            valid_from=terms.valid_from,
            valid_until=terms.valid_until,
            duration_of_stay_days=terms.duration_of_stay_days,
            scheme=services.scheme,
        )
        assert 0 < status.days_used <= 90
        refused = _rows(dataset, "SELECT count(*) FROM visa_crossings WHERE NOT allowed AND direction = 'entry'")
        assert int(refused[0][0]) < len(crossings) // 10
    finally:
        services.close()


def test_the_log_is_the_records_in_time_order_and_its_proofs_verify(dataset: Dataset) -> None:
    services = dataset.services()
    try:
        head = services.notary.tree_head(END)
        assert head.tree_size == dataset.log_size
        tree = merkle.CompactTree()
        for start in range(0, head.tree_size, 1000):
            for entry in services.notary.entries(start, min(start + 1000, head.tree_size)):
                assert entry.index == tree.size
                tree.append(entry.leaf_hash)
        assert tree.root() == head.root_hash
        by_index = {
            int(index): merkle.leaf_hash(bytes(canonical))
            for index, canonical in _rows(dataset, "SELECT log_index, canonical FROM transit_events")
        }
        leaves = {int(i): bytes(h) for i, h in _rows(dataset, "SELECT index, leaf_hash FROM log_leaves")}
        assert all(leaves[index] == leaf for index, leaf in by_index.items())
        times = [r[0] for r in _rows(dataset, "SELECT at FROM transit_events ORDER BY log_index")]
        assert times == sorted(times)
        for index in (0, 1, head.tree_size // 3, head.tree_size - 1):
            found, proof = services.notary.inclusion_proof(leaves[index], head.tree_size)
            assert found == index
            assert merkle.verify_inclusion(leaves[index], index, head.tree_size, proof, head.root_hash)
        for first in (1, 7, head.tree_size // 2, head.tree_size - 1):
            proof = services.notary.consistency_proof(first, head.tree_size)
            first_root = merkle.root_hash(first, _nodes(dataset, merkle.needed_for_root(first)))
            assert merkle.verify_consistency(first, head.tree_size, first_root, head.root_hash, proof)
    finally:
        services.close()


def test_the_app_goes_on_appending_to_the_loaded_log(dataset: Dataset) -> None:
    services = dataset.services()
    try:
        before = services.notary.tree_head(END)
        number, state = _rows(dataset, "SELECT number, issuing_state FROM visas ORDER BY issued_at DESC LIMIT 1")[0]
        file = services.visa_queries.visa(str(number))
        assert file is not None
        post = next(code for code, airport in services.scheme.airports.items() if airport.state == state)
        check = handlers.check_at_border(
            CheckAtBorder(
                actor=Actor(username=f"border-{str(state).lower()}", role=Role.BORDER_GUARD, country=str(state)),
                office=post,
                direction=Direction.ENTRY,
                passport_number=file.applicant.passport_number,
                visa_number=str(number),
            ),
            uow=services.uow(),
            clock=services.clock,
            scheme=services.scheme,
            countries=services.countries,
            seals=services.seal_reader,
        )
        assert check.recorded
        after = services.notary.tree_head(END)
        assert after.tree_size == before.tree_size + 1
        proof = services.notary.consistency_proof(before.tree_size, after.tree_size)
        assert merkle.verify_consistency(before.tree_size, after.tree_size, before.root_hash, after.root_hash, proof)
    finally:
        services.close()


def test_a_scale_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Scale(transits=0, visas=1, drivers=1, carriers=1)
    with pytest.raises(ValueError, match="at least one"):
        Scale(transits=1, visas=1, drivers=1, carriers=-3)
    with pytest.raises(ValueError, match="fraction"):
        Scale.year(0)
    with pytest.raises(ValueError, match="fraction"):
        Scale.year(1.5)


def _nodes(dataset: Dataset, keys: set[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    rows = _rows(dataset, "SELECT level, idx, hash FROM log_nodes")
    return {(int(lv), int(ix)): bytes(h) for lv, ix, h in rows if (int(lv), int(ix)) in keys}

"""Shared fixtures: a migrated database per backend and worker, wired services, an API client.

PostgreSQL tests run whenever a server is reachable (SILKWAY_TEST_DATABASE_URL, or the local default);
without one they skip with a message, and with SILKWAY_REQUIRE_SERVICES=1 (CI) that skip is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from databases import empty_database
from silkway import bootstrap
from silkway.demo import load_demo
from silkway.services import Services
from silkway.settings import Settings
from silkway.shared.clock import FixedClock
from silkway.storage.engine import normalise_url
from silkway.web.app import create_app

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REQUIRED = os.environ.get("SILKWAY_REQUIRE_SERVICES") == "1"


def postgres_admin_url() -> str | None:
    """The PostgreSQL server to test against, or None (skip, or fail in CI) when none is reachable."""
    url = normalise_url(os.environ.get("SILKWAY_TEST_DATABASE_URL", DEFAULT_POSTGRES))
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return url
    except Exception as exc:  # any failure to connect means "not reachable"
        message = f"PostgreSQL not reachable at {make_url(url).render_as_string()}: {exc.__class__.__name__}"
        if REQUIRED:
            pytest.fail(f"{message} — SILKWAY_REQUIRE_SERVICES=1 makes PostgreSQL mandatory")
        pytest.skip(f"{message}; set SILKWAY_TEST_DATABASE_URL to run the PostgreSQL tests")
    finally:
        engine.dispose()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated database for this worker, on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'silkway.db'}"
        bootstrap.migrate(url)
        yield url
        return
    admin = postgres_admin_url()
    assert admin is not None
    # the process id too, so two test runs on one machine (a developer's and CI's) never drop each other's database
    name = f"silkway_test_{_worker()}_{os.getpid()}"
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    bootstrap.migrate(url)
    yield url
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin_engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 21, 8, 0, tzinfo=UTC))


@pytest.fixture
def services(database_url: str, clock: FixedClock) -> Iterator[Services]:
    """Services on an empty database with the demo accounts, guarantees and risk rules."""
    empty_database(database_url)
    built = bootstrap.build(Settings(env="test", database_url=database_url), clock=clock)
    built.establish_trust()
    load_demo(built)
    yield built
    built.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services), raise_server_exceptions=False) as test_client:
        yield test_client

"""The `silkway` command: migrations, demo data, production safeguards, clear errors and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from silkway import bootstrap
from silkway.cli.main import app
from silkway.settings import Settings, SettingsError


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'var' / 'cli.db'}"


def test_db_upgrade_then_demo_load_creates_the_demo_accounts_once(sqlite_url: str) -> None:
    runner = CliRunner()
    env = {"SILKWAY_DATABASE_URL": sqlite_url, "SILKWAY_ENV": "test"}
    upgraded = runner.invoke(app, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    first = runner.invoke(app, ["demo", "load"], env=env)
    assert first.exit_code == 0, first.output
    assert "46 records added" in first.output
    second = runner.invoke(app, ["demo", "load"], env=env)
    assert "0 records added" in second.output

    services = bootstrap.build(Settings(env="test", database_url=sqlite_url))
    try:
        usernames = {a.username for cc in ("KZ", "UZ", "TJ", "AM") for a in services.queries.accounts(cc)}
    finally:
        services.close()
    assert {"carrier-kz", "customs-kz", "analyst-uz", "admin-tj", "consul-am", "border-kz"} <= usernames


def test_production_refuses_demo_data(sqlite_url: str) -> None:
    env = {
        "SILKWAY_DATABASE_URL": sqlite_url,
        "SILKWAY_ENV": "production",
        "SILKWAY_SECRET_KEY": "x" * 40,
        "SILKWAY_KEY_PASSPHRASE": "a long production passphrase",
    }
    result = CliRunner().invoke(app, ["demo", "load"], env=env)
    assert result.exit_code == 2
    assert "never loaded" in result.output


def test_production_refuses_to_start_with_the_default_secret(sqlite_url: str) -> None:
    env = {"SILKWAY_DATABASE_URL": sqlite_url, "SILKWAY_ENV": "production"}
    result = CliRunner().invoke(app, ["serve"], env=env)
    assert result.exit_code == 2
    assert "SILKWAY_SECRET_KEY" in result.output
    with pytest.raises(SettingsError, match="SILKWAY_SECRET_KEY"):
        Settings.from_env({"SILKWAY_ENV": "production", "SILKWAY_SECRET_KEY": "short"})


def test_an_unknown_environment_is_refused() -> None:
    with pytest.raises(SettingsError, match="SILKWAY_ENV"):
        Settings.from_env({"SILKWAY_ENV": "staging"})


@pytest.mark.parametrize("value", ["0", "201", "many", "-4"])
def test_worker_threads_out_of_range_or_not_a_number_are_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="SILKWAY_WORKER_THREADS"):
        Settings.from_env({"SILKWAY_WORKER_THREADS": value})


def test_worker_threads_default_to_forty_and_may_be_set() -> None:
    assert Settings.from_env({}).worker_threads == 40
    assert Settings.from_env({"SILKWAY_WORKER_THREADS": "8"}).worker_threads == 8

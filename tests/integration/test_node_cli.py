"""`silkway node` and the key ceremony's commands: a node made once, its root printed, peers pinned, and every
bad input refused with a plain message and an exit code, nothing written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from silkway.cli.main import app
from silkway.settings import Settings, SettingsError


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"SILKWAY_ENV": "test", "SILKWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'kz.db'}"}


def node(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["node", "--nats", "nats://127.0.0.1:4222", "--init-only", *args], env=env)
    return result.exit_code, result.output


def test_a_node_is_made_once_for_its_own_state_and_pins_its_peers(env: dict[str, str], tmp_path: Path) -> None:
    uz_env = {**env, "SILKWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'uz.db'}"}
    code, output = node(uz_env, "--country", "uz")
    assert code == 0, output
    uz_root = re.search(r"root UZ ([0-9a-f]{32})", output)
    assert uz_root is not None, output

    code, output = node(env, "--country", "KZ", "--peer", f"UZ={uz_root.group(1)}")
    assert code == 0, output
    kz_root = re.search(r"root KZ ([0-9a-f]{32})", output)
    assert kz_root is not None
    again = node(env, "--country", "KZ")
    assert again == (0, f"root KZ {kz_root.group(1)}\n")  # the same keys: nothing made twice

    runner = CliRunner()
    node_env = {**env, "SILKWAY_NODE_STATE": "KZ", "SILKWAY_NATS_URL": "nats://127.0.0.1:4222"}
    listed = runner.invoke(app, ["trust", "list", "--json"], env=node_env)
    assert listed.exit_code == 0, listed.output
    assert '"state": "UZ"' not in listed.output  # Uzbekistan's keys arrive over the bus, not from here
    assert runner.invoke(app, ["trust", "root"], env=node_env).output.strip() == kz_root.group(1)
    assert runner.invoke(app, ["trust", "pin", "UZ", uz_root.group(1)], env=node_env).output.strip() == (
        "UZ was already pinned to this root"
    )
    unpinned = runner.invoke(app, ["trust", "unpin", "UZ"], env=node_env)
    assert (unpinned.exit_code, "UZ unpinned" in unpinned.output) == (0, True)
    gone = runner.invoke(app, ["trust", "unpin", "UZ"], env=node_env)
    assert (gone.exit_code, "not a peer" in gone.output) == (2, True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--country", "XX"], "is not a member state"),
        (["--country", "KZ", "--peer", "UZ"], "--peer takes STATE=ROOT_KEY_ID"),
        (["--country", "KZ", "--peer", "ZZ=00"], "--peer takes STATE=ROOT_KEY_ID"),
        (["--country", "KZ", "--peer", "UZ=not-a-key-id"], "32 lower-case hex digits"),
        (["--country", "KZ", "--peer", "KZ=" + "0" * 32], "does not pin its own state"),
    ],
)
def test_bad_input_is_refused_plainly(env: dict[str, str], args: list[str], message: str) -> None:
    code, output = node(env, *args)
    assert code == 2, output
    assert message in output
    assert "Traceback" not in output


def test_a_database_that_cannot_be_reached_is_named_without_its_password(env: dict[str, str]) -> None:
    url = "postgresql+psycopg://silkway:s3cret@127.0.0.1:1/silkway"
    code, output = node({**env, "SILKWAY_DATABASE_URL": url}, "--country", "KZ")
    assert code == 3, output
    assert "cannot migrate postgresql+psycopg://127.0.0.1:1/silkway" in output
    assert "s3cret" not in output


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SILKWAY_NATS_URL", "http://127.0.0.1:4222", "nats:// or tls://"),
        ("SILKWAY_BUS_PREFIX", "silk.way", "letters, digits and underscores"),
        ("SILKWAY_STREAM_REPLICAS", "2", "1, 3 or 5"),
        ("SILKWAY_STREAM_REPLICAS", "three", "whole number"),
        ("SILKWAY_CLOCK_START", "2026-11-21T08:00:00", "with its offset"),
    ],
)
def test_bad_federation_settings_are_refused(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({"SILKWAY_ENV": "test", variable: value})


def test_a_started_clock_is_for_tests_only() -> None:
    with pytest.raises(SettingsError, match="tests only"):
        Settings.from_env({"SILKWAY_CLOCK_START": "2026-11-21T08:00:00+00:00"})

"""`silkway trust …` and `silkway verify`: keys for offline devices, and a plain verdict with an exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from silkway import bootstrap
from silkway.cli.main import app
from silkway.demo import load_demo
from silkway.documents.reading import read_payloads
from silkway.settings import Settings
from silkway.shared.clock import FixedClock
from silkway.web.app import create_app

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
from apiwalk import Walk


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | dict[str, str]]:
    """A node with one released transit: its environment, the exported trust list, pinned roots and the PDF."""
    directory = tmp_path_factory.mktemp("node")
    env = {"SILKWAY_DATABASE_URL": f"sqlite:///{directory / 'node.db'}", "SILKWAY_ENV": "test"}
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    # keys and the document on one fixed clock, so the test never depends on the machine's clock
    clock = FixedClock(datetime(2026, 11, 21, 8, 0, tzinfo=UTC))
    services = bootstrap.build(Settings(env="test", database_url=env["SILKWAY_DATABASE_URL"]), clock=clock)
    assert services.establish_trust() > 50  # a root per state, a key per office, the node key
    again = runner.invoke(app, ["trust", "init"], env=env)
    assert "(0 keys created)" in again.output
    load_demo(services)
    clock.advance(minutes=5)
    with TestClient(create_app(services)) as client:
        walk = Walk(client)
        walk.submit()
        walk.release()
        pdf = client.get(f"/api/v1/transits/{walk.mrn}/document", headers=walk.carrier).content
    services.close()
    (directory / "tad.pdf").write_bytes(pdf)
    (directory / "payload.txt").write_text(read_payloads(pdf)[0])
    exported = runner.invoke(app, ["trust", "export", str(directory / "trust.json")], env=env)
    assert exported.exit_code == 0, exported.output
    roots = runner.invoke(
        app, ["trust", "roots", str(directory / "roots.json"), "--trust-list", str(directory / "trust.json")], env=env
    )
    assert roots.exit_code == 0, roots.output
    return {"dir": directory, "env": env}


def invoke(node: dict[str, Path | dict[str, str]], *args: str) -> tuple[int, str]:
    directory = node["dir"]
    assert isinstance(directory, Path)
    resolved = [a.replace("{dir}", str(directory)) for a in args]
    result = CliRunner().invoke(app, resolved, env={**node["env"], "COLUMNS": "200"})  # type: ignore[dict-item]
    return result.exit_code, result.output


def test_verify_says_a_genuine_document_is_genuine_and_names_the_office(node: dict[str, Path]) -> None:
    code, output = invoke(
        node, "verify", "{dir}/tad.pdf", "--trust-list", "{dir}/trust.json", "--roots", "{dir}/roots.json"
    )
    assert code == 0, output
    assert output.startswith("GENUINE")
    assert "Signed by KZ-ALA-ZHETYSU" in output
    assert "Last control: physical, satisfactory, by KZ-ALA-ZHETYSU" in output
    assert "not pinned" not in output


def test_verify_reads_the_payload_text_and_prints_json(node: dict[str, Path]) -> None:
    code, output = invoke(node, "verify", "{dir}/payload.txt", "--trust-list", "{dir}/trust.json", "--json")
    assert code == 0, output
    assert json.loads(output)["genuine"] is True


def test_an_edited_payload_is_not_genuine(node: dict[str, Path]) -> None:
    directory = node["dir"]
    payload = (directory / "payload.txt").read_text()
    position = len(payload) // 2
    edited = payload[:position] + ("A" if payload[position] != "A" else "B") + payload[position + 1 :]
    (directory / "edited.txt").write_text(edited)
    code, output = invoke(node, "verify", "{dir}/edited.txt", "--trust-list", "{dir}/trust.json")
    assert code == 1, output
    assert output.startswith("NOT GENUINE")


@pytest.mark.parametrize(
    ("file", "trust", "code", "message"),
    [
        ("{dir}/missing.pdf", "{dir}/trust.json", 2, "cannot read"),
        ("{dir}/roots.json", "{dir}/trust.json", 2, "not a signed payload"),
        ("{dir}/tad.pdf", "{dir}/missing.json", 2, "cannot read"),
        ("{dir}/tad.pdf", "{dir}/tad.pdf", 2, "not a trust list"),
    ],
)
def test_bad_input_to_verify_gets_a_plain_message(
    node: dict[str, Path], file: str, trust: str, code: int, message: str
) -> None:
    exit_code, output = invoke(node, "verify", file, "--trust-list", trust)
    assert exit_code == code, output
    assert message in " ".join(output.split())


def test_a_forged_trust_list_or_other_pinned_roots_are_refused(node: dict[str, Path]) -> None:
    directory = node["dir"]
    document = json.loads((directory / "trust.json").read_bytes())
    document["sections"][0]["section"]["keys"][0]["status"] = "revoked"
    (directory / "forged.json").write_text(json.dumps(document))
    code, output = invoke(node, "verify", "{dir}/tad.pdf", "--trust-list", "{dir}/forged.json")
    assert code == 1
    assert "not a trustworthy trust list" in output

    roots = json.loads((directory / "roots.json").read_text())
    (directory / "other-roots.json").write_text(json.dumps({**roots, "KZ": "0" * 32}))
    code, output = invoke(
        node, "verify", "{dir}/tad.pdf", "--trust-list", "{dir}/trust.json", "--roots", "{dir}/other-roots.json"
    )
    assert code == 1
    assert "not the pinned root" in " ".join(output.split())


def test_rotate_and_revoke_from_the_command_line(node: dict[str, Path]) -> None:
    code, output = invoke(node, "trust", "rotate", "KZ-NURZHOLY")
    assert code == 0, output
    key_id = output.split()[-1]
    code, output = invoke(node, "trust", "revoke", key_id, "--compromised-at", "2026-11-21T09:00:00Z")
    assert code == 0, output
    assert "KZ-NURZHOLY now signs with key" in output
    code, output = invoke(node, "trust", "list", "--json")
    assert code == 0
    [revoked] = [k for k in json.loads(output) if k["certificate"]["key_id"] == key_id]
    assert (revoked["status"], revoked["compromised_at"]) == ("revoked", "2026-11-21T09:00:00.000000Z")
    code, output = invoke(node, "trust", "list")
    assert code == 0
    assert "key id" in output


@pytest.mark.parametrize(
    "args",
    [
        ["trust", "revoke", "0" * 32, "--compromised-at", "yesterday"],
        ["trust", "revoke", "0" * 32, "--compromised-at", "2026-11-21T09:00:00"],
    ],
)
def test_a_bad_compromise_time_gets_a_plain_message(node: dict[str, Path], args: list[str]) -> None:
    code, output = invoke(node, *args)
    assert code == 2
    assert "--compromised-at" in output


def test_an_unknown_office_or_key_exits_2_with_a_message(node: dict[str, Path]) -> None:
    silkway = Path(sys.executable).with_name("silkway")
    env = {**node["env"], "PATH": "/usr/bin:/bin"}  # type: ignore[dict-item]
    for args in (
        ["trust", "rotate", "KZ-NOWHERE"],
        ["trust", "revoke", "0" * 32, "--compromised-at", "2026-01-01T00:00Z"],
    ):
        result = subprocess.run([str(silkway), *args], env=env, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "error:" in result.stderr

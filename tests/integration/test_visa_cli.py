"""`silkway verify` on visa seals offline, `silkway visa revocations`, and `silkway purge` with retention."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import base45  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from silkway import bootstrap
from silkway.cli.main import app
from silkway.demo import load_demo
from silkway.settings import Settings
from silkway.shared.clock import FixedClock
from silkway.signing.vds import PREFIX
from silkway.web.app import create_app

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
from apiwalk import auth
from visawalk import Traveller, application


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A node with two visas, one revoked by Uzbekistan; the trust list, revocation lists, seals and an e-visa."""
    directory = tmp_path_factory.mktemp("visa-node")
    env = {"SILKWAY_DATABASE_URL": f"sqlite:///{directory / 'node.db'}", "SILKWAY_ENV": "test"}
    assert CliRunner().invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    clock = FixedClock(datetime(2026, 11, 21, 8, 0, tzinfo=UTC))
    services = bootstrap.build(Settings(env="test", database_url=env["SILKWAY_DATABASE_URL"]), clock=clock)
    services.establish_trust()
    load_demo(services)
    clock.advance(minutes=5)
    with TestClient(create_app(services)) as client:
        kept = Traveller(client, clock)
        kept.apply()
        kept.decide()
        revoked = Traveller(client, clock)
        revoked.apply(application(passport_number="Z7654321", surname="VERMA", given_names="ARJUN"))
        revoked.decide()
        (directory / "trust.json").write_bytes(client.get("/api/v1/trust-list").content)
        (directory / "before.json").write_bytes(client.get("/api/v1/visa-revocations").content)
        response = client.post(
            f"/api/v1/visas/{revoked.number}/revocation",
            json={"grounds": ["threat"], "reason": "entered in the alert list after issue"},
            headers=auth(client, "consul-uz"),
        )
        assert response.status_code == 200, response.text
        (directory / "after.json").write_bytes(client.get("/api/v1/visa-revocations").content)
        (directory / "kept.txt").write_text(kept.seal())
        (directory / "revoked.txt").write_text(revoked.seal())
        document = client.get(f"/api/v1/visas/{kept.number}/document", params={"passport_number": kept.passport})
        assert document.status_code == 200, document.text
        (directory / "evisa.pdf").write_bytes(document.content)
        numbers = {"kept": kept.number, "revoked": revoked.number}
    services.close()
    return {"dir": directory, "env": env, **numbers}


def invoke(node: dict[str, Any], *args: str) -> tuple[int, str]:
    resolved = [a.replace("{dir}", str(node["dir"])) for a in args]
    result = CliRunner().invoke(app, resolved, env={**node["env"], "COLUMNS": "200"})
    return result.exit_code, result.output


def test_a_genuine_visa_seal_is_genuine_offline(node: dict[str, Any]) -> None:
    code, output = invoke(
        node, "verify", "{dir}/kept.txt", "-t", "{dir}/trust.json", "--revocations", "{dir}/after.json"
    )
    assert code == 0, output
    assert output.startswith("GENUINE")
    assert f"Visa {node['kept']} issued by KZ" in output
    assert "Passport Z1234567; multiple entries; 60 days of stay" in output


def test_the_e_visa_pdf_is_read_and_checked(node: dict[str, Any]) -> None:
    code, output = invoke(node, "verify", "{dir}/evisa.pdf", "-t", "{dir}/trust.json", "--json")
    assert code == 0, output
    verdict = json.loads(output[: output.rindex("}") + 1])
    assert verdict["genuine"] is True
    assert verdict["visa"]["number"] == node["kept"]


@pytest.mark.parametrize("position", [10, 60, 100, 150])
def test_a_seal_with_one_byte_changed_is_refused_offline(node: dict[str, Any], position: int) -> None:
    text = (node["dir"] / "kept.txt").read_text()
    raw = bytearray(base45.b45decode(text[len(PREFIX) :]))
    raw[position] ^= 0x01
    (node["dir"] / f"forged-{position}.txt").write_text(PREFIX + base45.b45encode(bytes(raw)).decode())
    code, output = invoke(node, "verify", f"{{dir}}/forged-{position}.txt", "-t", "{dir}/trust.json", "--json")
    assert code == 1, output
    verdict = json.loads(output[: output.rindex("}") + 1])
    assert verdict["genuine"] is False
    assert verdict["problems"][0]["code"] in {"seal_signature", "seal_malformed", "seal_unknown_key"}


def test_a_revoked_visa_is_refused_with_the_revocation_list_and_flagged_without_it(node: dict[str, Any]) -> None:
    code, output = invoke(
        node, "verify", "{dir}/revoked.txt", "-t", "{dir}/trust.json", "--revocations", "{dir}/after.json"
    )
    assert code == 1, output
    assert output.startswith("NOT GENUINE")
    assert "revoked by UZ" in output
    code, output = invoke(
        node, "verify", "{dir}/revoked.txt", "-t", "{dir}/trust.json", "--revocations", "{dir}/before.json"
    )
    assert code == 0, output  # the older list predates the revocation, and says as of when it speaks
    assert "revocations as of" in output
    code, output = invoke(node, "verify", "{dir}/revoked.txt", "-t", "{dir}/trust.json")
    assert code == 0
    assert "whether the visa was revoked is not known offline" in output


def test_an_edited_revocation_list_is_refused_and_garbage_is_bad_input(node: dict[str, Any]) -> None:
    edited = json.loads((node["dir"] / "after.json").read_text())
    edited["revoked"] = []
    (node["dir"] / "edited.json").write_text(json.dumps(edited))
    code, output = invoke(
        node, "verify", "{dir}/revoked.txt", "-t", "{dir}/trust.json", "--revocations", "{dir}/edited.json"
    )
    assert code == 1
    assert "not a trustworthy revocation list" in output
    (node["dir"] / "garbage.json").write_text("[1, 2")
    code, output = invoke(
        node, "verify", "{dir}/kept.txt", "-t", "{dir}/trust.json", "--revocations", "{dir}/garbage.json"
    )
    assert code == 2
    assert "not a visa revocation list" in output


def test_visa_revocations_export_writes_the_signed_list(node: dict[str, Any]) -> None:
    code, output = invoke(node, "visa", "revocations", "{dir}/exported.json")
    assert code == 0, output
    assert "1 revoked visas written" in output
    exported = json.loads((node["dir"] / "exported.json").read_text())
    assert [(r["number"], r["state"], r["grounds"]) for r in exported["revoked"]] == [
        (node["revoked"], "UZ", ["threat"])
    ]
    assert exported["format"] == "silkway-visa-revocations/1"


def test_purge_erases_personal_data_past_retention_and_keeps_the_log(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'purge.db'}"
    bootstrap.migrate(url)
    clock = FixedClock(datetime(2026, 11, 21, 8, 0, tzinfo=UTC))
    services = bootstrap.build(Settings(env="test", database_url=url), clock=clock)
    services.establish_trust()
    load_demo(services)
    try:
        with TestClient(create_app(services)) as client:
            refused = Traveller(client, clock)
            refused.apply()
            refused.decide(decision="refuse", grounds=["insufficient_means"])
            issued = Traveller(client, clock)
            issued.apply(application(passport_number="Z7654321"))
            issued.decide()
            size = client.get("/api/v1/log/tree-head").json()["tree_size"]
            data = client.get(f"/api/v1/visa-applications/{refused.id}/data", params={"token": refused.token}).json()
            assert data["retention"]["erase_after"] == "2031-11-20"  # five years after the refusal

            assert services.purge() == (0, 0)
            clock.advance(days=5 * 365 + 1)
            # the refusal and the two demo alerts, entered five years ago; a visa is kept five years after it expires
            assert services.purge() == (1, 2)
            gone = client.get(f"/api/v1/visa-applications/{refused.id}", params={"token": refused.token})
            assert gone.status_code == 404
            assert issued.status()["status"] == "issued"
            head = client.get("/api/v1/log/tree-head").json()
            assert head["tree_size"] == size  # nothing leaves the log: each record's hash and signature stay
            leaves = client.get("/api/v1/log/entries", params={"start": 0, "end": size}).json()
            assert len(leaves["entries"]) == size
    finally:
        services.close()
    raw = (tmp_path / "purge.db").read_bytes()
    assert b"insufficient_means" not in raw  # the refusal record was encrypted, and is now erased


def test_purge_from_the_command_line_reports_what_it_did(node: dict[str, Any]) -> None:
    code, output = invoke(node, "purge")
    assert code == 0, output
    assert "purged 0 visa files and 0 alerts" in output
    assert "crossings 1095 days" in output

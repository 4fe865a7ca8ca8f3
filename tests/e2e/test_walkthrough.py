"""The README's walk-through, run for real: `silkway serve` on a fresh database, then docs/walkthrough.sh."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from silkway.demo import demo_accounts

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_the_walkthrough_runs_against_a_fresh_server(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "SILKWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'walk.db'}",
        "SILKWAY_ENV": "test",
        "SILKWAY_DEMO_HISTORY": "0",
    }
    silkway = Path(sys.executable).with_name("silkway")
    server = subprocess.Popen(
        [str(silkway), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        walk = subprocess.run(
            ["bash", str(ROOT / "docs" / "walkthrough.sh")],
            env={**env, "BASE": base},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        export = run(silkway, "trust", "export", str(tmp_path / "trust.json"), env=env)
        audits = [
            run(
                silkway,
                "audit",
                base,
                "--trust-list",
                str(tmp_path / "trust.json"),
                "--state",
                str(tmp_path / "audit.json"),
                "--entries",
                env=env,
            )
            for _ in range(2)
        ]
        (tmp_path / "tad.pdf").write_bytes(document(base))
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert walk.returncode == 0, walk.stderr
    lines = walk.stdout.splitlines()
    greens = [line for line in lines if "('green', [])" in line]
    assert len(greens) == 4  # three border offices and the arrival
    assert any("('inspect', ['seal_mismatch'])" in line for line in lines)
    assert lines[-1].split()[:2] == ["13", "discharged"]
    assert sum(" control_recorded " in f" {line} " for line in lines) == 1  # only at the Tajik border

    assert export.returncode == 0, export.stderr
    for audited in audits:
        assert audited.returncode == 0, audited.stdout + audited.stderr
        # the transit's 13 records, the 2 demo alerts, and the demo's administrative records: its accounts created,
        # 2 guarantees registered and 3 risk rules put
        assert f"consistent: {13 + 2 + len(demo_accounts()) + 2 + 3} entries" in audited.stdout
    assert "checked against 1 earlier heads" in audits[1].stdout

    # the server is gone: the document proves itself from the exported trust list alone
    verified = run(silkway, "verify", str(tmp_path / "tad.pdf"), "--trust-list", str(tmp_path / "trust.json"), env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("GENUINE")
    assert "Last control: physical, satisfactory, by TJ-FOTEHOBOD" in " ".join(verified.stdout.split())


def run(silkway: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(silkway), *args], env={**env, "COLUMNS": "200"}, capture_output=True, text=True, timeout=60, check=False
    )


def document(base: str) -> bytes:
    """The accompanying document of the walk-through's transit, as the carrier downloads it."""
    form = urllib.parse.urlencode({"username": "carrier-kz", "password": "demo"}).encode()
    with urllib.request.urlopen(f"{base}/api/v1/auth/token", data=form, timeout=10) as answer:
        token = json.loads(answer.read())["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    listing = urllib.request.Request(f"{base}/api/v1/transits", headers=headers)
    with urllib.request.urlopen(listing, timeout=10) as answer:
        mrn = json.loads(answer.read())["items"][0]["mrn"]
    request = urllib.request.Request(f"{base}/api/v1/transits/{mrn}/document", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return bytes(answer.read())

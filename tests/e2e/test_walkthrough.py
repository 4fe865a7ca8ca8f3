"""The README's walk-through, run for real: `silkway serve` on a fresh database, then docs/walkthrough.sh."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_the_walkthrough_runs_against_a_fresh_server(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "SILKWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'walk.db'}", "SILKWAY_ENV": "test"}
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
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as answer:  # noqa: S310 - loopback
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

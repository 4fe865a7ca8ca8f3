"""Where a border check's time goes: CPU per request through the whole app, and a pyinstrument profile.

``python -m bench.profile [--requests N] [--html DIR]`` prepares a small database (`bench.workload`), then
sends presentations and visa checks through the ASGI app in this process (Starlette's test client, so no
network and no server in the way) and reports the CPU time per request of each kind. CPU time is what the
two cores of a border post's server run out of first, and unlike latency it hardly moves when the machine is
busy with something else. With ``--html``, it also writes pyinstrument's call tree of each kind.

bench/README.md records its figures before and after each fix.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from bench.workload import Presentation, Traveller, environment, prepare

T = TypeVar("T")


def measure(requests: int, html: Path | None) -> dict[str, float]:
    """CPU milliseconds per presentation and per visa check (after a warm-up of a few of each)."""
    with tempfile.TemporaryDirectory(prefix="silkway-profile-") as folder:
        url = f"sqlite:///{Path(folder) / 'profile.db'}"
        workload = prepare(url, transits=2 * requests + 60, travellers=2 * requests + 60)
        os.environ.update(environment(url))
        from starlette.testclient import TestClient

        from silkway.bootstrap import create_web_app

        with TestClient(create_web_app()) as client:
            tokens: dict[str, dict[str, str]] = {}

            def headers(user: str) -> dict[str, str]:
                if user not in tokens:
                    answer = client.post("/api/v1/auth/token", data={"username": user, "password": "demo"})
                    tokens[user] = {"Authorization": "Bearer " + answer.json()["access_token"]}
                return tokens[user]

            def present(p: Presentation) -> None:
                body = {"office": p.office, "seals": list(p.seals)}
                answer = client.post(f"/api/v1/transits/{p.mrn}/presentations", json=body, headers=headers(p.officer))
                if answer.status_code != 200:
                    raise RuntimeError(f"presentation answered {answer.status_code}: {answer.text}")

            def check(t: Traveller) -> None:
                body = {"office": t.posts[0], "direction": "entry", "seal": t.seal, "passport_number": t.passport}
                answer = client.post("/api/v1/border/checks", json=body, headers=headers(t.guard))
                if answer.status_code != 200 or not answer.json()["allowed"]:
                    raise RuntimeError(f"visa check answered {answer.status_code}: {answer.text}")

            def health(_: int) -> None:
                client.get("/healthz")

            return {
                "GET /healthz (test client and framework alone)": _cpu_ms(
                    health, range(2 * requests + 5), requests, None, ""
                ),
                "presentation": _cpu_ms(present, workload.presentations, requests, html, "presentation", _office),
                "visa check": _cpu_ms(check, workload.travellers, requests, html, "visa-check", _post),
            }


def _cpu_ms(
    call: Callable[[T], None],
    items: Sequence[T],
    requests: int,
    html: Path | None,
    name: str,
    signer: Callable[[T], str] = lambda _: "",
) -> float:
    """Warm up on one item per signing office (each worker unseals an office's key once, with scrypt, on its
    first use), time `requests` others, then profile as many more (with `html`)."""
    warm: dict[str, T] = {}
    for item in items:
        warm.setdefault(signer(item), item)
    rest = [item for item in items if item not in warm.values()]
    for item in warm.values():
        call(item)
    began = time.process_time()
    for item in rest[:requests]:
        call(item)
    cpu = (time.process_time() - began) * 1000 / requests
    if html is not None:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
        with profiler:
            for item in rest[requests : 2 * requests]:
                call(item)
        html.mkdir(parents=True, exist_ok=True)
        (html / f"{name}.html").write_text(profiler.output_html())
    return cpu


def _office(presentation: Presentation) -> str:
    return presentation.office


def _post(traveller: Traveller) -> str:
    return traveller.posts[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--requests", type=int, default=200, help="requests of each kind (default %(default)s)")
    parser.add_argument("--html", type=Path, help="folder for pyinstrument's call trees")
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    for kind, cpu in measure(args.requests, args.html).items():
        print(f"{kind}: {cpu:.2f} ms of CPU per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())

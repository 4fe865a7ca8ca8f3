"""Regenerate the test vectors: `.venv/bin/python tests/vectors/generate.py`.

Runs a whole transit KZ → UZ → TJ on a fresh embedded node, then writes what a verifier receives: the
trust list, the pinned roots, the transit's records, a signed tree head with inclusion proofs, a consistency
proof, a document seal, and tampered variants each named with the problem code it must raise. The vectors
are checked in; regenerating them replaces every key (keys are random), so do it only on purpose.
"""

from __future__ import annotations

import base64
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "e2e"))

from apiwalk import Walk  # noqa: E402

from silkway import bootstrap  # noqa: E402
from silkway.demo import load_demo  # noqa: E402
from silkway.settings import Settings  # noqa: E402
from silkway.shared.clock import FixedClock  # noqa: E402
from silkway.web.app import create_app  # noqa: E402


def write(name: str, data: Any) -> None:
    (HERE / name).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", "utf-8")


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/vectors.db"
        bootstrap.migrate(url)
        clock = FixedClock(datetime(2026, 11, 21, 8, 0, tzinfo=UTC))
        services = bootstrap.build(Settings(env="test", database_url=url), clock=clock)
        services.establish_trust()
        load_demo(services)
        with TestClient(create_app(services)) as client:
            walk = Walk(client)
            walk.submit()
            walk.release()
            clock.advance(minutes=5)
            first_head = client.get("/api/v1/log/tree-head").json()
            clock.advance(hours=1)
            walk.mrn = ""
            transit = walk.journey()
            head = client.get("/api/v1/log/tree-head").json()
            trust_list = client.get("/api/v1/trust-list").content
            records = [
                {"canonical": e["record"]["canonical"], "signature": e["record"]["signature"]}
                for e in transit["events"]
            ]
            proofs = []
            for event in transit["events"]:
                leaf = _leaf(event["record"]["canonical"].encode())
                answer = client.get(
                    f"/api/v1/log/proofs/inclusion?leaf_hash={leaf}&tree_size={head['tree_size']}"
                ).json()
                proofs.append({"leaf_hash": leaf, **answer})
            consistency = client.get(
                f"/api/v1/log/proofs/consistency?first={first_head['tree_size']}&second={head['tree_size']}"
            ).json()
            pdf = client.get(f"/api/v1/transits/{transit['mrn']}/document?lang=en", headers=walk.carrier).content
        services.close()

    from silkway.documents.reading import read_payloads

    seal = read_payloads(pdf)[0]
    (HERE / "trust-list.json").write_bytes(trust_list)
    roots = {s["section"]["state"]: s["section"]["root"]["key_id"] for s in json.loads(trust_list)["sections"]}
    write("roots.json", roots)
    write("transit.json", {"mrn": transit["mrn"], "records": records})
    write(
        "log.json",
        {"tree_head": head, "inclusion": proofs, "earlier_tree_head": first_head, "consistency": consistency},
    )
    (HERE / "seal.txt").write_text(seal + "\n", "ascii")
    write("tampered.json", _tampered(records))


def _leaf(canonical: bytes) -> str:
    import hashlib

    return hashlib.sha256(b"\x00" + canonical).hexdigest()


def _tampered(records: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Each case: the records as served after one act of tampering, and the first problem it must raise."""
    cases = []
    flipped = [dict(r) for r in records]
    assert '"decision":"green"' in flipped[2]["canonical"]  # seq 3: the presentation at the KZ exit
    flipped[2]["canonical"] = flipped[2]["canonical"].replace('"decision":"green"', '"decision":"inspect"', 1)
    cases.append({"name": "a presentation's decision edited", "records": flipped, "expect": "bad_signature", "seq": 3})
    swapped = [dict(r) for r in records]
    swapped[2], swapped[3] = swapped[3], swapped[2]
    cases.append({"name": "two records swapped", "records": swapped, "expect": "out_of_order", "seq": 4})
    deleted = [dict(r) for r in records]
    del deleted[4]
    cases.append({"name": "a record deleted", "records": deleted, "expect": "out_of_order", "seq": 6})
    bad_signature = [dict(r) for r in records]
    raw = bytearray(base64.urlsafe_b64decode(bad_signature[1]["signature"] + "=="))
    raw[0] ^= 1
    bad_signature[1]["signature"] = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    cases.append({"name": "a signature altered", "records": bad_signature, "expect": "bad_signature", "seq": 2})
    return cases


if __name__ == "__main__":
    main()

"""Three national nodes in one process, joined by the in-process bus: a transit and a visa across their
borders, data sovereignty, links cut and restored, redelivery, forgery and replay, and conflicting facts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from region import Node, Region, region

from silkway.shared.clock import FixedClock
from silkway.signing.encoding import from_b64u
from silkway.signing.errors import Problem
from silkway.signing.records import SignedRecord
from silkway.signing.trustlist import load_trust_list
from silkway.signing.verify import verify_records

ROUTE = ["KZ-ALA-ZHETYSU", "KZ-ZHIBEKZHOLY", "UZ-GISHTKUPRIK", "UZ-OYBEK", "TJ-FOTEHOBOD", "TJ-DUSHANBE-HQ"]
SEALS = ["KZ1234567", "KZ1234568"]


def declaration(itinerary: list[str] | None = None) -> dict[str, Any]:
    return {
        "vehicle": {"plate": "123ABC02", "country": "KZ"},
        "itinerary": itinerary or ROUTE,
        "goods": [
            {
                "hs_code": "847130",
                "description": "Laptops",
                "packages": 120,
                "gross_mass_kg": "2400.5",
                "value": {"amount": "180000.00", "currency": "USD"},
            }
        ],
        "guarantee": {"reference": "GRN-KZ-0001", "amount": "50000.00", "currency": "USD"},
    }


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 21, 8, 0, tzinfo=UTC))


@pytest.fixture
def nodes(tmp_path: Path, clock: FixedClock) -> Any:
    with region(tmp_path, clock) as built:
        yield built


def verify(node: Node, events: list[dict[str, Any]], subject: str) -> list[Problem]:
    """The problems `node`'s own trust list finds with a subject's records as its API serves them."""
    trust = load_trust_list(node.services.notary.trust_list(node.services.clock.now()))
    records = [
        SignedRecord(canonical=e["record"]["canonical"].encode(), signature=from_b64u(e["record"]["signature"]))
        for e in events
    ]
    return verify_records(records, trust, subject=subject)


def declare_and_release(r: Region, itinerary: list[str] | None = None) -> str:
    kz = r["KZ"]
    mrn: str = kz.post("/transits", declaration(itinerary), "carrier-kz", expect=201)["mrn"]
    kz.post(
        f"/transits/{mrn}/release",
        {"office": ROUTE[0], "seals": SEALS, "control": {"kind": "physical", "result": "satisfactory"}},
        "customs-kz",
    )
    return mrn


def test_a_transit_crosses_three_nodes_inspected_once(nodes: Region, clock: FixedClock) -> None:
    kz, uz, tj = nodes["KZ"], nodes["UZ"], nodes["TJ"]
    mrn = declare_and_release(nodes)
    kz.post(f"/transits/{mrn}/presentations", {"office": "KZ-ZHIBEKZHOLY", "seals": SEALS}, "customs-kz")
    kz.post(f"/transits/{mrn}/passages", {"office": "KZ-ZHIBEKZHOLY"}, "customs-kz")
    assert nodes.pump() > 0

    # the Uzbek node holds the transit as Kazakhstan signed it, and recognises the Almaty inspection
    decision = uz.post(f"/transits/{mrn}/presentations", {"office": "UZ-GISHTKUPRIK", "seals": SEALS}, "customs-uz")
    assert decision["decision"] == "green", decision
    uz.post(f"/transits/{mrn}/passages", {"office": "UZ-GISHTKUPRIK"}, "customs-uz")
    uz.post(f"/transits/{mrn}/presentations", {"office": "UZ-OYBEK", "seals": SEALS}, "customs-uz")
    uz.post(f"/transits/{mrn}/passages", {"office": "UZ-OYBEK"}, "customs-uz")
    nodes.pump()
    tj.post(f"/transits/{mrn}/presentations", {"office": "TJ-FOTEHOBOD", "seals": SEALS}, "customs-tj")
    tj.post(f"/transits/{mrn}/passages", {"office": "TJ-FOTEHOBOD"}, "customs-tj")
    arrival = tj.post(f"/transits/{mrn}/arrival", {"office": "TJ-DUSHANBE-HQ", "seals": SEALS}, "customs-tj")
    assert arrival["decision"] == "green"
    tj.post(f"/transits/{mrn}/discharge", {"office": "TJ-DUSHANBE-HQ"}, "customs-tj")
    nodes.pump()

    # every node holds the same signed history, and each one verifies it against its own trust list
    histories = {}
    for node in (kz, uz, tj):
        who = "carrier-kz" if node is kz else f"customs-{node.state.lower()}"
        transit = node.get(f"/transits/{mrn}", who)
        assert transit["status"] == "discharged", (node.state, transit["status"])
        histories[node.state] = [e["record"]["hash"] for e in transit["events"]]
        assert verify(node, transit["events"], f"transit:{mrn}") == [], node.state
    assert histories["KZ"] == histories["UZ"] == histories["TJ"]
    assert len(histories["KZ"]) == 12
    for node in (kz, uz, tj):
        assert node.conflicts() == []

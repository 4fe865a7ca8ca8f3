"""Nodes whose clocks disagree: Uzbekistan's runs three hours behind Kazakhstan's, Tajikistan's one hour ahead.
A subject's records are ordered by their place in its chain (seq and prev), never by the time they carry: a
transit crossing the three keeps one history in one order on every node, it verifies, nothing is refused or
held as out of order for its timestamps, and a record stamped later than the receiving node's own clock (a
node ahead) is taken as signed: a receiver never compares a record's `at` with its own clock, only with the
validity of the key that signed it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from visawalk import ISSUE, application

from silkway.shared.clock import FixedClock
from silkway.signing.encoding import from_b64u, parse_instant
from silkway.signing.records import SignedRecord
from silkway.signing.trustlist import load_trust_list
from silkway.signing.verify import verify_records

sys.path.insert(0, str(Path(__file__).parents[1] / "federation"))
from journeys import ROUTE, SEALS, declaration
from region import Node, Region, region

BEHIND = timedelta(hours=-3)
AHEAD = timedelta(hours=1)


class Skewed:
    """A node's clock, `offset` off the region's true time (`FixedClock`, moved by the test)."""

    def __init__(self, true: FixedClock, offset: timedelta) -> None:
        self._true = true
        self._offset = offset

    def now(self) -> datetime:
        return self._true.now() + self._offset


@pytest.fixture
def clock() -> FixedClock:
    """The true time, and Kazakhstan's clock."""
    return FixedClock(datetime(2026, 11, 21, 8, 0, tzinfo=UTC))


@pytest.fixture
def nodes(tmp_path: Path, clock: FixedClock) -> Iterator[Region]:
    clocks = {"UZ": Skewed(clock, BEHIND), "TJ": Skewed(clock, AHEAD)}
    with region(tmp_path, clock, clocks=clocks) as built:
        yield built


@pytest.fixture
def pair(tmp_path: Path, clock: FixedClock) -> Iterator[Region]:
    """Kazakhstan, and Uzbekistan three hours behind."""
    with region(tmp_path, clock, ("KZ", "UZ"), clocks={"UZ": Skewed(clock, BEHIND)}) as built:
        yield built


def events(node: Node, mrn: str) -> list[dict[str, Any]]:
    who = "carrier-kz" if node.state == "KZ" else f"customs-{node.state.lower()}"
    found: list[dict[str, Any]] = node.get(f"/transits/{mrn}", who)["events"]
    return found


def instants(found: list[dict[str, Any]]) -> list[datetime]:
    return [parse_instant(e["at"]) for e in found]


def test_a_transit_across_nodes_with_skewed_clocks_keeps_its_order_everywhere(nodes: Region, clock: FixedClock) -> None:
    kz, uz, tj = nodes["KZ"], nodes["UZ"], nodes["TJ"]
    mrn = kz.post("/transits", declaration(), "carrier-kz", expect=201)["mrn"]
    release = {"office": ROUTE[0], "seals": SEALS, "control": {"kind": "physical", "result": "satisfactory"}}
    kz.post(f"/transits/{mrn}/release", release, "customs-kz")
    clock.advance(hours=1)  # 09:00 true, in Kazakhstan
    kz.post(f"/transits/{mrn}/presentations", {"office": "KZ-ZHIBEKZHOLY", "seals": SEALS}, "customs-kz")
    kz.post(f"/transits/{mrn}/passages", {"office": "KZ-ZHIBEKZHOLY"}, "customs-kz")
    nodes.pump()

    clock.advance(minutes=30)  # 09:30 true: 06:30 on the Uzbek clock, before anything Kazakhstan recorded
    decision = uz.post(f"/transits/{mrn}/presentations", {"office": "UZ-GISHTKUPRIK", "seals": SEALS}, "customs-uz")
    assert decision["decision"] == "green", decision  # the Almaty inspection is recognised whatever the clocks
    uz.post(f"/transits/{mrn}/passages", {"office": "UZ-GISHTKUPRIK"}, "customs-uz")
    clock.advance(hours=3)
    uz.post(f"/transits/{mrn}/presentations", {"office": "UZ-OYBEK", "seals": SEALS}, "customs-uz")
    uz.post(f"/transits/{mrn}/passages", {"office": "UZ-OYBEK"}, "customs-uz")
    nodes.pump()

    clock.advance(minutes=30)  # 13:00 true, 14:00 on the Tajik clock
    tj.post(f"/transits/{mrn}/presentations", {"office": "TJ-FOTEHOBOD", "seals": SEALS}, "customs-tj")
    tj.post(f"/transits/{mrn}/passages", {"office": "TJ-FOTEHOBOD"}, "customs-tj")
    clock.advance(hours=3)
    assert tj.post(f"/transits/{mrn}/arrival", {"office": "TJ-DUSHANBE-HQ", "seals": SEALS}, "customs-tj")["decision"]
    tj.post(f"/transits/{mrn}/discharge", {"office": "TJ-DUSHANBE-HQ"}, "customs-tj")
    nodes.pump()

    held = {node.state: events(node, mrn) for node in (kz, uz, tj)}
    stamps = instants(held["KZ"])
    # the skew is in the records: Uzbekistan's first (event 5) is stamped before Kazakhstan's last (event 4),
    # and Tajikistan's last is stamped later than Kazakhstan's own clock as it stored it
    assert stamps[4] < stamps[3], stamps
    assert stamps[-1] > kz.services.clock.now()
    for state, found in held.items():
        node = nodes[state]
        assert [e["seq"] for e in found] == list(range(1, 13)), state  # chain order, not time order
        assert [e["record"]["hash"] for e in found] == [e["record"]["hash"] for e in held["KZ"]], state
        trust = load_trust_list(node.services.notary.trust_list(node.services.clock.now()))
        records = [
            SignedRecord(canonical=e["record"]["canonical"].encode(), signature=from_b64u(e["record"]["signature"]))
            for e in found
        ]
        assert verify_records(records, trust, subject=f"transit:{mrn}") == [], state
        status = node.status()
        assert (status["rejected"], status["conflicts"], status["undelivered"]) == (0, 0, {}), (state, status)
        # nothing waits for an earlier record, nothing refused (a peer that joins a subject late is sent its
        # whole history: what is held already counts as duplicate)
        assert set(status["received"]) <= {"applied", "duplicate"}, (state, status)
    transit = kz.get(f"/transits/{mrn}", "carrier-kz")
    assert transit["status"] == "discharged"

    # the officers' page shows the history in the chain's order too
    token = uz.auth("customs-uz")["Authorization"].removeprefix("Bearer ")
    uz.client.cookies.set("silkway_session", token)
    uz.client.cookies.set("silkway_office", "UZ-GISHTKUPRIK")
    page = uz.client.get(f"/customs/transits/{mrn}")
    assert page.status_code == 200, page.text
    shown = [int(seq) for seq in re.findall(r'<li class="event [^"]*" id="record-(\d+)"', page.text)]
    assert shown == list(range(1, 13)), shown


APPLICATION: dict[str, Any] = application()
DECISION = ISSUE


def cross(node: Node, office: str, direction: str, number: str) -> dict[str, Any]:
    body = {"office": office, "direction": direction, "passport_number": "Z1234567", "visa_number": number}
    result: dict[str, Any] = node.post("/border/checks", body, f"border-{node.state.lower()}")
    assert result["recorded"] is True, result
    return result


def test_crossings_recorded_on_nodes_with_skewed_clocks_keep_their_order_for_the_stay_rule(
    pair: Region, clock: FixedClock
) -> None:
    nodes = pair
    kz, uz = nodes["KZ"], nodes["UZ"]
    lodged = kz.client.post("/api/v1/visa-applications", json=APPLICATION)
    assert lodged.status_code == 201, lodged.text
    number = kz.post(f"/visa-applications/{lodged.json()['id']}/decision", DECISION, "consul-kz")["visa_number"]
    nodes.pump()
    clock.advance(days=11)  # 2 December
    cross(kz, "KZ-ZHIBEKZHOLY", "entry", number)
    nodes.pump()
    clock.advance(days=10)  # 12 December, 08:00 in Kazakhstan: out of Kazakhstan…
    cross(kz, "KZ-ZHIBEKZHOLY", "exit", number)
    nodes.pump()
    clock.advance(minutes=30)  # …and into Uzbekistan half an hour later, 05:30 on its clock
    entry = cross(uz, "UZ-GISHTKUPRIK", "entry", number)
    assert [f["code"] for f in entry["flags"]] == ["changeover"], entry  # judged on what came before: right
    nodes.pump()

    clock.advance(days=5)
    leaving = cross(uz, "UZ-GISHTKUPRIK", "exit", number)
    # in Uzbekistan since 12 December, its 30 consecutive days run to 10 January; today the guard is told "no
    # entry into UZ was recorded" and the stay is counted from the exit, to 15 January
    assert (leaving["flags"], leaving["latest_exit"]) == ([], "2027-01-10"), leaving

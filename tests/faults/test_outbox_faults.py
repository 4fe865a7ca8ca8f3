"""A node dying between its database and the bus loses nothing and delivers nothing twice: a record committed
with its outbox row is published by the relay of the restarted node; one published but not yet marked sent is
published again, and the stream's de-duplication (`Nats-Msg-Id`) or, past its window, the receiver's inbox
keeps it applied once.

The relay here is the real one (`exchange.relay.relay_once`) on the in-process bus with JetStream's delivery
rules (tests/federation/region.py); a restart is a new `Services` over the same database file and a new bus
connection. tests/federation/test_federation.py covers a consumer dying before it acknowledges
(`test_redelivery_after_a_crash_on_either_side_stores_nothing_twice`); tests/federation/test_nodes_nats.py the
same faults with real `silkway node` processes on PostgreSQL and NATS.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from loops import run
from silkway import bootstrap
from silkway.exchange import wire
from silkway.exchange.memory import InProcessBus
from silkway.exchange.relay import relay_once
from silkway.services import Services
from silkway.shared.clock import FixedClock
from silkway.shared.exchange import Outcome, OutgoingEvent

sys.path.insert(0, str(Path(__file__).parents[1] / "federation"))
from journeys import SEALS, declaration
from region import Node, Region, region

ROUTE = ["KZ-ALA-ZHETYSU", "KZ-ZHIBEKZHOLY", "UZ-GISHTKUPRIK", "UZ-TAS-CUSTOMS"]


class ProcessKilled(BaseException):
    """The node's process dying (SIGKILL, power lost): nothing of its own runs after, not even `finally`."""


class KilledBeforePublishing:
    """The bus as a relay dying on its first publish finds it: nothing reached the stream."""

    def __init__(self, bus: InProcessBus) -> None:
        self._bus = bus

    async def publish(self, subject: str, payload: bytes, *, msg_id: str) -> None:
        raise ProcessKilled


class KilledBeforeMarking:
    """The outbox as a relay dying once the stream confirmed, before it marked a row sent, leaves it."""

    def __init__(self, services: Services) -> None:
        self._outbox = services.exchange

    def pending(self, limit: int) -> Sequence[OutgoingEvent]:
        return self._outbox.pending(limit)

    def mark_published(self, outbox_ids: Sequence[int]) -> None:
        raise ProcessKilled


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 21, 8, 0, tzinfo=UTC))


@pytest.fixture
def nodes(tmp_path: Path, clock: FixedClock) -> Iterator[Region]:
    with region(tmp_path, clock, ("KZ", "UZ")) as built:
        yield built


def relay(node: Node, outbox: object, bus: object) -> int:
    s = node.services
    return run(relay_once(outbox, bus, prefix=s.settings.bus_prefix, now=s.clock.now))  # type: ignore[arg-type]


def restarted(node: Node, clock: FixedClock, nodes: Region) -> tuple[Services, InProcessBus]:
    """The node's process started again: its connections are gone; new services over the same database and a new
    connection to the bus."""
    node.services.close()
    services = bootstrap.build(node.services.settings, clock=clock, fast_hashing=True)
    bus = InProcessBus(nodes.server)
    run(bus.open(node.state))
    return services, bus


def history(node: Node, mrn: str) -> list[str]:
    who = "carrier-kz" if node.state == "KZ" else f"customs-{node.state.lower()}"
    return [e["record"]["hash"] for e in node.get(f"/transits/{mrn}", who)["events"]]


def test_a_record_committed_before_the_relay_died_is_delivered_by_the_restarted_node(
    nodes: Region, clock: FixedClock
) -> None:
    kz, uz = nodes["KZ"], nodes["UZ"]
    mrn = kz.post("/transits", declaration(ROUTE), "carrier-kz", expect=201)["mrn"]
    assert kz.status()["undelivered"] == {"UZ": 1}  # committed with the transit, in one transaction

    with pytest.raises(ProcessKilled):
        relay(kz, kz.services.exchange, KilledBeforePublishing(kz.bus))
    assert nodes.server.streams["UZ"].stored == 1  # only Kazakhstan's trust section, from the key ceremony
    assert not uz.services.exchange.holds(f"transit:{mrn}")

    services, bus = restarted(kz, clock, nodes)
    try:
        assert services.exchange.status().undelivered == {"UZ": 1}  # the outbox row outlived the process
        assert relay(kz, services.exchange, bus) == 1
        assert services.exchange.status().undelivered == {}
    finally:
        services.close()
    nodes.pump()
    assert history(uz, mrn) == history(kz, mrn)
    assert len(history(uz, mrn)) == 1
    assert uz.status()["received"] == {"applied": 2}  # the trust section and the declaration, once each


def test_a_record_published_before_the_relay_died_unmarked_is_applied_once(nodes: Region, clock: FixedClock) -> None:
    kz, uz = nodes["KZ"], nodes["UZ"]
    stream = nodes.server.streams["UZ"]
    mrn = kz.post("/transits", declaration(ROUTE), "carrier-kz", expect=201)["mrn"]

    # published, stored by the stream, and the relay dies before marking the row sent
    with pytest.raises(ProcessKilled):
        relay(kz, KilledBeforeMarking(kz.services), kz.bus)
    assert stream.stored == 2
    services, bus = restarted(kz, clock, nodes)
    try:
        assert services.exchange.status().undelivered == {"UZ": 1}
        assert relay(kz, services.exchange, bus) == 1  # published again, under the same Nats-Msg-Id…
        assert stream.stored == 2  # …which the stream drops within its duplicate window
    finally:
        services.close()
    nodes.pump()
    assert len(history(uz, mrn)) == 1

    # the same again for the release, but the second publish comes after the duplicate window ran out
    release = {"office": ROUTE[0], "seals": SEALS, "control": {"kind": "physical", "result": "satisfactory"}}
    kz.post(f"/transits/{mrn}/release", release, "customs-kz")
    with pytest.raises(ProcessKilled):
        relay(kz, KilledBeforeMarking(kz.services), kz.bus)
    stream.seen.clear()  # JetStream forgets message ids after its duplicate window (two minutes by default)
    services, bus = restarted(kz, clock, nodes)
    try:
        assert relay(kz, services.exchange, bus) == 1
        assert stream.stored == 4  # the release is on the stream twice…
    finally:
        services.close()
    outcomes = []
    for message in run(uz.bus.fetch(10, 0)):
        outcomes.append(uz.services.receiver.receive(wire.decode(message.data)).outcome)
        run(message.ack())
    assert outcomes == [Outcome.APPLIED, Outcome.DUPLICATE]  # …and stored once: the inbox knew its id
    assert history(uz, mrn) == history(kz, mrn)
    assert len(history(uz, mrn)) == 2
    assert uz.status()["received"] == {"applied": 3}

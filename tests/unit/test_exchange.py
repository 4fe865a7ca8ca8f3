"""The exchange's moving parts with fakes: the wire envelope, the relay's ordering, and the in-process bus."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from loops import run
from silkway.exchange import wire
from silkway.exchange.memory import InProcessBus, InProcessServer
from silkway.exchange.nats import redact
from silkway.exchange.relay import relay_once
from silkway.shared.exchange import Kind, OutgoingEvent
from silkway.signing.encoding import sha256_hex

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def event(n: int, destination: str) -> OutgoingEvent:
    record = f'{{"n":{n}}}'.encode()
    return OutgoingEvent(
        outbox_id=n,
        event_id=sha256_hex(record),
        destination=destination,
        origin="KZ",
        kind=Kind.TRANSIT,
        subject="transit:26KZ0000000000001A",
        seq=n,
        record=record,
        signature=b"s" * 64,
    )


class FakeOutbox:
    def __init__(self, events: Sequence[OutgoingEvent]) -> None:
        self.events = list(events)
        self.published: list[int] = []

    def pending(self, limit: int) -> Sequence[OutgoingEvent]:
        return [e for e in self.events if e.outbox_id not in self.published][:limit]

    def mark_published(self, outbox_ids: Sequence[int]) -> None:
        self.published += outbox_ids


def test_the_envelope_round_trips_and_names_its_schema_version() -> None:
    sent = event(1, "UZ")
    data = wire.encode(sent, sent_at=NOW)

    received = wire.decode(data)

    assert b'"schema_version":1' in data
    assert (received.event_id, received.record, received.signature, received.seq) == (
        sent.event_id,
        sent.record,
        sent.signature,
        1,
    )


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b'{"schema_version": 2}',
        wire.encode(event(1, "UZ"), sent_at=NOW).replace(b'"schema_version":1', b'"schema_version":9'),
        wire.encode(event(1, "UZ"), sent_at=NOW).replace(b'"kind":"transit"', b'"kind":"gossip"'),
        b"x" * (wire.MAX_MESSAGE + 1),
    ],
)
def test_anything_but_an_envelope_is_refused_with_a_clear_error(data: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.decode(data)


def test_a_state_without_a_stream_holds_up_only_its_own_events() -> None:
    server = InProcessServer()
    sender, receiver = InProcessBus(server), InProcessBus(server)
    run(receiver.open("UZ"))  # Uzbekistan has joined; Tajikistan has no stream yet
    outbox = FakeOutbox([event(1, "TJ"), event(2, "UZ"), event(3, "TJ"), event(4, "UZ")])

    sent = run(relay_once(outbox, sender, prefix="silkway", now=lambda: NOW))

    assert (sent, outbox.published) == (2, [2, 4])
    assert [m.msg_id for m in server.streams["UZ"].queue] == [event(2, "UZ").event_id, event(4, "UZ").event_id]


def test_a_bus_that_is_down_ends_the_round_and_keeps_every_event() -> None:
    server = InProcessServer()
    bus = InProcessBus(server)
    run(bus.open("UZ"))
    bus.online = False
    outbox = FakeOutbox([event(1, "UZ")])

    with pytest.raises(Exception, match="link to the bus is down"):
        run(relay_once(outbox, bus, prefix="silkway", now=lambda: NOW))

    assert outbox.published == []


def test_the_same_message_id_is_stored_once() -> None:
    server = InProcessServer()
    bus = InProcessBus(server)
    run(bus.open("UZ"))
    for _ in range(3):
        run(bus.publish("silkway.UZ.transit.KZ", b"{}", msg_id="abc"))

    assert server.streams["UZ"].stored == 1


def test_urls_are_shown_without_credentials() -> None:
    assert redact("nats://node-kz:secret@nats-1:4222,tls://nats-2:4222") == "nats://nats-1:4222,tls://nats-2:4222"
    assert redact("postgresql+psycopg://silkway:pw@db-kz:5432/silkway") == "postgresql+psycopg://db-kz:5432/silkway"

"""The bus as the relay and the consumer see it; `nats.JetStreamBus` and `memory.InProcessBus` implement it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class BusUnavailable(Exception):
    """The bus cannot be reached, or did not confirm in time: keep the events and try again later."""


class NoStream(BusUnavailable):
    """No stream captures the subject: the receiving state has not joined the bus (yet). Only that state's
    events wait; the others go on."""


class Delivery(Protocol):
    """One message from the node's inbound stream; it stays on the stream until acknowledged."""

    data: bytes

    @property
    def deliveries(self) -> int:
        """How many times this message has been delivered, this time included."""
        ...

    async def ack(self) -> None: ...

    async def nak(self, delay: float) -> None: ...


class Bus(Protocol):
    async def open(self, state: str) -> None:
        """Connect, and make sure `state`'s inbound stream and durable consumer exist. Raises `BusUnavailable`."""
        ...

    async def publish(self, subject: str, payload: bytes, *, msg_id: str) -> None:
        """Publish with `Nats-Msg-Id: msg_id` and wait for the stream to store it. Raises `BusUnavailable`
        (nothing is known to be stored: publish again; the stream drops the duplicate)."""
        ...

    async def fetch(self, batch: int, timeout: float) -> Sequence[Delivery]:
        """Up to `batch` messages from the inbound stream (none after `timeout`). Raises `BusUnavailable`."""
        ...

    async def close(self) -> None: ...

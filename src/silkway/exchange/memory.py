"""An in-process bus with JetStream's behaviour where it matters: a stream per receiving state, de-duplication
by message id, at-least-once delivery with acknowledgement and delayed redelivery, and links that can be cut.

The embedded node needs no bus (it serves every state from one database); this one lets tests and
simulations run several nodes in one process and cut a node's link at will.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from silkway.exchange.bus import BusUnavailable, NoStream


@dataclass
class _Message:
    subject: str
    data: bytes
    msg_id: str
    deliveries: int = 0


@dataclass
class _Stream:
    queue: deque[_Message] = field(default_factory=deque)
    seen: set[str] = field(default_factory=set)
    stored: int = 0


class InProcessServer:
    """The shared 'server': streams by state. `prefix` plays the part of the subject's first token."""

    def __init__(self) -> None:
        self.streams: dict[str, _Stream] = {}

    def stream_of(self, subject: str) -> _Stream | None:
        parts = subject.split(".")
        return self.streams.get(parts[1]) if len(parts) >= 2 else None


class _Delivery:
    def __init__(self, stream: _Stream, message: _Message) -> None:
        self._stream = stream
        self._message = message
        self.data = message.data
        self._settled = False

    @property
    def deliveries(self) -> int:
        return self._message.deliveries

    async def ack(self) -> None:
        self._settled = True

    async def nak(self, delay: float) -> None:
        # redelivered after whatever is already queued: "later" without a clock
        self._settled = True
        self._stream.queue.append(self._message)

    def abandon(self) -> None:
        """The consumer died before settling it: the message comes again (JetStream's ack wait)."""
        if not self._settled:
            self._stream.queue.appendleft(self._message)


class InProcessBus:
    """One node's connection to an `InProcessServer`. Set `online = False` to cut the node's link."""

    def __init__(self, server: InProcessServer) -> None:
        self._server = server
        self._state: str | None = None
        self.online = True
        self._unsettled: list[_Delivery] = []

    async def open(self, state: str) -> None:
        self._check()
        self._state = state
        self._server.streams.setdefault(state, _Stream())

    async def publish(self, subject: str, payload: bytes, *, msg_id: str) -> None:
        self._check()
        stream = self._server.stream_of(subject)
        if stream is None:
            raise NoStream(f"no stream captures {subject} (the receiving state has not joined yet)")
        if msg_id in stream.seen:
            return  # a duplicate within the window: stored once
        stream.seen.add(msg_id)
        stream.stored += 1
        stream.queue.append(_Message(subject, payload, msg_id))

    async def fetch(self, batch: int, timeout: float) -> Sequence[_Delivery]:
        self._check()
        for delivery in self._unsettled:
            delivery.abandon()
        self._unsettled = []
        if self._state is None:
            raise BusUnavailable("not opened")
        stream = self._server.streams[self._state]
        out: list[_Delivery] = []
        while stream.queue and len(out) < batch:
            message = stream.queue.popleft()
            message.deliveries += 1
            out.append(_Delivery(stream, message))
        self._unsettled = out
        return out

    async def close(self) -> None:
        for delivery in self._unsettled:
            delivery.abandon()
        self._unsettled = []

    def _check(self) -> None:
        if not self.online:
            raise BusUnavailable("the link to the bus is down")

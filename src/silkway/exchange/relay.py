"""The outbox relay and the inbox consumer: the two loops of a node's exchange, each safe to stop at any point.

The relay publishes outbox rows in the order they were written and marks each one published only once the
stream has stored it; a crash in between publishes it again, and the stream's de-duplication (`Nats-Msg-Id`)
and the receiver's inbox make that harmless. The consumer acknowledges a message only after the receiver has
committed what it made of it; a crash in between gets it delivered again, and the inbox says "duplicate".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from silkway.exchange import subjects, wire
from silkway.exchange.bus import Bus, BusUnavailable, NoStream
from silkway.shared.exchange import Outbox, Receiver

log = logging.getLogger(__name__)

RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Seconds before a message that could not be judged yet (an unknown key, an unpinned state) comes again."""


async def relay_once(outbox: Outbox, bus: Bus, *, prefix: str, now: Callable[[], datetime], batch: int = 100) -> int:
    """Publish up to `batch` pending outbox rows in order; returns how many the stream confirmed.

    Events to one state never overtake each other: once one is not confirmed, that state's later events wait
    for the next round. A state whose stream is missing (`NoStream`) holds up only its own events; a bus that
    is down (`BusUnavailable`) ends the round, and is raised once what was confirmed is marked.
    """
    pending = await asyncio.to_thread(outbox.pending, batch)
    done: list[int] = []
    held: set[str] = set()
    try:
        for event in pending:
            if event.destination in held:
                continue
            payload = wire.encode(event, sent_at=now())
            try:
                await bus.publish(
                    subjects.subject(prefix, event.destination, event.kind, event.origin),
                    payload,
                    msg_id=event.event_id,
                )
            except NoStream as exc:
                log.info("events to %s wait: %s", event.destination, exc)
                held.add(event.destination)
                continue
            done.append(event.outbox_id)
    finally:
        if done:
            await asyncio.to_thread(outbox.mark_published, done)
    return len(done)


async def consume_once(bus: Bus, receiver: Receiver, *, batch: int = 50, timeout: float = 1.0) -> int:
    """Hand up to `batch` inbound messages to the receiver; returns how many were settled."""
    settled = 0
    for message in await bus.fetch(batch, timeout):
        try:
            event = wire.decode(message.data)
        except wire.WireError as exc:
            log.warning("dropped a message that is not an exchange event: %s", exc)
            await message.ack()
            settled += 1
            continue
        receipt = await asyncio.to_thread(receiver.receive, event)
        if receipt.settled:
            if receipt.reason:
                log.info(
                    "event %s from %s: %s (%s)", event.event_id[:12], event.origin, receipt.outcome, receipt.reason
                )
            await message.ack()
            settled += 1
        else:
            delay = RETRY_DELAYS[min(message.deliveries, len(RETRY_DELAYS)) - 1]
            await message.nak(delay)
    return settled


class ExchangeWorker:
    """Runs the relay and the consumer of one node until stopped, riding out a bus that comes and goes: while
    it is away the node keeps serving, its outbox grows, and both loops resume when it is back."""

    def __init__(
        self,
        *,
        bus: Bus,
        outbox: Outbox,
        receiver: Receiver,
        state: str,
        prefix: str,
        now: Callable[[], datetime],
        poll: float = 0.2,
    ) -> None:
        self._bus = bus
        self._outbox = outbox
        self._receiver = receiver
        self._state = state
        self._prefix = prefix
        self._now = now
        self._poll = poll
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._opened = asyncio.Event()

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(loop()) for loop in (self._connect, self._relay, self._consume)]

    async def stop(self) -> None:
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._bus.close()

    async def _connect(self) -> None:
        delay = 0.5
        while not self._stopping.is_set():
            try:
                await self._bus.open(self._state)
            except BusUnavailable as exc:
                log.warning("bus unavailable (%s); the node keeps serving and queues its events", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            self._opened.set()
            return

    async def _relay(self) -> None:
        await self._opened.wait()
        delay = self._poll
        while not self._stopping.is_set():
            try:
                sent = await relay_once(self._outbox, self._bus, prefix=self._prefix, now=self._now)
                delay = self._poll
                if sent:
                    continue
            except BusUnavailable as exc:
                log.info("relay paused: %s", exc)
                delay = min(max(delay * 2, 0.5), 5.0)
            except Exception:  # the database went away mid-round: the rows are still there next time
                log.exception("relay round failed; retrying")
                delay = 2.0
            await asyncio.sleep(delay)

    async def _consume(self) -> None:
        await self._opened.wait()
        while not self._stopping.is_set():
            try:
                await consume_once(self._bus, self._receiver)
            except BusUnavailable as exc:
                log.info("consumer paused: %s", exc)
                await asyncio.sleep(1.0)
            except Exception:  # not acknowledged: the stream delivers it again
                log.exception("consumer round failed; retrying")
                await asyncio.sleep(2.0)

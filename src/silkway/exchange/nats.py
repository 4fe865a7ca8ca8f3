"""The bus on NATS JetStream (nats-py): a durable, file-backed inbound stream per state with de-duplication,
and a durable pull consumer with explicit acknowledgement."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig

from silkway.exchange import subjects
from silkway.exchange.bus import BusUnavailable, NoStream

log = logging.getLogger(__name__)

DUPLICATE_WINDOW = timedelta(hours=1)
"""How long the stream remembers a message id: longer than any relay retry after a crash."""
RETENTION = timedelta(days=30)
"""How long an inbound stream keeps what its node has not consumed: a node may be offline this long."""
ACK_WAIT = timedelta(seconds=30)

_FAILURES = (
    OSError,
    TimeoutError,
    nats.errors.Error,
    nats.js.errors.Error,
)


class _Delivery:
    def __init__(self, msg: Msg) -> None:
        self._msg = msg
        self.data = msg.data

    @property
    def deliveries(self) -> int:
        return int(self._msg.metadata.num_delivered)

    async def ack(self) -> None:
        await self._msg.ack()

    async def nak(self, delay: float) -> None:
        await self._msg.nak(delay=delay)


class JetStreamBus:
    def __init__(self, url: str, *, prefix: str, replicas: int = 1, name: str = "silkway") -> None:
        self._url = url
        self._prefix = prefix
        self._replicas = replicas
        self._name = name
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._sub: JetStreamContext.PullSubscription | None = None

    async def open(self, state: str) -> None:
        try:
            if self._nc is None or self._nc.is_closed:
                self._nc = await nats.connect(
                    servers=[u.strip() for u in self._url.split(",") if u.strip()],
                    # replies to this node's requests under its own prefix, so NATS permissions can keep each
                    # node's deliveries from the others
                    inbox_prefix=f"_INBOX_{state}".encode(),
                    name=f"{self._name}-{state}",
                    connect_timeout=2,
                    reconnect_time_wait=1,
                    max_reconnect_attempts=-1,
                    allow_reconnect=True,
                    error_cb=_quiet,
                    disconnected_cb=_disconnected,
                    reconnected_cb=_reconnected,
                )
            self._js = self._nc.jetstream(timeout=5)
            config = StreamConfig(
                name=subjects.stream(self._prefix, state),
                subjects=[subjects.inbound(self._prefix, state)],
                storage=StorageType.FILE,
                num_replicas=self._replicas,
                duplicate_window=DUPLICATE_WINDOW.total_seconds(),
                max_age=RETENTION.total_seconds(),
            )
            try:
                await self._js.add_stream(config)
            except nats.js.errors.BadRequestError:
                await self._js.update_stream(config)  # it exists with other limits: bring them to these
            self._sub = await self._js.pull_subscribe(
                subjects.inbound(self._prefix, state),
                durable=subjects.durable(state),
                stream=subjects.stream(self._prefix, state),
                config=ConsumerConfig(
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=ACK_WAIT.total_seconds(),
                    deliver_policy=DeliverPolicy.ALL,
                    max_deliver=-1,
                    max_ack_pending=1000,
                ),
            )
        except _FAILURES as exc:
            await self.close()
            raise BusUnavailable(f"{redact(self._url)}: {type(exc).__name__} {exc}") from exc

    async def publish(self, subject: str, payload: bytes, *, msg_id: str) -> None:
        if self._js is None or self._nc is None or not self._nc.is_connected:
            raise BusUnavailable("not connected to NATS")
        try:
            await self._js.publish(subject, payload, timeout=5, headers={"Nats-Msg-Id": msg_id})
        except nats.errors.NoRespondersError as exc:
            raise NoStream(f"no stream captures {subject} (the receiving state has not joined yet)") from exc
        except _FAILURES as exc:
            raise BusUnavailable(f"{type(exc).__name__} {exc}") from exc

    async def fetch(self, batch: int, timeout: float) -> Sequence[_Delivery]:
        if self._sub is None or self._nc is None or not self._nc.is_connected:
            raise BusUnavailable("not connected to NATS")
        try:
            messages = await self._sub.fetch(batch, timeout=timeout)
        except nats.errors.TimeoutError:
            return []
        except _FAILURES as exc:
            raise BusUnavailable(f"{type(exc).__name__} {exc}") from exc
        return [_Delivery(m) for m in messages]

    async def close(self) -> None:
        nc, self._nc, self._js, self._sub = self._nc, None, None, None
        if nc is not None and not nc.is_closed:
            with contextlib.suppress(*_FAILURES):
                await nc.close()


async def _quiet(exc: Exception) -> None:
    log.debug("NATS: %s", exc)


async def _disconnected() -> None:
    log.warning("NATS link lost; events queue in the outbox until it is back")


async def _reconnected() -> None:
    log.warning("NATS link back")


def redact(url: str) -> str:
    """A URL (or comma-separated list) without user names or passwords, for messages and logs."""
    return ",".join(_without_credentials(part) for part in url.split(","))


def _without_credentials(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    return f"{scheme}://{rest.split('@', 1)[1]}"

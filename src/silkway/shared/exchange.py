"""What national nodes exchange, independent of the bus that carries it: signed records going out to a peer
state, records coming in, and what the receiver made of each. `silkway.exchange` moves them over NATS
JetStream (or an in-process bus); `silkway.storage.exchange` writes and reads them in the node's database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Kind(StrEnum):
    """What a record is about; also the third token of its subject on the bus."""

    TRUST = "trust"  # a state's section of the trust list, signed by its root
    TRANSIT = "transit"  # an event of a transit, signed by the office that recorded it
    VISA = "visa"  # an event of a visa file: lodging, consultation, decision, revocation, crossing
    ALERT = "alert"  # an entry of the shared alert list


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingEvent:
    """A record waiting in the outbox for one peer state. `event_id` is the SHA-256 (hex) of `record`."""

    outbox_id: int
    event_id: str
    destination: str
    origin: str
    kind: Kind
    subject: str
    seq: int
    record: bytes
    signature: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingEvent:
    """A record as it arrived, not yet trusted: `event_id` and `origin` are the sender's claims."""

    event_id: str
    origin: str
    kind: Kind
    subject: str
    seq: int
    record: bytes
    signature: bytes


class Outcome(StrEnum):
    APPLIED = "applied"  # verified and stored (with any waiting successors it unblocked)
    DUPLICATE = "duplicate"  # already handled: a redelivery or a replay; nothing changed
    WAITING = "waiting"  # verified, held until its predecessor (or what entitles this node to it) arrives
    CONFLICT = "conflict"  # contradicts what is stored here: kept aside and shown to officers, not merged
    REJECTED = "rejected"  # forged, replayed, malformed or not for this node: nothing stored
    RETRY = "retry"  # cannot be judged yet (a key or state not yet known here): deliver it again later


@dataclass(frozen=True, slots=True)
class Receipt:
    outcome: Outcome
    reason: str = ""

    @property
    def settled(self) -> bool:
        """Whether the bus may forget the message (everything but `RETRY`)."""
        return self.outcome is not Outcome.RETRY


class Outbox(Protocol):
    """The node's side of the relay: what is still to publish, in the order it was written."""

    def pending(self, limit: int) -> Sequence[OutgoingEvent]: ...

    def mark_published(self, outbox_ids: Sequence[int]) -> None: ...


class Receiver(Protocol):
    """Verifies an incoming event against the trust list and stores it, in one transaction with its inbox entry.

    Never raises for a bad event (that is a `REJECTED` receipt); raises only when the node itself cannot work
    (its database is down), so the bus delivers the event again.
    """

    def receive(self, event: IncomingEvent) -> Receipt: ...

"""The wire schema of an exchanged event (JSON, `schema_version` 1).

The envelope carries a signed record exactly as its office signed it (RFC 8785 bytes, base64url) and the
signature; the rest is routing the receiver checks against the record itself: `event_id` is the SHA-256 of
the record, `subject` and `seq` must be the record's own. The envelope is not signed: nothing in it is trusted.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from silkway.shared.exchange import IncomingEvent, Kind, OutgoingEvent

SCHEMA_VERSION = 1
MAX_MESSAGE = 1_000_000
"""The largest message a node accepts (NATS's default maximum payload is 1 MiB)."""


class WireError(ValueError):
    """A message that is not an event of a schema version this node reads."""


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: Literal[1]
    event_id: str = Field(pattern=r"^[0-9a-f]{64}$")
    origin: str = Field(pattern=r"^[A-Z]{2}$")
    kind: Kind
    subject: str = Field(min_length=3, max_length=60)
    seq: int = Field(ge=1)
    record: str = Field(max_length=MAX_MESSAGE)
    signature: str = Field(max_length=200)
    sent_at: datetime


def encode(event: OutgoingEvent, *, sent_at: datetime) -> bytes:
    return (
        Envelope(
            schema_version=SCHEMA_VERSION,
            event_id=event.event_id,
            origin=event.origin,
            kind=event.kind,
            subject=event.subject,
            seq=event.seq,
            record=_b64(event.record),
            signature=_b64(event.signature),
            sent_at=sent_at,
        )
        .model_dump_json()
        .encode()
    )


def decode(data: bytes) -> IncomingEvent:
    """Read a message. On anything that is not an envelope of a known schema version, raises `WireError`."""
    if len(data) > MAX_MESSAGE:
        raise WireError(f"a message of {len(data)} bytes is larger than {MAX_MESSAGE}")
    try:
        envelope = Envelope.model_validate_json(data)
        record, signature = _unb64(envelope.record), _unb64(envelope.signature)
    except (ValidationError, ValueError) as exc:
        raise WireError(f"not an exchange event: {exc}") from None
    return IncomingEvent(
        event_id=envelope.event_id,
        origin=envelope.origin,
        kind=envelope.kind,
        subject=envelope.subject,
        seq=envelope.seq,
        record=record,
        signature=signature,
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

"""The audit trail's unit: one administrative write, recorded as a signed event with its actor.

Transit and visa decisions are signed records of their own domains already; the writes that shape how a state
works — its accounts, risk rules and guarantees, a sign-in lock-out — are recorded here, so that a state's whole
audit trail is made of signed, chained and logged events that no route can edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from silkway.shared.actors import Actor

Detail = str | int | bool | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """What was done (`type`, past tense: `AccountCreated`), to what (`subject`, e.g. `account:customs-kz`), on
    behalf of which member state (`state`, whose node key signs it), by whom and when. `details` are the facts
    of the change — never a secret (no password or its hash)."""

    type: str
    state: str
    subject: str
    actor: Actor
    at: datetime
    details: Mapping[str, Detail] = field(default_factory=dict)


class AuditTrail(Protocol):
    def record(self, event: AuditEvent) -> None:
        """Sign `event`, chain it after the subject's last event and log it, in the caller's transaction.

        On a state whose node key is not held here, raises `KeyUnavailable` (nothing is written)."""
        ...

"""Where events travel: one inbound stream per receiving state, one subject per (receiver, kind, sender).

    <prefix>.<DEST>.<kind>.<ORIGIN>      e.g. silkway.UZ.transit.KZ
    stream <PREFIX>_<DEST>               captures <prefix>.<DEST>.>   (durable consumer node-<DEST>)

A stream per receiving state keeps each state's inbound traffic apart: it can be placed, sized, retained and
access-controlled for that state alone (in production, each node's NATS user may publish only subjects that
end in its own state and read only its own stream), and `Nats-Msg-Id` de-duplicates within it.
"""

from __future__ import annotations

from silkway.shared.exchange import Kind


def subject(prefix: str, destination: str, kind: Kind, origin: str) -> str:
    return f"{prefix}.{destination}.{kind.value}.{origin}"


def stream(prefix: str, state: str) -> str:
    return f"{prefix.upper()}_{state}"


def inbound(prefix: str, state: str) -> str:
    """The subjects a state's inbound stream captures."""
    return f"{prefix}.{state}.>"


def durable(state: str) -> str:
    return f"node-{state}"

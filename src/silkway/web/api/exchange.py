"""The node's exchange with its peer states, for its own officers: how delivery stands, and the conflicting
facts that arrived (never merged: an officer decides)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from silkway.shared.actors import Actor, Role
from silkway.web.deps import ServicesDep, require

router = APIRouter(prefix="/exchange", tags=["exchange"])

Officer = Annotated[Actor, require(Role.CUSTOMS, Role.BORDER_GUARD, Role.CONSULAR, Role.ADMIN)]
Admin = Annotated[Actor, require(Role.ADMIN)]


class ExchangeStatusOut(BaseModel):
    node_state: str
    federated: bool
    peers: dict[str, str]
    """Pinned peer states and their root key ids."""
    undelivered: dict[str, int]
    """Events waiting in the outbox, per destination state."""
    oldest_undelivered: datetime | None
    published: int
    received: dict[str, int]
    """Received events by outcome: applied, duplicate, waiting, conflict."""
    rejected: int
    conflicts: int


class ConflictOut(BaseModel):
    id: int
    kind: str
    subject: str
    seq: int
    code: str
    """`fork`, `passage_out_of_order`, `two_exits` or `not_allowed`."""
    description: str
    origin: str
    remote_type: str
    remote_office: str
    remote_at: datetime
    stored: bool
    """Whether the received record was stored (both facts stand) or kept aside."""
    detected_at: datetime


class RejectionOut(BaseModel):
    event_id: str
    origin: str
    code: str
    reason: str


@router.get("/status", summary="Delivery to and from the peer states", response_model=ExchangeStatusOut)
def status(services: ServicesDep, actor: Admin) -> ExchangeStatusOut:
    s = services.exchange.status()
    return ExchangeStatusOut(
        node_state=services.settings.node_state,
        federated=services.settings.federated,
        peers=s.peers,
        undelivered=s.undelivered,
        oldest_undelivered=s.oldest_undelivered,
        published=s.published,
        received=s.received,
        rejected=s.rejected,
        conflicts=s.conflicts,
    )


@router.get("/conflicts", summary="Conflicting facts received from peer states", response_model=list[ConflictOut])
def conflicts(
    services: ServicesDep,
    actor: Officer,
    subject: Annotated[str | None, Query(max_length=60, description="e.g. transit:25KZ0000000000012")] = None,
) -> list[ConflictOut]:
    return [ConflictOut(**asdict(c)) for c in services.exchange.conflicts(subject)]


@router.get("/rejections", summary="Events refused before anything was stored", response_model=list[RejectionOut])
def rejections(services: ServicesDep, actor: Admin) -> list[RejectionOut]:
    return [RejectionOut(event_id=e, origin=o, code=c, reason=r) for e, o, c, r in services.exchange.rejections()]

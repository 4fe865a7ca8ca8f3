"""The wired application that entrypoints (web, CLI) receive from `bootstrap`: what handlers need,
the read-only queries, and the edge's own helpers. Entrypoints never build any of this themselves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from silkway.auth.passwords import Argon2Hasher
from silkway.auth.tokens import TokenIssuer
from silkway.places.reference import ReferenceData
from silkway.settings import Settings
from silkway.shared.clock import Clock
from silkway.shared.idempotency import StoredResponse
from silkway.storage.queries import Queries
from silkway.storage.uow import SqlUnitOfWork
from silkway.transit.ports import Places


@dataclass(slots=True, kw_only=True)
class Services:
    settings: Settings
    clock: Clock
    reference: ReferenceData
    places: Places
    uow: Callable[[], SqlUnitOfWork]
    queries: Queries
    hasher: Argon2Hasher
    tokens: TokenIssuer
    close: Callable[[], None]

    def stored_response(self, owner: str, key: str) -> tuple[str, StoredResponse | None] | None:
        """The fingerprint and first answer of an Idempotency-Key, if it was used."""
        return self.queries.stored_response(owner, key)

    def remember_response(self, owner: str, key: str, response: StoredResponse) -> None:
        """Keep the answer given for a claimed Idempotency-Key, to replay it on a retry."""
        with self.uow() as uow:
            uow.idempotency.answer(owner, key, response)
            uow.commit()

"""Idempotency keys: a retried POST returns the first answer and records nothing twice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from silkway.shared.errors import IdempotencyKeyReused

MAX_KEY_LENGTH = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class IdempotencyKey:
    """A client's key for one request, scoped to the account that sent it.

    `fingerprint` is a digest of the request (method, path and body): the same key with another
    fingerprint is refused with `IdempotencyKeyReused`.
    """

    owner: str
    key: str
    fingerprint: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredResponse:
    """The first answer given for a key: status code and the exact body bytes."""

    status: int
    body: bytes


class IdempotencyRecords(Protocol):
    """Claims on idempotency keys, written in the same transaction as the change they guard."""

    def find(self, owner: str, key: str) -> tuple[str, StoredResponse | None] | None:
        """The fingerprint and the stored response (None while unanswered) of a claimed key."""
        ...

    def claim(self, claim: IdempotencyKey) -> None:
        """Record the key as used; a concurrent claim of the same key fails at commit."""
        ...

    def answer(self, owner: str, key: str, response: StoredResponse) -> None:
        """Attach the response given for a claimed key."""
        ...


def check_claim(records: IdempotencyRecords, claim: IdempotencyKey | None) -> None:
    """Claim `claim` inside the caller's transaction.

    Raises `IdempotencyKeyReused` when the key was already used for a different request; a key reused
    for the same request never reaches a handler, because the edge replays the stored answer first.
    """
    if claim is None:
        return
    found = records.find(claim.owner, claim.key)
    if found is not None:
        fingerprint, _ = found
        if fingerprint != claim.fingerprint:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {claim.key!r} was already used for a different request",
                fields={"Idempotency-Key": "reused with another body"},
            )
        # the claim committed with the request's records, and no answer was kept to replay: a page's form sent
        # twice, or an API answer lost when the database failed just after the commit
        raise IdempotencyKeyReused(
            f"the request of Idempotency-Key {claim.key!r} was already recorded; its answer was not kept, so look "
            "the result up instead of sending the request again"
        )
    records.claim(claim)

"""The root of every rule Silkway refuses to break.

    DomainError                      a rule of the domain was broken; `code` names it for machines
    ├── InvalidInput                 the request itself is malformed or names impossible things
    ├── NotFound                     the thing asked for does not exist (or is not visible to the caller)
    ├── NotPermitted                 the actor may not do this (wrong role, wrong state, not its record)
    ├── IllegalState                 the action is not allowed in the record's current state
    └── Conflict                     the action clashes with another one
        ├── ConcurrentUpdate         someone changed the record in between; retry
        └── IdempotencyKeyReused     the same Idempotency-Key was sent with another request, or again

Beside them, not domain errors:

    ServiceUnavailable               a dependency (the database) is down; nothing was recorded; retry
    └── StorageFull                  the node's disk is full; nothing was recorded; retry once space is freed
    RecordsAltered                   stored records fail their integrity check: the database was changed
                                     behind Silkway's back

Domain errors never know about HTTP; `silkway.web.errors` and the CLI map them at the edge.
"""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """A broken rule, with a human `detail` and, for input errors, the failing `fields`.

    `fields` maps a field path (``"goods[2].hs_code"``) to what is wrong with it.
    """

    code: str = "domain_error"
    title: str = "The request breaks a rule of Silkway"

    def __init__(self, detail: str, *, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fields: dict[str, str] = dict(fields or {})


class InvalidInput(DomainError):
    """The request is malformed or names things that do not exist."""

    code = "invalid_input"
    title = "Invalid input"


class NotFound(DomainError):
    """The record does not exist, or the caller may not know it exists."""

    code = "not_found"
    title = "Not found"


class NotPermitted(DomainError):
    """The actor is not allowed to take this action."""

    code = "not_permitted"
    title = "Not permitted"


class IllegalState(DomainError):
    """The action is not allowed in the record's current state."""

    code = "illegal_state"
    title = "Action not allowed in the current state"


class Conflict(DomainError):
    """The action clashes with the current state of other records."""

    code = "conflict"
    title = "Conflict"


class ConcurrentUpdate(Conflict):
    """Another actor changed the record between read and write; the caller may retry."""

    code = "concurrent_update"
    title = "The record was changed by someone else"


class IdempotencyKeyReused(Conflict):
    """An Idempotency-Key was reused with a different request body, or sent again for a request that was recorded
    but whose answer was not kept to replay (a page's form sent twice; an answer lost to a database failure)."""

    code = "idempotency_key_reused"
    title = "Idempotency-Key reused with another request"


class ServiceUnavailable(Exception):
    """A dependency (the database) is unreachable; not a broken rule, and nothing was recorded.

    Deliberately not a `DomainError`: the request may succeed when retried later.
    """


class StorageFull(ServiceUnavailable):
    """The node's disk (or its database's space) is full: the write was refused whole, so nothing of it was
    recorded, and everything recorded before is intact. It needs an operator to free space, not just time.
    """


class RecordsAltered(Exception):
    """Stored signed records no longer match their hashes or chain: someone changed the database directly.

    Nothing is done with such records; the message names the subject and the first record that fails.
    """

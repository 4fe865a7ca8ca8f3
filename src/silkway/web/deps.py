"""FastAPI dependencies: the wired services, the signed-in actor, and Idempotency-Key handling."""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import Response
from fastapi.security import OAuth2PasswordBearer

from silkway.auth.tokens import InvalidToken
from silkway.services import Services
from silkway.shared.actors import Actor, Role
from silkway.shared.errors import IdempotencyKeyReused, InvalidInput, NotPermitted, ServiceUnavailable
from silkway.shared.idempotency import MAX_KEY_LENGTH, IdempotencyKey, StoredResponse

log = logging.getLogger(__name__)

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

# The dependencies below only read memory and check a token's HMAC (microseconds), so they are `async def`:
# FastAPI runs a plain `def` dependency on a worker thread, and those hops cost more than the work itself.


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def current_actor(services: ServicesDep, token: Annotated[str | None, Depends(oauth2)]) -> Actor:
    if not token:
        raise InvalidToken("sign in first: send 'Authorization: Bearer <token>' from POST /api/v1/auth/token")
    return services.tokens.read(token)


ActorDep = Annotated[Actor, Depends(current_actor)]


async def optional_actor(services: ServicesDep, token: Annotated[str | None, Depends(oauth2)]) -> Actor | None:
    """The signed-in actor, or None for an anonymous caller (a bad token is still refused)."""
    return services.tokens.read(token) if token else None


OptionalActorDep = Annotated[Actor | None, Depends(optional_actor)]


def require(*roles: Role) -> Any:
    """A dependency that lets only `roles` through."""

    async def check(actor: ActorDep) -> Actor:
        if actor.role not in roles:
            names = ", ".join(r.value for r in roles)
            raise NotPermitted(f"this needs the role {names}; you are signed in as {actor.role.value}")
        return actor

    return Depends(check)


@dataclass(slots=True)
class Idempotency:
    """The Idempotency-Key of a POST: either the first answer to replay, or the claim to record."""

    claim: IdempotencyKey | None
    replay: Response | None
    services: Services

    def respond(self, payload: Any, status: int = 200) -> Response:
        """Serialise the answer, remember it for the key (if any), and return it."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        if self.claim is not None:
            try:
                self.services.remember_response(
                    self.claim.owner, self.claim.key, StoredResponse(status=status, body=body)
                )
            except ServiceUnavailable:
                # the request is recorded: its answer still goes back, though a retry cannot replay it
                log.warning("the answer to Idempotency-Key %r of %s was not kept", self.claim.key, self.claim.owner)
        return Response(body, status_code=status, media_type="application/json")


async def idempotency(
    request: Request,
    services: ServicesDep,
    actor: ActorDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Idempotency:
    if idempotency_key is None:
        return Idempotency(claim=None, replay=None, services=services)
    key = idempotency_key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"an Idempotency-Key is 1 to {MAX_KEY_LENGTH} characters", fields={"Idempotency-Key": "length"}
        )
    raw = await request.body()
    try:
        canonical = json.dumps(json.loads(raw or b"null"), sort_keys=True, separators=(",", ":"))
    except (ValueError, RecursionError):  # not JSON, or nested past the parser: fingerprint the bytes as sent
        canonical = raw.decode("utf-8", "replace")
    # keyed, so a stored fingerprint cannot be brute-forced back to what the body held (a passport number)
    fingerprint = hmac.new(
        services.settings.secret_key.encode(), f"{request.method} {request.url.path}\n{canonical}".encode(), "sha256"
    ).hexdigest()
    found = services.stored_response(actor.username, key)
    if found is not None:
        stored_fingerprint, stored = found
        if stored_fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {key!r} was already used for a different request",
                fields={"Idempotency-Key": "reused with another body"},
            )
        if stored is not None:
            replay = Response(stored.body, status_code=stored.status, media_type="application/json")
            replay.headers["Idempotent-Replayed"] = "true"
            return Idempotency(claim=None, replay=replay, services=services)
    return Idempotency(
        claim=IdempotencyKey(owner=actor.username, key=key, fingerprint=fingerprint),
        replay=None,
        services=services,
    )


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]

"""Sign-in: OAuth2 password form → bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from silkway.shared.actors import Actor
from silkway.web import limits
from silkway.web.api.schemas import TokenOut
from silkway.web.deps import ActorDep, ServicesDep

router = APIRouter(prefix="/auth", tags=["accounts"])


@router.post(
    "/token",
    response_model=TokenOut,
    summary="Sign in with username and password (429 with Retry-After after too many failures)",
    responses=limits.TOO_MANY,
)
def token(request: Request, services: ServicesDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    actor = limits.sign_in(services, request, form.username, form.password)
    return TokenOut(access_token=services.tokens.issue(actor), expires_in=services.settings.token_minutes * 60)


@router.get("/me", summary="The signed-in account")
def me(actor: ActorDep) -> dict[str, str]:
    return _actor(actor)


def _actor(actor: Actor) -> dict[str, str]:
    return {"username": actor.username, "role": actor.role.value, "country": actor.country}

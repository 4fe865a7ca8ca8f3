"""Sign-in: OAuth2 password form → bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from silkway.accounts.handlers import authenticate
from silkway.shared.actors import Actor
from silkway.web.api.schemas import TokenOut
from silkway.web.deps import ActorDep, ServicesDep

router = APIRouter(prefix="/auth", tags=["accounts"])


@router.post("/token", response_model=TokenOut, summary="Sign in with username and password")
def token(services: ServicesDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    actor = authenticate(form.username, form.password, uow=services.uow(), hasher=services.hasher)
    return TokenOut(access_token=services.tokens.issue(actor), expires_in=services.settings.token_minutes * 60)


@router.get("/me", summary="The signed-in account")
def me(actor: ActorDep) -> dict[str, str]:
    return _actor(actor)


def _actor(actor: Actor) -> dict[str, str]:
    return {"username": actor.username, "role": actor.role.value, "country": actor.country}

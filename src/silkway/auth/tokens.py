"""Signed, expiring bearer tokens carrying the actor."""

from __future__ import annotations

from datetime import timedelta

import jwt

from silkway.shared.actors import Actor, Role
from silkway.shared.clock import Clock
from silkway.shared.errors import NotPermitted

ALGORITHM = "HS256"


class InvalidToken(NotPermitted):
    code = "invalid_token"
    title = "Missing, invalid or expired token"


_LEEWAY_SECONDS = 300


class TokenIssuer:
    def __init__(self, *, secret: str, minutes: int, clock: Clock) -> None:
        self._secret = secret
        self._ttl = timedelta(minutes=minutes)
        self._clock = clock

    def issue(self, actor: Actor) -> str:
        now = self._clock.now()
        claims = {
            "sub": actor.username,
            "role": actor.role.value,
            "country": actor.country,
            "iat": int(now.timestamp()),
            "exp": int((now + self._ttl).timestamp()),
            "iss": "silkway",
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def read(self, token: str) -> Actor:
        """The actor a token names; raises `InvalidToken` when it is forged, malformed or expired."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer="silkway",
                # times are judged against the node's clock below, not the machine's
                options={"require": ["exp", "iat", "sub"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"the token is not valid: {exc}") from None
        now = self._clock.now().timestamp()
        if int(claims["exp"]) < now:
            raise InvalidToken("the token has expired; sign in again")
        if int(claims["iat"]) > now + _LEEWAY_SECONDS:
            raise InvalidToken("the token was issued in the future; check the clocks")
        try:
            return Actor(username=str(claims["sub"]), role=Role(claims["role"]), country=str(claims["country"]))
        except (KeyError, ValueError):
            raise InvalidToken("the token does not name a valid actor") from None

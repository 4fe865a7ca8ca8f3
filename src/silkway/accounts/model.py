"""An account: a person (or a national system) acting in one role for one member state."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from silkway.shared.actors import Actor, Role
from silkway.shared.errors import InvalidInput

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")


@dataclass(slots=True, kw_only=True)
class Account:
    """A user account. `password_hash` is an opaque hash string; the password itself is never kept.

    Raises `InvalidInput` for a malformed username or country.
    """

    username: str
    role: Role
    country: str
    display_name: str
    password_hash: str
    active: bool = True
    created_at: datetime

    def __post_init__(self) -> None:
        if not _USERNAME.fullmatch(self.username):
            raise InvalidInput(
                "a username is 3-64 lower-case letters, digits, dots, dashes or underscores",
                fields={"username": "malformed"},
            )
        if not re.fullmatch(r"[A-Z]{2}", self.country):
            raise InvalidInput("country is an ISO 3166 alpha-2 code", fields={"country": "malformed"})

    def as_actor(self) -> Actor:
        return Actor(username=self.username, role=self.role, country=self.country)

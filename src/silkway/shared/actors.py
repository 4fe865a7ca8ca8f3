"""Who is acting: every command carries the signed-in actor, so rules can check rights in the domain."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The roles of Silkway's users."""

    CARRIER = "carrier"
    CUSTOMS = "customs"
    BORDER_GUARD = "border_guard"
    CONSULAR = "consular"
    ANALYST = "analyst"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """An authenticated account acting in one member state.

    `country` is the state the account belongs to (a carrier's state of establishment).
    """

    username: str
    role: Role
    country: str

    def __str__(self) -> str:
        return f"{self.username} ({self.role}, {self.country})"


SYSTEM = Actor(username="system", role=Role.ADMIN, country="ZZ")
"""The node itself, for automatic actions such as loading demo data."""

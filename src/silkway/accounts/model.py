"""An account: a person (or a national system) acting in one role for one member state."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from silkway.shared.actors import Actor, Role
from silkway.shared.errors import InvalidInput

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")


@dataclass(frozen=True, slots=True, kw_only=True)
class LockOut:
    """When failed sign-ins lock a username: `after` failures in a row lock it for `duration` from the last one.
    A failure is forgotten `duration` after it, as Windows' "reset account lockout counter after" does, so a typo
    a week ago never counts towards today's lock-out.

    Raises `ValueError` for a policy that never or always locks."""

    after: int = 5
    duration: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.after < 1 or self.duration <= timedelta(0):
            raise ValueError("a lock-out needs at least one failure and a positive duration")


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedSignIns:
    """The failed sign-ins in a row with one username, and when the latest was. Kept in the account for a
    username that names one, and beside the accounts for one that does not, so both lock out alike."""

    count: int = 0
    latest: datetime | None = None

    def at(self, now: datetime, policy: LockOut) -> FailedSignIns:
        """These failures as they count at `now`: none once `policy.duration` has passed since the latest."""
        if self.latest is None or now >= self.latest + policy.duration:
            return FailedSignIns()
        return self

    def locked_until(self, now: datetime, policy: LockOut) -> datetime | None:
        """The end of the lock-out these failures impose at `now`, or None when they impose none."""
        current = self.at(now, policy)
        if current.latest is None or current.count < policy.after:
            return None
        return current.latest + policy.duration

    def plus_one(self, now: datetime, policy: LockOut) -> FailedSignIns:
        """These failures and one more at `now`."""
        return FailedSignIns(count=self.at(now, policy).count + 1, latest=now)


@dataclass(slots=True, kw_only=True)
class Account:
    """A user account. `password_hash` is an opaque hash string; the password itself is never kept.
    `failed_sign_ins` are the failures in a row since the last success (see `LockOut`).

    Raises `InvalidInput` for a malformed username or country.
    """

    username: str
    role: Role
    country: str
    display_name: str
    password_hash: str
    active: bool = True
    created_at: datetime
    failed_sign_ins: FailedSignIns = FailedSignIns()

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

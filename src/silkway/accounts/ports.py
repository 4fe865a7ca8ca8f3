"""What account handling needs from the outside: storage and a password hasher."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, Self

from silkway.accounts.model import Account, FailedSignIns
from silkway.shared.audit import AuditTrail


class AccountRepository(Protocol):
    def get(self, username: str) -> Account | None:
        """The account; inside a unit of work it stays locked to other writers until the work ends, so that
        reading it and updating it is one step (two failed sign-ins at once both count)."""
        ...

    def add(self, account: Account) -> None: ...

    def update(self, account: Account) -> None: ...

    def of_country(self, country: str) -> Sequence[Account]: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool:
        """True when `password` matches; never raises for a wrong password."""
        ...

    def burn(self, password: str) -> None:
        """Take as long as one verification, so an unknown username cannot be told by timing."""
        ...


class UnknownUsernames(Protocol):
    """Failed sign-ins with usernames that name no account, counted as an account counts its own
    (`Account.failed_sign_ins`), so that a lock-out never tells which usernames exist. Shared by every process
    of the node, and each count is atomic: parallel failures all count."""

    def failed_sign_ins(self, username: str) -> FailedSignIns: ...

    def count_failed_sign_in(self, username: str, *, at: datetime, forget_after: timedelta) -> FailedSignIns:
        """Add a failure at `at` (the count starts over when the latest is `forget_after` old); the new count."""
        ...


class AccountsUnitOfWork(Protocol):
    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def audit(self) -> AuditTrail: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

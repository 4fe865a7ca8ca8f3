"""What account handling needs from the outside: storage and a password hasher."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self

from silkway.accounts.model import Account


class AccountRepository(Protocol):
    def get(self, username: str) -> Account | None: ...

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


class AccountsUnitOfWork(Protocol):
    @property
    def accounts(self) -> AccountRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

"""Argon2id password hashes, via argon2-cffi."""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Argon2Hasher:
    """Hashes with argon2id. `fast=True` lowers the cost for tests and demo loading only."""

    def __init__(self, *, fast: bool = False) -> None:
        self._hasher = _Argon2(time_cost=1, memory_cost=8 * 1024, parallelism=1) if fast else _Argon2()
        # a hash to verify against when the account does not exist, so timing does not tell
        self._decoy = self._hasher.hash("decoy password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def burn(self, password: str) -> None:
        """Spend the time of one verification, for an unknown username."""
        self.verify(self._decoy, password)

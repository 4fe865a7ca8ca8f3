"""Errors of the trust core.

    SigningError
    ├── KeyUnavailable        a private key is missing, or cannot be unsealed with this node's passphrase
    ├── MalformedRecord       bytes that are not a signed record, trust list, tree head or seal
    └── VerificationError     a check failed; `.problems` says which, each with its code and the record's seq

Verification functions return their findings; `VerificationError` is raised only by the `require_*` helpers
that refuse to go on without a valid input (an invalid trust list, say).
"""

from __future__ import annotations

from dataclasses import dataclass


class SigningError(Exception):
    """Base of the trust core's errors."""


class KeyUnavailable(SigningError):
    """A private key needed to sign is not held here or cannot be unsealed."""


class MalformedRecord(SigningError, ValueError):
    """Input that does not have the form of a signed record, trust list, tree head or seal."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One failed check: a stable `code` (see docs/signed-records.md), a sentence, and where it was found."""

    code: str
    message: str
    seq: int | None = None

    def __str__(self) -> str:
        return self.message if self.seq is None else f"event {self.seq}: {self.message}"


class VerificationError(SigningError):
    """Raised with the problems found when a caller cannot go on without a valid input."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]

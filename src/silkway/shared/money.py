"""Money as an exact decimal amount with an ISO 4217 currency code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from silkway.shared.errors import InvalidInput

_CURRENCY = re.compile(r"[A-Z]{3}")
_MAX_AMOUNT = Decimal("1e15")
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True, kw_only=True)
class Money:
    """A non-negative amount with at most two decimals, in a currency written as three capital letters.

    Whether the code is a real ISO 4217 currency is checked against the reference data by the handlers.
    On a malformed amount or code, raises `InvalidInput`.
    """

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise InvalidInput("amount must be a finite decimal", fields={"amount": "not a number"})
        if self.amount < 0:
            raise InvalidInput("amount must not be negative", fields={"amount": "negative"})
        if self.amount >= _MAX_AMOUNT:
            raise InvalidInput("amount is implausibly large", fields={"amount": "too large"})
        if self.amount != self.amount.quantize(_CENT):
            raise InvalidInput("amount has more than two decimals", fields={"amount": "too precise"})
        object.__setattr__(self, "amount", self.amount.quantize(_CENT) + 0)  # 1.500 → 1.50, -0 → 0.00
        if not _CURRENCY.fullmatch(self.currency):
            raise InvalidInput(
                f"{self.currency!r} is not an ISO 4217 currency code", fields={"currency": "unknown currency"}
            )

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        """Build from text or a number; raises `InvalidInput` when the amount is not a decimal."""
        try:
            value = Decimal(str(amount))
        except InvalidOperation:
            raise InvalidInput(f"{amount!r} is not an amount", fields={"amount": "not a number"}) from None
        return cls(amount=value, currency=currency)

    def __str__(self) -> str:
        return f"{self.amount:.2f} {self.currency}"

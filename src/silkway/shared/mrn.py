"""Movement reference numbers in the NCTS style, with an ISO 7064 check character."""

from __future__ import annotations

import re

from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_37_36

from silkway.shared.errors import InvalidInput

_SHAPE = re.compile(r"(?P<year>[0-9]{2})(?P<country>[A-Z]{2})(?P<serial>[0-9A-Z]{13})(?P<check>[0-9A-Z])")
LENGTH = 18


class Mrn(str):
    """An 18-character MRN: two-digit year, ISO 3166 country of departure, a 13-character serial and an
    ISO 7064 MOD 37,36 check character over the first 17 characters — for example ``26KZ0000000000001A``.

    Constructing one from text normalises case and spaces; raises `InvalidInput` when the shape or the
    check character is wrong, so an MRN typed with one wrong character is caught at once.
    """

    __slots__ = ()

    def __new__(cls, text: str) -> Mrn:
        value = "".join(str(text).split()).upper()
        match = _SHAPE.fullmatch(value)
        if match is None:
            raise InvalidInput(
                f"{text!r} is not an MRN: expected 18 characters, year, country, serial and check character",
                fields={"mrn": "malformed"},
            )
        try:
            mod_37_36.validate(value)
        except ValidationError:
            raise InvalidInput(
                f"{text!r} is not an MRN: the check character is wrong (expected "
                f"{mod_37_36.calc_check_digit(value[:-1])!r})",
                fields={"mrn": "bad check character"},
            ) from None
        return super().__new__(cls, value)

    @classmethod
    def issue(cls, *, year: int, country: str, serial: int) -> Mrn:
        """The MRN for the `serial`-th declaration lodged in `country` in `year`."""
        if not 0 < serial < 36**13:
            raise ValueError("MRN serial out of range")
        body = f"{year % 100:02d}{country}{_base36(serial).rjust(13, '0')}"
        return cls(body + mod_37_36.calc_check_digit(body))

    @property
    def year(self) -> int:
        return 2000 + int(self[:2])

    @property
    def country(self) -> str:
        return self[2:4]


def _base36(number: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"

"""Value objects of the reference data: member states, customs offices, crossing points, HS headings.

They hold no behaviour beyond simple lookups. The invariants stated on each class are checked when
`ReferenceData` builds them from the package CSV files; objects built by hand are not checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from silkway.places.errors import UnknownOffice

MEMBER_STATES: tuple[str, ...] = ("KZ", "UZ", "KG", "TJ", "TM", "AZ")
"""ISO 3166 alpha-2 codes of the states in the cargo-transit scheme, in the scheme's order."""

CROSSING_MODES: frozenset[str] = frozenset({"road", "rail", "road+rail", "sea"})
"""The modes of transport a crossing point can serve."""


class OfficeKind(StrEnum):
    """What an office is, as far as a transit route cares.

    INLAND offices (customs posts, dry ports, cargo airports) are where a transit starts or ends;
    BORDER offices are one side of a land crossing point; SEAPORT offices are ports, which may also be
    the side of a sea crossing.
    """

    INLAND = "inland"
    BORDER = "border"
    SEAPORT = "seaport"


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberState:
    """A state of the cargo-transit scheme.

    Invariants: `code` is one of `MEMBER_STATES`; `currency` is its ISO 4217 alphabetic code;
    `name` and `currency_name` are the English names from ISO 3166 and ISO 4217 (via pycountry).
    """

    code: str
    name: str
    currency: str
    currency_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Office:
    """A customs office: an inland post, a seaport, or one side of a crossing point.

    Invariants: `code` is unique and starts with ``"<country>-"``; `country` is an ISO 3166 alpha-2
    code (a non-member for the Chinese, Russian and Georgian sides of a crossing); `name` is never
    empty, `name_local` may be (a local name was not found); `lat` and `lon` are both set or both
    `None`; `crossings` lists, sorted, the codes of the crossing points this office is a side of.
    An INLAND office has no crossings and `mode` ``""``; a BORDER office has at least one crossing
    and the crossing's mode (``road``, ``rail`` or ``road+rail``) and coordinates; a SEAPORT has mode
    ``sea``.
    """

    code: str
    country: str
    kind: OfficeKind
    name: str
    name_local: str
    lat: float | None
    lon: float | None
    crossings: tuple[str, ...]
    mode: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossingPoint:
    """A point where goods cross from one state to another, with an office on each side.

    Invariants: `code` is unique and starts with the countries of `office_a` and `office_b`
    (``"KZUZ-ZHIBEKZHOLY"``); the two offices exist and lie in different countries, at least one of
    them a member state; `mode` is one of `CROSSING_MODES` and both offices serve it; `lat` and `lon`
    are both set or both `None` (approximate, see the package README); `name` reads
    ``"<side a> – <side b>"``. No two crossings join the same pair of offices.
    """

    code: str
    office_a: str
    office_b: str
    mode: str
    lat: float | None
    lon: float | None
    name: str

    @property
    def offices(self) -> tuple[str, str]:
        """The codes of the two sides, `office_a` first."""
        return (self.office_a, self.office_b)

    def other_side(self, office: str) -> str:
        """Return the code of the office across the border from `office`.

        On failure, raises `UnknownOffice` when `office` is not one of the two sides.
        """
        if office == self.office_a:
            return self.office_b
        if office == self.office_b:
            return self.office_a
        raise UnknownOffice(
            f"office {office!r} is not a side of crossing {self.code!r}",
            fields={"office": f"not a side of {self.code}"},
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class HsHeading:
    """A chapter (level 2), heading (level 4) or subheading (level 6) of the Harmonized System 2022.

    Invariants: `code` has exactly `level` digits; `parent` is the code of the enclosing heading
    (`level` - 2 digits, a prefix of `code`), or ``""`` for a chapter; `section` is the roman numeral
    of the HS section, the same as the parent's; `description` is the UN Comtrade English text.
    """

    code: str
    description: str
    level: int
    section: str
    parent: str

"""The transit declaration and its parts, as plain value objects.

Shape is checked here (on construction); whether offices, crossings, HS codes and currencies exist is
checked by `silkway.transit.rules.check_declaration` against the reference data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from stdnum import iso6346
from stdnum.exceptions import ValidationError

from silkway.shared.money import Money
from silkway.transit.errors import IncoherentItinerary, InvalidDeclaration

MAX_GOODS_ITEMS = 999
MAX_CONTAINERS = 99
MAX_SEALS = 99
MAX_ITINERARY = 40
_PLATE = re.compile(r"[0-9A-Z][0-9A-Z -]{1,14}")
_SEAL = re.compile(r"[0-9A-Za-z][0-9A-Za-z/.-]{0,34}")
_HS6 = re.compile(r"[0-9]{6}")


class TransitStatus(StrEnum):
    SUBMITTED = "submitted"
    IN_TRANSIT = "in_transit"
    ARRIVED = "arrived"
    DISCHARGED = "discharged"
    REFUSED = "refused"
    CANCELLED = "cancelled"


class ControlKind(StrEnum):
    """Kinds of control, weakest first: a stronger control satisfies a rule asking for a weaker one."""

    DOCUMENTARY = "documentary"
    SCAN = "scan"
    PHYSICAL = "physical"

    @property
    def strength(self) -> int:
        return list(ControlKind).index(self)


class ControlOutcome(StrEnum):
    SATISFACTORY = "satisfactory"
    UNSATISFACTORY = "unsatisfactory"


class IncidentKind(StrEnum):
    SEAL_BROKEN = "seal_broken"
    SEAL_REPLACED = "seal_replaced"
    ACCIDENT = "accident"
    TRANSSHIPMENT = "transshipment"
    OTHER = "other"


class Decision(StrEnum):
    GREEN = "green"
    INSPECT = "inspect"


@dataclass(frozen=True, slots=True, kw_only=True)
class Vehicle:
    """A road vehicle (or train, vessel) by its registration plate and registration country."""

    plate: str
    country: str

    def __post_init__(self) -> None:
        plate = " ".join(self.plate.upper().split())
        object.__setattr__(self, "plate", plate)
        if not _PLATE.fullmatch(plate):
            raise InvalidDeclaration(
                f"{self.plate!r} is not a registration plate", fields={"vehicle.plate": "malformed"}
            )
        if not re.fullmatch(r"[A-Z]{2}", self.country):
            raise InvalidDeclaration(
                f"{self.country!r} is not an ISO 3166 country code", fields={"vehicle.country": "malformed"}
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Container:
    """An ISO 6346 container number; the check digit is validated on construction."""

    number: str

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "number", iso6346.validate(self.number))
        except ValidationError as exc:
            raise InvalidDeclaration(
                f"{self.number!r} is not an ISO 6346 container number: {exc}",
                fields={"containers": "bad check digit or format"},
            ) from None


def normalise_seals(seals: tuple[str, ...] | list[str], field: str = "seals") -> tuple[str, ...]:
    """Seal numbers as recorded: stripped, upper-cased, unique, at most `MAX_SEALS`.

    Raises `InvalidDeclaration` on a malformed or repeated seal number.
    """
    if len(seals) > MAX_SEALS:
        raise InvalidDeclaration(f"at most {MAX_SEALS} seals", fields={field: "too many"})
    out: list[str] = []
    for i, seal in enumerate(seals):
        value = seal.strip().upper()
        if not _SEAL.fullmatch(value):
            raise InvalidDeclaration(f"{seal!r} is not a seal number", fields={f"{field}[{i}]": "malformed"})
        if value in out:
            raise InvalidDeclaration(f"seal {value} is listed twice", fields={f"{field}[{i}]": "duplicate"})
        out.append(value)
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class GoodsItem:
    """One goods item: an HS 2022 subheading, packages, gross mass (> 0 kg) and customs value."""

    hs_code: str
    description: str
    packages: int
    gross_mass_kg: Decimal
    value: Money

    def __post_init__(self) -> None:
        if not _HS6.fullmatch(self.hs_code):
            raise InvalidDeclaration(f"{self.hs_code!r} is not a 6-digit HS code", fields={"hs_code": "not 6 digits"})
        if not self.description.strip() or len(self.description) > 512:
            raise InvalidDeclaration("describe the goods in 1 to 512 characters", fields={"description": "length"})
        if not 0 < self.packages <= 1_000_000:
            raise InvalidDeclaration("packages must be between 1 and 1,000,000", fields={"packages": "range"})
        if not self.gross_mass_kg.is_finite() or self.gross_mass_kg <= 0:
            raise InvalidDeclaration("gross mass must be more than 0 kg", fields={"gross_mass_kg": "not positive"})
        if self.gross_mass_kg > 1_000_000:
            raise InvalidDeclaration("gross mass is over 1,000 t", fields={"gross_mass_kg": "too large"})

    @property
    def chapter(self) -> str:
        return self.hs_code[:2]


@dataclass(frozen=True, slots=True, kw_only=True)
class GuaranteeCommitment:
    """The part of a guarantee's cover that one transit commits."""

    reference: str
    amount: Money


@dataclass(frozen=True, slots=True, kw_only=True)
class Guarantee:
    """A comprehensive guarantee (a GRN) given for a holder, whose cover open transits share."""

    reference: str
    holder: str
    cover: Money
    valid_until: datetime
    revoked: bool = False

    def is_valid_at(self, at: datetime) -> bool:
        return not self.revoked and at <= self.valid_until


@dataclass(frozen=True, slots=True, kw_only=True)
class BorderCrossing:
    """One border on the route: leave at `exit_office`, enter at `entry_office`, through `crossing`."""

    exit_office: str
    entry_office: str
    crossing: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Itinerary:
    """The ordered offices of a route: departure, then (exit, entry) per border, then destination.

    The shape (an even number of offices, none repeated) is checked here; that each pair is a real
    crossing point is checked against the reference data. Raises `IncoherentItinerary`.
    """

    offices: tuple[str, ...]

    def __post_init__(self) -> None:
        n = len(self.offices)
        if n < 2:
            raise IncoherentItinerary(
                "an itinerary needs at least an office of departure and an office of destination",
                fields={"itinerary": "too short"},
            )
        if n > MAX_ITINERARY:
            raise IncoherentItinerary(f"at most {MAX_ITINERARY} offices", fields={"itinerary": "too long"})
        if n % 2:
            raise IncoherentItinerary(
                "an itinerary is departure, then exit and entry office for each border, then destination: "
                f"{n} offices cannot form it",
                fields={"itinerary": "odd number of offices"},
            )
        if len(set(self.offices)) != n:
            raise IncoherentItinerary("an office appears twice in the itinerary", fields={"itinerary": "repeats"})

    @property
    def departure(self) -> str:
        return self.offices[0]

    @property
    def destination(self) -> str:
        return self.offices[-1]

    @property
    def border_offices(self) -> tuple[str, ...]:
        """Exit and entry offices in the order the vehicle passes them."""
        return self.offices[1:-1]

    def is_exit(self, office: str) -> bool:
        return office in self.border_offices and self.border_offices.index(office) % 2 == 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Declaration:
    """A transit declaration, as lodged by its holder (the carrier)."""

    holder: str
    vehicle: Vehicle | None
    containers: tuple[Container, ...]
    itinerary: Itinerary
    goods: tuple[GoodsItem, ...]
    guarantee: GuaranteeCommitment

    def __post_init__(self) -> None:
        if self.vehicle is None and not self.containers:
            raise InvalidDeclaration(
                "declare a vehicle, containers or both",
                fields={"vehicle": "missing", "containers": "missing"},
            )
        if not self.goods:
            raise InvalidDeclaration("declare at least one goods item", fields={"goods": "empty"})
        if len(self.goods) > MAX_GOODS_ITEMS:
            raise InvalidDeclaration(f"at most {MAX_GOODS_ITEMS} goods items", fields={"goods": "too many"})
        if len(self.containers) > MAX_CONTAINERS:
            raise InvalidDeclaration(f"at most {MAX_CONTAINERS} containers", fields={"containers": "too many"})

    @property
    def total_mass_kg(self) -> Decimal:
        return sum((g.gross_mass_kg for g in self.goods), Decimal(0))


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlResult:
    """A control made at an office: its kind, outcome and any seals affixed after it."""

    office: str
    kind: ControlKind
    outcome: ControlOutcome
    seals: tuple[str, ...] = ()
    note: str = ""

    @property
    def satisfactory(self) -> bool:
        return self.outcome is ControlOutcome.SATISFACTORY


@dataclass(frozen=True, slots=True, kw_only=True)
class PresentationDecision:
    """The answer at an office: green (proceed) or inspect, with machine-readable reasons."""

    decision: Decision
    reasons: tuple[str, ...]

    @classmethod
    def from_reasons(cls, reasons: list[str]) -> PresentationDecision:
        return cls(decision=Decision.INSPECT if reasons else Decision.GREEN, reasons=tuple(reasons))

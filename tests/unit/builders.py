"""Builders with sensible defaults: a laptop shipment from Almaty to Dushanbe through Uzbekistan.

Every builder takes keyword overrides for what a test cares about and fills in the rest.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from silkway.shared.actors import Actor, Role
from silkway.shared.clock import FixedClock
from silkway.shared.money import Money
from silkway.transit.model import (
    Container,
    ControlKind,
    Declaration,
    GoodsItem,
    Guarantee,
    GuaranteeCommitment,
    Itinerary,
    Vehicle,
)
from silkway.transit.risk import RiskRule

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)

ALMATY = "KZ-ALA-ZHETYSU"
KZ_EXIT = "KZ-ZHIBEKZHOLY"
UZ_ENTRY = "UZ-GISHTKUPRIK"
UZ_EXIT = "UZ-OYBEK"
TJ_ENTRY = "TJ-FOTEHOBOD"
DUSHANBE = "TJ-DUSHANBE-HQ"
TASHKENT = "UZ-TAS-CUSTOMS"

ROUTE: tuple[str, ...] = (ALMATY, KZ_EXIT, UZ_ENTRY, UZ_EXIT, TJ_ENTRY, DUSHANBE)
"""Departure, (exit, entry) at KZUZ-ZHIBEKZHOLY, (exit, entry) at UZTJ-OYBEK, destination."""

HOLDER = "carrier-kz"
GRN = "GRN-KZ-0001"
SEAL = "KZ1234567"


def a_goods_item(
    *,
    hs_code: str = "847130",
    description: str = "laptops",
    packages: int = 40,
    gross_mass_kg: str | Decimal = "320",
    value: str = "48000",
    currency: str = "USD",
) -> GoodsItem:
    return GoodsItem(
        hs_code=hs_code,
        description=description,
        packages=packages,
        gross_mass_kg=Decimal(gross_mass_kg),
        value=Money.of(value, currency),
    )


def a_declaration(
    *,
    holder: str = HOLDER,
    vehicle: Vehicle | None = None,
    containers: tuple[Container, ...] = (),
    offices: tuple[str, ...] = ROUTE,
    goods: tuple[GoodsItem, ...] | None = None,
    guarantee: str = GRN,
    amount: str = "1000",
    currency: str = "USD",
) -> Declaration:
    return Declaration(
        holder=holder,
        vehicle=vehicle or Vehicle(plate="123 ABC 02", country="KZ"),
        containers=containers,
        itinerary=Itinerary(offices=offices),
        goods=(a_goods_item(),) if goods is None else goods,
        guarantee=GuaranteeCommitment(reference=guarantee, amount=Money.of(amount, currency)),
    )


def a_guarantee(
    *,
    reference: str = GRN,
    holder: str = HOLDER,
    cover: str = "1000",
    currency: str = "USD",
    valid_until: datetime = datetime(2027, 12, 31, tzinfo=UTC),
    revoked: bool = False,
) -> Guarantee:
    return Guarantee(
        reference=reference,
        holder=holder,
        cover=Money.of(cover, currency),
        valid_until=valid_until,
        revoked=revoked,
    )


def a_risk_rule(
    *,
    id: str = "laptops",
    country: str = "UZ",
    hs_prefix: str | None = "8471",
    departure_country: str | None = None,
    required_control: ControlKind | None = ControlKind.PHYSICAL,
    active: bool = True,
) -> RiskRule:
    return RiskRule(
        id=id,
        country=country,
        description=f"inspect {hs_prefix or 'everything'} at offices of {country}",
        hs_prefix=hs_prefix,
        departure_country=departure_country,
        required_control=required_control,
        active=active,
    )


def carrier(username: str = HOLDER, country: str = "KZ") -> Actor:
    return Actor(username=username, role=Role.CARRIER, country=country)


def customs(country: str) -> Actor:
    return Actor(username=f"customs-{country.lower()}", role=Role.CUSTOMS, country=country)


def admin(country: str) -> Actor:
    return Actor(username=f"admin-{country.lower()}", role=Role.ADMIN, country=country)


def a_clock(at: datetime = NOW) -> FixedClock:
    return FixedClock(at)

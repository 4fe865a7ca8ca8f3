"""Demo accounts, guarantees and risk rules for the embedded pilot; never loaded in production."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from silkway.accounts.handlers import CreateAccount, create_account
from silkway.places.model import MEMBER_STATES
from silkway.services import Services
from silkway.shared.actors import SYSTEM, Actor, Role
from silkway.shared.money import Money
from silkway.transit.commands import PutRiskRule, RegisterGuarantee
from silkway.transit.handlers import put_risk_rule, register_guarantee
from silkway.transit.model import ControlKind
from silkway.visas.commands import EnterAlert
from silkway.visas.handlers import enter_alert
from silkway.visas.scheme import SCHEME_STATES

DEMO_PASSWORD = "demo"  # noqa: S105 - the published demo password, refused in production


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoGuarantee:
    reference: str
    holder: str
    amount: str
    currency: str


DEMO_GUARANTEES = (
    DemoGuarantee(reference="GRN-KZ-0001", holder="carrier-kz", amount="500000.00", currency="USD"),
    DemoGuarantee(reference="GRN-KZ-0002", holder="carrier-kz", amount="20000000.00", currency="KZT"),
)


def demo_accounts() -> list[tuple[str, Role, str]]:
    """(username, role, country) of every demo account."""
    accounts = [("carrier-kz", Role.CARRIER, "KZ")]
    for cc in MEMBER_STATES:
        low = cc.lower()
        accounts += [
            (f"customs-{low}", Role.CUSTOMS, cc),
            (f"analyst-{low}", Role.ANALYST, cc),
            (f"admin-{low}", Role.ADMIN, cc),
        ]
    for cc in SCHEME_STATES:
        low = cc.lower()
        accounts += [(f"consul-{low}", Role.CONSULAR, cc), (f"border-{low}", Role.BORDER_GUARD, cc)]
    return accounts


def load_demo(services: Services) -> int:
    """Create the demo accounts, guarantees and risk rules that are missing; returns how many were added.

    Refuses in production (`RuntimeError`), since the demo password is public.
    """
    if services.settings.production:
        raise RuntimeError("demo data is never loaded in production")
    services.establish_trust()  # the demo alerts are signed records; keys are made once, then this does nothing
    added = 0
    with services.uow() as uow:
        existing = {name for name, _, _ in demo_accounts() if uow.accounts.get(name) is not None}
    for username, role, country in demo_accounts():
        if username in existing:
            continue
        create_account(
            CreateAccount(
                actor=SYSTEM,
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                country=country,
                display_name=f"Demo {role.value.replace('_', ' ')} ({country})",
            ),
            uow=services.uow(),
            clock=services.clock,
            hasher=services.hasher,
        )
        added += 1
    admin_kz = Actor(username="admin-kz", role=Role.ADMIN, country="KZ")
    for g in DEMO_GUARANTEES:
        with services.uow() as uow:
            if uow.guarantees.get(g.reference) is not None:
                continue
        register_guarantee(
            RegisterGuarantee(
                actor=admin_kz,
                reference=g.reference,
                holder=g.holder,
                cover=Money.of(g.amount, g.currency),
                valid_until=services.clock.now() + timedelta(days=3 * 365),
            ),
            uow=services.uow(),
            clock=services.clock,
            places=services.places,
        )
        added += 1
    if services.visa_queries.alert_count() == 0:
        for alert in _demo_alerts():
            enter_alert(alert, uow=services.uow(), clock=services.clock, scheme=services.scheme)
            added += 1
    for rule in _demo_rules():
        if any(r.id == rule.id for r in services.queries.risk_rules(rule.actor.country)):
            continue
        put_risk_rule(rule, uow=services.uow(), clock=services.clock, places=services.places)
        added += 1
    return added


def _demo_alerts() -> list[EnterAlert]:
    """Two fictitious people on the shared alert list, so a consul sees how hits look."""
    return [
        EnterAlert(
            actor=Actor(username="consul-uz", role=Role.CONSULAR, country="UZ"),
            name="Ходжаев Тимур Рашидович",
            date_of_birth=date(1984, 3, 9),
            nationality="UZB",
            reason="Refusal of entry: a forged residence permit presented at Tashkent airport (fictitious demo entry)",
        ),
        EnterAlert(
            actor=Actor(username="consul-kz", role=Role.CONSULAR, country="KZ"),
            name="Ivanova Zhanna",
            date_of_birth=date(1979, 11, 30),
            nationality=None,
            reason="Refusal of entry: overstayed 45 days in 2025 (fictitious demo entry)",
        ),
    ]


def _demo_rules() -> list[PutRiskRule]:
    def admin(cc: str) -> Actor:
        return Actor(username=f"admin-{cc.lower()}", role=Role.ADMIN, country=cc)

    return [
        PutRiskRule(
            actor=admin("UZ"),
            id="tobacco",
            description="Tobacco and manufactured substitutes (HS chapter 24): physical inspection",
            hs_prefix="24",
            required_control=ControlKind.PHYSICAL,
        ),
        PutRiskRule(
            actor=admin("KG"),
            id="electronics-high-value",
            description="Electronics (HS 85) worth over 150 USD per kg: a scan at least",
            hs_prefix="85",
            min_value_per_kg=Money.of("150", "USD"),
            required_control=ControlKind.SCAN,
        ),
        PutRiskRule(
            actor=admin("TJ"),
            id="vehicles-spot-check",
            description="Spot check of 10% of consignments of vehicles and parts (HS 87) at Tajik offices",
            hs_prefix="87",
            sampling_rate=Decimal("0.10"),
            seed="tj-2026",
            required_control=None,
        ),
    ]

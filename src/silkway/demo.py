"""Demo accounts, guarantees, risk rules and a month of simulated traffic for the embedded pilot; never
loaded in production."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from silkway.accounts.handlers import CreateAccount, create_account
from silkway.accounts.ports import PasswordHasher
from silkway.places.model import MEMBER_STATES
from silkway.services import Services
from silkway.shared.actors import SYSTEM, Actor, Role
from silkway.shared.clock import FixedClock
from silkway.shared.money import Money
from silkway.signing.trustlist import KeyStatus
from silkway.simulation import SimulationSummary, TransitTraffic, drive
from silkway.transit.commands import PutRiskRule, RegisterGuarantee
from silkway.transit.handlers import put_risk_rule, register_guarantee
from silkway.transit.model import ControlKind
from silkway.visa_simulation import VisaSimulationSummary, VisaTravel
from silkway.visas.commands import EnterAlert
from silkway.visas.handlers import enter_alert
from silkway.visas.scheme import SCHEME_STATES

log = logging.getLogger(__name__)

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


class _DemoPassword:
    """Hashes the one public demo password once for all the demo accounts (a salted argon2id hash verifies
    the same for each), instead of some seventy times on every start; other passwords go to `hasher`."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self._hasher = hasher
        self._demo_hash: str | None = None

    def hash(self, password: str) -> str:
        if password != DEMO_PASSWORD:
            return self._hasher.hash(password)
        if self._demo_hash is None:
            self._demo_hash = self._hasher.hash(password)
        return self._demo_hash

    def verify(self, password_hash: str, password: str) -> bool:
        return self._hasher.verify(password_hash, password)

    def burn(self, password: str) -> None:
        self._hasher.burn(password)


def load_demo(services: Services) -> int:
    """Create the demo accounts, guarantees and risk rules that are missing; returns how many were added.

    Refuses in production (`RuntimeError`), since the demo password is public.
    """
    if services.settings.production:
        raise RuntimeError("demo data is never loaded in production")
    services.establish_trust()  # the demo alerts are signed records; keys are made once, then this does nothing
    added = 0
    hasher = _DemoPassword(services.hasher)
    served = set(services.served_states)
    with services.uow() as uow:
        existing = {name for name, _, _ in demo_accounts() if uow.accounts.get(name) is not None}
    for username, role, country in demo_accounts():
        if username in existing or country not in served:
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
            hasher=hasher,
        )
        added += 1
    admin_kz = Actor(username="admin-kz", role=Role.ADMIN, country="KZ")
    for g in DEMO_GUARANTEES if "KZ" in served else ():
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
        for alert in (a for a in _demo_alerts() if a.actor.country in served):
            enter_alert(alert, uow=services.uow(), clock=services.clock, scheme=services.scheme)
            added += 1
    for rule in (r for r in _demo_rules() if r.actor.country in served):
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


# --- a month of history -------------------------------------------------------------------------

HISTORY_DAYS = 30
HISTORY_TRANSITS = 300
HISTORY_TRAVELLERS = 150
HISTORY_SEED = 2026
HISTORY_QUIET_DAYS = 1
"""Transits depart until this many days before now, so most have arrived when the node starts."""
SETUP_LEAD = timedelta(hours=1)
"""How long before the history begins the node's keys and demo accounts are made."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoHistory:
    """The simulated history a fresh node starts with: from `since` to just before `until` (the node's now)."""

    since: datetime
    until: datetime
    transits: SimulationSummary
    visas: VisaSimulationSummary


def load_history(
    services: Services,
    *,
    days: int = HISTORY_DAYS,
    transits: int = HISTORY_TRANSITS,
    travellers: int = HISTORY_TRAVELLERS,
    seed: int = HISTORY_SEED,
) -> DemoHistory | None:
    """Give a fresh node `days` of simulated transits and visa travellers, ending at `services.clock.now()`.

    A node is fresh while it holds no transit and no visa application; on any other node this does nothing
    and returns None, so it runs on the first start only. The history is driven through the handlers (see
    `simulation` and `visa_simulation`), every record dated in the past and none at or after now: transits
    and travellers still on their way stand where they are at that moment.

    A record is genuine only if the key that signed it was valid at the record's time, and a key is valid
    from the moment it was made (less `signing.authority.CLOCK_SKEW`). So the trust is established, and the
    demo accounts, guarantees, rules and alerts are loaded, on a clock set `SETUP_LEAD` before the history
    begins — the node is set up as if it had been installed then — and the keys sign the history as any
    node's keys sign its traffic. A node whose keys already exist but were made after the history would
    begin gets no history (its keys could not sign it): that is logged and None returned.

    Refuses in production (`RuntimeError`).
    """
    if services.settings.production:
        raise RuntimeError("demo data is never loaded in production")
    if services.dashboard.has_traffic():
        return None
    until = services.clock.now()
    since = until - timedelta(days=days)
    keys_from = _newest_key(services)
    if keys_from is not None and keys_from > since:
        log.warning(
            "no demo history: this node's keys date from %s, after the history would begin (%s)",
            keys_from.isoformat(),
            since.isoformat(),
        )
        return None
    setup = dataclasses.replace(services, clock=FixedClock(since - SETUP_LEAD))
    setup.establish_trust()
    load_demo(setup)

    clock = FixedClock(since)
    minutes = (days - HISTORY_QUIET_DAYS) * 24 * 60
    every = minutes / max(1, transits)
    traffic = TransitTraffic(setup, clock, transits=transits, seed=seed, departures_every=(0.5 * every, 1.5 * every))
    # travellers apply in the first half: their journeys come one to four weeks after they apply
    lodging = days / 2 * 24 * 60 / max(1, travellers)
    travel = VisaTravel(setup, clock, travellers=travellers, seed=seed, arrivals_every=(0.5 * lodging, 1.5 * lodging))
    end = drive(clock, [*traffic.journeys, *travel.journeys], until=until)
    log.info("simulated %d days of demo traffic, %s to %s", days, since.isoformat(), end.isoformat())
    return DemoHistory(since=since, until=until, transits=traffic.summary(end), visas=travel.summary())


def _newest_key(services: Services) -> datetime | None:
    """When the newest active key of this node became valid (None before the trust is established)."""
    with services.uow() as uow:
        starts = [
            stored.entry.certificate.valid_from
            for state in services.offices_by_state()
            for stored in uow.keys.keys(state)
            if stored.entry.status is KeyStatus.ACTIVE
        ]
    return max(starts, default=None)

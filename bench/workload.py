"""The border checks the load benchmark replays: transits waiting at their first border, visa holders at a post.

`prepare` drives the real handlers on a fresh database (a customs officer releases each transit at its office
of departure; a consul issues each visa), exactly as `make run`'s demo does, and returns what officers and
guards will present: the vehicle's MRN, seals and border office, and the visa's seal with its holder's
passport. `copy_database` then copies that database row for row to another backend, so SQLite and
PostgreSQL serve the same data without preparing it twice.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Integer, create_engine, func, insert, select, text

from silkway import bootstrap
from silkway.demo import load_demo
from silkway.places.model import OfficeKind
from silkway.services import Services
from silkway.settings import Settings
from silkway.shared.actors import Actor, Role
from silkway.shared.money import Money
from silkway.simulation import CARRIER, RouteNetwork, draw_goods
from silkway.storage.engine import normalise_url
from silkway.storage.tables import metadata
from silkway.transit import handlers as transit
from silkway.transit.commands import RegisterGuarantee, ReleaseForTransit, SubmitDeclaration
from silkway.transit.model import Declaration, GuaranteeCommitment, Vehicle
from silkway.visas import handlers as visas
from silkway.visas.commands import DecideApplication, LodgeApplication, ReplyToConsultation
from silkway.visas.model import Applicant, Entries, Purpose, Sex, TravelPlan

GUARANTEE = "GRN-BENCH-LOAD"
PASSPHRASE = "bench-load-passphrase"  # the load database's own keys; it is deleted after the run
# travellers of nationalities that need a visa, to the states whose land posts they cross
NATIONALITIES = ("IND", "CHN", "PAK", "VNM", "IDN", "EGY")
NAMES = (("SHARMA", "PRIYA"), ("WANG", "WEI"), ("KHAN", "IMRAN"), ("NGUYEN", "MINH"), ("SANTOSO", "ADI"))


@dataclass(frozen=True)
class Presentation:
    """A vehicle presented by the customs officer `officer` at the border office `office`."""

    mrn: str
    office: str
    seals: tuple[str, ...]
    officer: str


@dataclass(frozen=True)
class Traveller:
    """A visa holder crossing, in turn, in and out at `posts` of one state, checked by the guard `guard`."""

    seal: str
    passport: str
    posts: tuple[str, str]
    guard: str


@dataclass(frozen=True)
class Workload:
    presentations: tuple[Presentation, ...]
    travellers: tuple[Traveller, ...]


def settings_for(database_url: str) -> Settings:
    """The settings of the server under load: development mode (demo accounts), no demo history."""
    return Settings.from_env(environment(database_url))


def environment(database_url: str) -> dict[str, str]:
    return {
        "SILKWAY_ENV": "development",
        "SILKWAY_DATABASE_URL": database_url,
        "SILKWAY_DEMO_HISTORY": "0",
        "SILKWAY_KEY_PASSPHRASE": PASSPHRASE,
        "SILKWAY_SECRET_KEY": "bench-load-secret-bench-load-secret",
    }


def prepare(database_url: str, *, transits: int, travellers: int, seed: int = 7) -> Workload:
    """Migrate a fresh database, make the keys and demo accounts, and prepare the transits and visas."""
    if transits < 1 or travellers < 1:
        raise ValueError("prepare at least one transit and one traveller")
    bootstrap.migrate(database_url)
    services = bootstrap.build(settings_for(database_url))
    try:
        services.establish_trust()
        load_demo(services)
        rng = random.Random(seed)
        _register_guarantee(services)
        presentations = tuple(_released_transits(services, rng, transits))
        holders = tuple(_issued_visas(services, rng, travellers))
    finally:
        services.close()
    return Workload(presentations=presentations, travellers=holders)


def _customs(country: str) -> Actor:
    return Actor(username=f"customs-{country.lower()}", role=Role.CUSTOMS, country=country)


def _register_guarantee(services: Services) -> None:
    transit.register_guarantee(
        RegisterGuarantee(
            actor=Actor(username="admin-kz", role=Role.ADMIN, country="KZ"),
            reference=GUARANTEE,
            holder=CARRIER.username,
            cover=Money.of("1000000000000.00", "USD"),
            valid_until=services.clock.now() + timedelta(days=365),
        ),
        uow=services.uow(),
        clock=services.clock,
        places=services.places,
    )


def _released_transits(services: Services, rng: random.Random, count: int) -> Iterator[Presentation]:
    network = RouteNetwork(services.reference)
    offices = services.reference.offices
    for serial in range(count):
        itinerary = network.draw(rng, by_rail=False)
        goods = draw_goods(rng, 20_000)
        at_risk = sum((g.value.amount for g in goods), Decimal(0)) * Decimal("0.30")
        declaration = Declaration(
            holder=CARRIER.username,
            vehicle=Vehicle(plate=f"{100 + serial % 900} BNC {serial // 900 % 100:02d}", country="KZ"),
            containers=(),
            itinerary=itinerary,
            goods=goods,
            guarantee=GuaranteeCommitment(
                reference=GUARANTEE,
                amount=Money(amount=max(Decimal(1000), at_risk.quantize(Decimal("0.01"))), currency="USD"),
            ),
        )
        mrn = transit.submit_declaration(
            SubmitDeclaration(actor=CARRIER, declaration=declaration),
            uow=services.uow(),
            clock=services.clock,
            places=services.places,
        )
        departure = offices[itinerary.departure].country
        seals = (f"{departure}{serial:07d}",)
        transit.release_for_transit(
            ReleaseForTransit(
                actor=_customs(departure), mrn=mrn, office=itinerary.departure, seals=seals, control=None
            ),
            uow=services.uow(),
            clock=services.clock,
            places=services.places,
        )
        border = itinerary.border_offices[0]
        yield Presentation(
            mrn=str(mrn), office=border, seals=seals, officer=f"customs-{offices[border].country.lower()}"
        )


def _issued_visas(services: Services, rng: random.Random, count: int) -> Iterator[Traveller]:
    scheme = services.scheme
    posts: dict[str, list[str]] = {}
    for office in services.reference.offices.values():
        if office.kind is OfficeKind.BORDER and office.country in scheme.states:
            posts.setdefault(office.country, []).append(office.code)
    states = sorted(
        state
        for state, codes in posts.items()
        if len(codes) >= 2 and any(scheme.states[state].needs_visa(n) for n in NATIONALITIES)
    )
    for serial in range(count):
        state = states[serial % len(states)]
        policy = scheme.states[state]
        needing = [n for n in NATIONALITIES if policy.needs_visa(n) and policy.is_eligible(n)]
        nationality = needing[serial % len(needing)]
        surname, given = NAMES[serial % len(NAMES)]
        today = scheme.states[state].local_day(services.clock.now())
        passport = f"B{serial:08d}"
        lodged = visas.lodge_application(
            LodgeApplication(
                applicant=Applicant(
                    surname=surname,
                    given_names=given,
                    native_name=None,
                    nationality=nationality,
                    date_of_birth=today.replace(year=today.year - 30 - serial % 30, day=1),
                    sex=Sex.FEMALE if serial % 2 else Sex.MALE,
                    passport_number=passport,
                    passport_expiry=today + timedelta(days=5 * 365),
                ),
                plan=TravelPlan(
                    states=(state,),
                    arrive=today + timedelta(days=1),
                    leave=today + timedelta(days=20),
                    main_destination=None,
                    purpose=Purpose.BUSINESS,
                    entries=Entries.MULTIPLE,
                ),
            ),
            uow=services.uow(),
            clock=services.clock,
            scheme=scheme,
            countries=services.countries,
        )
        consul = Actor(username=f"consul-{state.lower()}", role=Role.CONSULAR, country=state)
        for other in scheme.consulting_states(nationality, competent=state):
            visas.reply_to_consultation(
                ReplyToConsultation(
                    actor=Actor(username=f"consul-{other.lower()}", role=Role.CONSULAR, country=other),
                    application_id=lodged.id,
                    objection=False,
                ),
                uow=services.uow(),
                clock=services.clock,
                scheme=scheme,
            )
        number = visas.decide_application(
            DecideApplication(
                actor=consul,
                application_id=lodged.id,
                decision="issue",
                valid_from=today,
                valid_until=today + timedelta(days=60),
                duration_of_stay_days=30,
                entries=Entries.MULTIPLE,
            ),
            uow=services.uow(),
            clock=services.clock,
            scheme=scheme,
        )
        if number is None:  # an issue decision always gives a number
            raise RuntimeError(f"no visa number for application {lodged.id}")
        codes = posts[state]
        first = rng.randrange(len(codes))
        pair = (codes[first], codes[(first + 1 + rng.randrange(len(codes) - 1)) % len(codes)])
        yield Traveller(seal=services.visa_seal(number), passport=passport, posts=pair, guard=f"border-{state.lower()}")


def copy_database(source_url: str, target_url: str) -> None:
    """Copy every row of a migrated database into another, freshly migrated one (same schema, any backend)."""
    bootstrap.migrate(target_url)
    source = create_engine(normalise_url(source_url))
    target = create_engine(normalise_url(target_url))
    try:
        with source.connect() as read, target.begin() as write:
            for table in reversed(metadata.sorted_tables):  # whatever the migrations seeded goes first
                write.execute(table.delete())
            for table in metadata.sorted_tables:
                # generated columns are computed again by the target
                columns = [column for column in table.columns if column.computed is None]
                rows = [dict(row._mapping) for row in read.execute(select(*columns))]
                for start in range(0, len(rows), 5000):
                    write.execute(insert(table), rows[start : start + 5000])
            if target.dialect.name == "postgresql":
                # rows came with their ids: move each serial sequence past them
                for table in metadata.sorted_tables:
                    for column in table.primary_key.columns:
                        if isinstance(column.type, Integer) and column.autoincrement is True:
                            top = write.scalar(select(func.max(column)))
                            if top is not None:
                                write.execute(
                                    text("SELECT setval(pg_get_serial_sequence(:table, :column), :top)"),
                                    {"table": table.name, "column": column.name, "top": top},
                                )
    finally:
        source.dispose()
        target.dispose()

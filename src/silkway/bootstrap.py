"""The one place that wires Silkway: settings, reference data, storage, security — nothing imports it back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from alembic import command
from alembic.config import Config
from fastapi import FastAPI

from silkway.auth.passwords import Argon2Hasher
from silkway.auth.tokens import TokenIssuer
from silkway.documents.visa_seal import TrustedSealReader
from silkway.exchange.bus import Bus
from silkway.exchange.nats import JetStreamBus
from silkway.exchange.relay import ExchangeWorker
from silkway.places.model import OfficeKind
from silkway.places.reference import ReferenceData
from silkway.services import Services
from silkway.settings import Settings, SettingsError
from silkway.shared.clock import Clock, RunningClock, SystemClock
from silkway.signing.errors import KeyUnavailable
from silkway.signing.keys import Keyring, KeyVault, sealed_work_factor
from silkway.storage.audit import AuditTrailQueries
from silkway.storage.dashboard import Dashboard
from silkway.storage.engine import make_engine
from silkway.storage.exchange import SqlExchange
from silkway.storage.limits import SqlLimits
from silkway.storage.personal import PersonalData
from silkway.storage.queries import Queries
from silkway.storage.receiving import SqlReceiver
from silkway.storage.trust import SqlNotary
from silkway.storage.uow import SqlUnitOfWork, write_sessions
from silkway.storage.visa_queries import VisaQueries
from silkway.visas.scheme import Scheme

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
SEALING_WORK_FACTOR = 15
"""scrypt's work factor (log2 N) for private keys and personal data at rest, outside tests."""


class TransitPlaces:
    """The reference data, as the transit domain asks for it."""

    def __init__(self, reference: ReferenceData) -> None:
        self._reference = reference

    def office_country(self, code: str) -> str | None:
        office = self._reference.offices.get(code)
        return None if office is None else office.country

    def crossing_code(self, exit_office: str, entry_office: str) -> str | None:
        crossing = self._reference.crossing_between(exit_office, entry_office)
        return None if crossing is None else crossing.code

    def is_member(self, country: str) -> bool:
        return self._reference.is_member(country)

    def is_hs6(self, code: str) -> bool:
        return self._reference.is_hs6(code)

    def is_currency(self, code: str) -> bool:
        return self._reference.is_currency(code)


class VisaCountries:
    """Nationality codes (ISO 3166 via pycountry, and ICAO 9303's own) and the posts where travellers cross."""

    # ICAO 9303 Part 3 codes that are no ISO 3166 country: stateless, refugees, UN, UK nationality classes, Kosovo
    _ICAO_ONLY = frozenset({"XXA", "XXB", "XXC", "XXX", "UNO", "UNA", "UNK", "GBD", "GBN", "GBO", "GBP", "GBS", "RKS"})

    def __init__(self, reference: ReferenceData, scheme: Scheme) -> None:
        import pycountry

        self._nationalities = frozenset(str(c.alpha_3) for c in pycountry.countries) | self._ICAO_ONLY
        self._posts = {
            office.code: office.country
            for office in reference.offices.values()
            if office.kind in (OfficeKind.BORDER, OfficeKind.SEAPORT)
        } | {code: airport.state for code, airport in scheme.airports.items()}

    def is_nationality(self, code: str) -> bool:
        return code in self._nationalities

    def border_post_country(self, office: str) -> str | None:
        return self._posts.get(office)


def build(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    reference: ReferenceData | None = None,
    fast_hashing: bool = False,
) -> Services:
    """Wire a Silkway from settings (read from the environment when not given)."""
    settings = settings or Settings.from_env()
    settings.check()
    clock = clock or (SystemClock() if settings.clock_start is None else RunningClock(settings.clock_start))
    reference = reference or ReferenceData.load()
    places = TransitPlaces(reference)
    engine = make_engine(settings.database_url)
    # scrypt's full work factor guards keys at rest; tests use a light one so each test's node sets up fast
    work_factor = 10 if settings.env == "test" else SEALING_WORK_FACTOR
    keyring = Keyring(KeyVault(settings.key_passphrase, work_factor=work_factor))
    personal = PersonalData(settings.key_passphrase, work_factor=work_factor)
    scheme = Scheme.load(settings.visa_states_off)
    notary = SqlNotary(engine, keyring, settings.node_state)

    sessions = write_sessions(engine)

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions, places, keyring, personal, scheme.retention, settings.node_state)

    return Services(
        settings=settings,
        clock=clock,
        reference=reference,
        places=places,
        uow=uow,
        notary=notary,
        queries=Queries(engine, places),
        scheme=scheme,
        countries=VisaCountries(reference, scheme),
        visa_queries=VisaQueries(engine, personal, scheme.retention),
        audit_trail=AuditTrailQueries(engine, personal),
        dashboard=Dashboard(engine, reference),
        seal_reader=TrustedSealReader(lambda: notary.verified_trust_list(clock.now())),
        hasher=Argon2Hasher(fast=fast_hashing or settings.env == "test"),
        tokens=TokenIssuer(secret=settings.secret_key, minutes=settings.token_minutes, clock=clock),
        exchange=SqlExchange(engine, personal, settings.node_state),
        receiver=SqlReceiver(uow, node_state=settings.node_state, clock=clock, office_country=places.office_country),
        limits=SqlLimits(engine, secret=settings.secret_key),
        close=engine.dispose,
    )


def migrate(database_url: str) -> None:
    """Bring the database schema to the newest migration (`alembic upgrade head`)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = database_url
    command.upgrade(config, "head")


def check_keys_at_rest(services: Services) -> int:
    """In production, that every private key the database holds is sealed by the vault, under production's
    work factor, and opens with this node's SILKWAY_KEY_PASSPHRASE; returns how many keys were checked (none
    outside production, where tests and demos seal with a light work factor).

    Run it before serving and before making any key, so a wrong passphrase never seals new keys beside the old.
    On a key stored unencrypted, sealed too lightly or not opening, raises `SettingsError` naming the key by its
    (public) id, never its bytes."""
    if not services.settings.production:
        return 0
    rows = services.notary.sealed_private_keys()
    vault = services.notary.vault
    for key_id, sealed in rows:
        work_factor = sealed_work_factor(sealed)
        if work_factor is None:
            raise SettingsError(
                f"the private key {key_id} is stored unencrypted; SILKWAY_ENV=production serves only with every "
                "private key sealed under SILKWAY_KEY_PASSPHRASE"
            )
        if work_factor < SEALING_WORK_FACTOR:
            raise SettingsError(
                f"the private key {key_id} is sealed with scrypt N=2^{work_factor} (a test database?); "
                f"SILKWAY_ENV=production needs N=2^{SEALING_WORK_FACTOR} at least"
            )
        try:
            vault.open(sealed, key_id)  # scrypt runs once per salt: the keys of one ceremony share it
        except KeyUnavailable as exc:
            raise SettingsError(f"{exc}; SILKWAY_ENV=production does not start with keys it cannot open") from None
    return len(rows)


def create_web_app() -> FastAPI:
    """The ASGI app for uvicorn, wired from the environment (`uvicorn --factory`). A federated node also runs
    its exchange with its peers (outbox relay and inbox consumer) for as long as the app runs. In production it
    refuses to start with private keys it cannot vouch for (`check_keys_at_rest`), and in every mode the access
    log leaves out what query strings carry (`silkway.web.logs`)."""
    from silkway.web.app import create_app
    from silkway.web.logs import redact_access_log

    redact_access_log()
    services = build()
    try:
        check_keys_at_rest(services)
    except SettingsError:
        services.close()
        raise
    if not services.settings.federated:

        @asynccontextmanager
        async def closing(app: FastAPI) -> AsyncIterator[None]:
            _limit_threads(services.settings.worker_threads)
            try:
                yield
            finally:
                services.close()  # the database connections go back as the server stops

        return create_app(services, lifespan=closing)
    worker = exchange_worker(services)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.exchange_worker = worker
        _limit_threads(services.settings.worker_threads)
        await worker.start()
        try:
            yield
        finally:
            await worker.stop()
            services.close()

    return create_app(services, lifespan=lifespan)


def _limit_threads(threads: int) -> None:
    """How many requests this process's handlers work on at once; the others wait their turn in arrival order.

    Handlers are plain functions on worker threads (their database calls block). With as many threads as
    requests, every request holds the GIL and a database lock in turn, so each takes as long as all of them
    together; a few threads finish requests one after another (bench/README.md, border checks under load)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads


def exchange_worker(services: Services, bus: Bus | None = None) -> ExchangeWorker:
    """The relay and consumer of a federated node, on NATS JetStream unless another `bus` is given."""
    settings = services.settings
    if bus is None:
        if settings.nats_url is None:
            raise ValueError("the embedded node has no bus: set SILKWAY_NATS_URL to run a federated node")
        bus = JetStreamBus(settings.nats_url, prefix=settings.bus_prefix, replicas=settings.stream_replicas)
    return ExchangeWorker(
        bus=bus,
        outbox=services.exchange,
        receiver=services.receiver,
        state=settings.node_state,
        prefix=settings.bus_prefix,
        now=services.clock.now,
    )

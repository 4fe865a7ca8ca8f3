"""Settings, read once from the environment by `bootstrap` and passed down; never a module global."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

DEFAULT_SECRET = "silkway-development-secret-change-me"  # noqa: S105 - the known default production refuses
DEFAULT_KEY_PASSPHRASE = "silkway-development-keys-change-me"  # noqa: S105 - likewise


class SettingsError(Exception):
    """The environment asks for something unsafe or malformed."""


MIB = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Rate:
    """At most `count` events in `seconds`; written ``COUNT/SECONDS`` in the environment."""

    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    env: str = "development"
    database_url: str = "sqlite:///var/silkway.db"
    secret_key: str = DEFAULT_SECRET
    token_minutes: int = 60 * 8
    load_demo: bool = True
    demo_history: bool = True
    """Simulate a month of traffic on a fresh database (outside production), so the dashboards show
    something real; ``SILKWAY_DEMO_HISTORY=0`` starts a fresh node with the demo accounts only."""
    key_passphrase: str = DEFAULT_KEY_PASSPHRASE
    node_state: str = "KZ"
    visa_states_off: tuple[str, ...] = ()
    nats_url: str | None = None
    """Set, the node serves `node_state` alone and exchanges signed events with its peers over NATS
    JetStream; unset (the embedded default), one process serves every member state from one database."""
    bus_prefix: str = "silkway"
    """The first token of every subject and stream name, so several schemes (or test runs) share a cluster."""
    stream_replicas: int = 1
    """JetStream replicas of the node's inbound stream: 1 on one server, 3 on the production cluster."""
    worker_threads: int = 40
    """Requests a server process works on at once (the threads its handlers run on)."""
    clock_start: datetime | None = None
    """Test mode only: the node's clock starts at this instant and runs on from there."""

    # --- limits (silkway.web.limits): what one client may send, and how often -------------------------
    max_body_bytes: int = 4 * MIB
    """The largest request body, refused with 413 beyond it (``SILKWAY_MAX_BODY_BYTES``). The largest legitimate
    one is a declaration of 999 goods items with 512-character descriptions in Cyrillic, JSON-escaped: 3.2 MB."""
    max_upload_bytes: int = 24 * MIB
    """The largest body of the few routes that take a photo or a PDF (``SILKWAY_MAX_UPLOAD_BYTES``): the border
    page reads phone photos of up to 20 MB itself, plus the form around them."""
    sign_in_per_address: Rate = Rate(count=30, seconds=3600)
    """Unsuccessful sign-ins from one client address before it must wait (``SILKWAY_SIGN_IN_PER_ADDRESS=30/3600``):
    guessing across many usernames from one place; successful sign-ins never count, so the officers of a post
    behind one address all sign in at the change of shift."""
    sign_in_per_username: Rate = Rate(count=10, seconds=3600)
    """Unsuccessful sign-ins with one username, from anywhere (``SILKWAY_SIGN_IN_PER_USERNAME=10/3600``): the
    lock-out stops a burst; this caps the pace a patient guesser keeps up across lock-outs."""
    visa_applications_per_address: Rate = Rate(count=20, seconds=3600)
    """Visa applications lodged from one client address (``SILKWAY_VISA_APPLICATIONS_PER_ADDRESS=20/3600``): a
    family or a travel agency's group; not a script filling the consuls' queues."""
    lock_out_after: int = 5
    """Failed sign-ins in a row that lock a username (``SILKWAY_LOCK_OUT_AFTER``)."""
    lock_out_minutes: int = 15
    """How long the lock-out lasts, from the last failure; a failure older than this is forgotten
    (``SILKWAY_LOCK_OUT_MINUTES``)."""

    @property
    def federated(self) -> bool:
        return self.nats_url is not None

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read `SILKWAY_*` variables. Raises `SettingsError` when production runs with a default secret."""
        env = os.environ if environ is None else environ
        mode = env.get("SILKWAY_ENV", "development")
        if mode not in ("development", "production", "test"):
            raise SettingsError(f"SILKWAY_ENV must be development, production or test, not {mode!r}")
        default = cls()
        settings = cls(
            env=mode,
            database_url=env.get("SILKWAY_DATABASE_URL", f"sqlite:///{Path('var/silkway.db').resolve()}"),
            secret_key=env.get("SILKWAY_SECRET_KEY", DEFAULT_SECRET),
            token_minutes=_int(env, "SILKWAY_TOKEN_MINUTES", 60 * 8),
            load_demo=mode != "production",
            demo_history=mode != "production" and env.get("SILKWAY_DEMO_HISTORY", "1").strip().lower() not in _NO,
            key_passphrase=env.get("SILKWAY_KEY_PASSPHRASE", DEFAULT_KEY_PASSPHRASE),
            node_state=env.get("SILKWAY_NODE_STATE", "KZ").upper(),
            visa_states_off=tuple(
                code.strip().upper() for code in env.get("SILKWAY_VISA_STATES_OFF", "").split(",") if code.strip()
            ),
            nats_url=env.get("SILKWAY_NATS_URL") or None,
            bus_prefix=env.get("SILKWAY_BUS_PREFIX", "silkway"),
            stream_replicas=_int(env, "SILKWAY_STREAM_REPLICAS", 1),
            worker_threads=_int(env, "SILKWAY_WORKER_THREADS", 40),
            clock_start=_instant(env, "SILKWAY_CLOCK_START"),
            max_body_bytes=_int(env, "SILKWAY_MAX_BODY_BYTES", default.max_body_bytes),
            max_upload_bytes=_int(env, "SILKWAY_MAX_UPLOAD_BYTES", default.max_upload_bytes),
            sign_in_per_address=_rate(env, "SILKWAY_SIGN_IN_PER_ADDRESS", default.sign_in_per_address),
            sign_in_per_username=_rate(env, "SILKWAY_SIGN_IN_PER_USERNAME", default.sign_in_per_username),
            visa_applications_per_address=_rate(
                env, "SILKWAY_VISA_APPLICATIONS_PER_ADDRESS", default.visa_applications_per_address
            ),
            lock_out_after=_int(env, "SILKWAY_LOCK_OUT_AFTER", default.lock_out_after),
            lock_out_minutes=_int(env, "SILKWAY_LOCK_OUT_MINUTES", default.lock_out_minutes),
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.production and (self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32):
            raise SettingsError(
                "SILKWAY_ENV=production needs SILKWAY_SECRET_KEY set to a random secret of at least 32 characters"
            )
        if self.production and (self.key_passphrase == DEFAULT_KEY_PASSPHRASE or len(self.key_passphrase) < 16):
            raise SettingsError(
                "SILKWAY_ENV=production needs SILKWAY_KEY_PASSPHRASE (at least 16 characters) to seal its private keys"
            )
        if self.production and self.key_passphrase == self.secret_key:
            raise SettingsError(
                "SILKWAY_ENV=production needs SILKWAY_KEY_PASSPHRASE and SILKWAY_SECRET_KEY to differ: one leaked "
                "secret must not both forge sign-ins and unseal the keys"
            )
        if len(self.node_state) != 2 or not self.node_state.isalpha():
            raise SettingsError(f"SILKWAY_NODE_STATE must be a two-letter country code, not {self.node_state!r}")
        if self.nats_url is not None and not self.nats_url.startswith(("nats://", "tls://")):
            # the scheme only: the rest of the address may hold the bus's credentials
            shown = self.nats_url.partition("://")[0] if "://" in self.nats_url else "an address without a scheme"
            raise SettingsError(f"SILKWAY_NATS_URL must be a nats:// or tls:// address, not {shown}")
        # the exchange carries visa records (names, passport numbers, dates of birth) and each state's stream is
        # kept from the others only by the NATS account its node signs in with
        servers = self.nats_url.split(",") if self.production and self.nats_url is not None else []
        for scheme, _, rest in (server.strip().partition("://") for server in servers):
            if scheme != "tls" or "@" not in rest.split("/", 1)[0]:
                raise SettingsError(
                    "SILKWAY_ENV=production exchanges over NATS only with TLS and credentials: every server of "
                    "SILKWAY_NATS_URL must be tls://user:password@host:port (or tls://token@host:port)"
                )
        if not self.bus_prefix.isidentifier():
            raise SettingsError(f"SILKWAY_BUS_PREFIX must be letters, digits and underscores, not {self.bus_prefix!r}")
        if not 1 <= self.worker_threads <= 200:
            raise SettingsError("SILKWAY_WORKER_THREADS must be between 1 and 200")
        if self.stream_replicas not in (1, 3, 5):
            raise SettingsError("SILKWAY_STREAM_REPLICAS must be 1, 3 or 5")
        if self.clock_start is not None and self.env != "test":
            raise SettingsError("SILKWAY_CLOCK_START is for tests only (SILKWAY_ENV=test)")
        self._check_limits()

    def _check_limits(self) -> None:
        if not 64 * 1024 <= self.max_body_bytes <= self.max_upload_bytes <= 256 * MIB:
            raise SettingsError(
                "SILKWAY_MAX_BODY_BYTES must be at least 65536 and at most SILKWAY_MAX_UPLOAD_BYTES (at most 256 MiB)"
            )
        for name, rate in (
            ("SILKWAY_SIGN_IN_PER_ADDRESS", self.sign_in_per_address),
            ("SILKWAY_SIGN_IN_PER_USERNAME", self.sign_in_per_username),
            ("SILKWAY_VISA_APPLICATIONS_PER_ADDRESS", self.visa_applications_per_address),
        ):
            if not (1 <= rate.count <= 1_000_000 and 1 <= rate.seconds <= 7 * 24 * 3600):
                raise SettingsError(f"{name} must be COUNT/SECONDS, at least 1 in at most a week, not {rate}")
        if not 1 <= self.lock_out_after <= 100:
            raise SettingsError("SILKWAY_LOCK_OUT_AFTER must be between 1 and 100 failed sign-ins")
        if not 1 <= self.lock_out_minutes <= 24 * 60:
            raise SettingsError("SILKWAY_LOCK_OUT_MINUTES must be between 1 and 1440")


_NO = frozenset({"0", "false", "no", "off"})


def _instant(env: Mapping[str, str], name: str) -> datetime | None:
    text = env.get(name)
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise SettingsError(f"{name} must be an ISO 8601 instant with its offset") from None
    if value.tzinfo is None:
        raise SettingsError(f"{name} must be an ISO 8601 instant with its offset")
    return value


def _rate(env: Mapping[str, str], name: str, default: Rate) -> Rate:
    text = env.get(name)
    if text is None:
        return default
    count, slash, seconds = text.strip().partition("/")
    try:
        if not slash:
            raise ValueError(text)
        return Rate(count=int(count), seconds=int(seconds))
    except ValueError:
        raise SettingsError(f"{name} must be COUNT/SECONDS, for example 30/3600") from None


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(env.get(name, default))
    except ValueError:
        raise SettingsError(f"{name} must be a whole number") from None

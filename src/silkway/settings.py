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
        if len(self.node_state) != 2 or not self.node_state.isalpha():
            raise SettingsError(f"SILKWAY_NODE_STATE must be a two-letter country code, not {self.node_state!r}")
        if self.nats_url is not None and not self.nats_url.startswith(("nats://", "tls://")):
            raise SettingsError(f"SILKWAY_NATS_URL must be a nats:// or tls:// address, not {self.nats_url!r}")
        if not self.bus_prefix.isidentifier():
            raise SettingsError(f"SILKWAY_BUS_PREFIX must be letters, digits and underscores, not {self.bus_prefix!r}")
        if not 1 <= self.worker_threads <= 200:
            raise SettingsError("SILKWAY_WORKER_THREADS must be between 1 and 200")
        if self.stream_replicas not in (1, 3, 5):
            raise SettingsError("SILKWAY_STREAM_REPLICAS must be 1, 3 or 5")
        if self.clock_start is not None and self.env != "test":
            raise SettingsError("SILKWAY_CLOCK_START is for tests only (SILKWAY_ENV=test)")


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


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(env.get(name, default))
    except ValueError:
        raise SettingsError(f"{name} must be a whole number") from None

"""Settings, read once from the environment by `bootstrap` and passed down; never a module global."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
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


_NO = frozenset({"0", "false", "no", "off"})


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(env.get(name, default))
    except ValueError:
        raise SettingsError(f"{name} must be a whole number") from None

"""What every command shares: the consoles, the exit codes, and reading the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console

from silkway.settings import Settings, SettingsError

if TYPE_CHECKING:
    from silkway.services import Services

# soft wrap: messages and verdicts stay whole lines however narrow the terminal, so scripts can grep them
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

EXIT_FAILED = 1  # the check ran and found the input not genuine
EXIT_INPUT = 2
EXIT_UNAVAILABLE = 3


def settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_INPUT) from None


def fail(message: str, code: int = EXIT_INPUT) -> typer.Exit:
    err.print(f"[red]error:[/] {message}")
    return typer.Exit(code)


def keys_sealed(services: Services) -> None:
    """Stop, with a plain message and exit code 2, a production node whose stored keys are not all sealed and
    openable (`bootstrap.check_keys_at_rest`): run before any command makes a key, so none is ever sealed
    under a wrong passphrase beside the others."""
    from silkway import bootstrap

    try:
        bootstrap.check_keys_at_rest(services)
    except SettingsError as exc:
        services.close()
        raise fail(str(exc)) from None

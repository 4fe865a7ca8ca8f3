"""`silkway`: serve, migrate, load demo data, simulate traffic. Domain errors become a message and exit 2."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from silkway.cli.common import EXIT_INPUT, EXIT_UNAVAILABLE, err, keys_sealed, out
from silkway.cli.common import settings as _settings
from silkway.cli.node import node
from silkway.cli.trust import audit_log, trust, verify_document
from silkway.cli.visas import purge, visa
from silkway.shared.errors import DomainError, ServiceUnavailable, StorageFull
from silkway.web.logs import LogLevel, log_config

app = typer.Typer(
    help="Silkway: cargo transit declared once, inspected once; one visa for the Commonwealth.", no_args_is_help=True
)
db = typer.Typer(help="The database.", no_args_is_help=True)
demo = typer.Typer(help="Demo data for the embedded pilot.", no_args_is_help=True)
app.add_typer(db, name="db")
app.add_typer(demo, name="demo")
app.add_typer(trust, name="trust")
app.add_typer(visa, name="visa")
app.command("purge")(purge)
app.command("verify")(verify_document)
app.command("audit")(audit_log)
app.command("node")(node)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT", help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=16)] = 1,
    log_level: Annotated[
        LogLevel, typer.Option("--log-level", help="How much the server logs (never a request's secrets).")
    ] = "info",
) -> None:
    """Serve the web app and the API (migrating and loading demo data first, outside production; a new
    database also gets a month of simulated traffic, so the dashboards show something real). In production it
    refuses to start with a private key stored unencrypted or not opening with SILKWAY_KEY_PASSPHRASE."""
    import uvicorn

    from silkway import bootstrap
    from silkway.demo import load_demo, load_history

    settings = _settings()
    _ensure_dir(settings.database_url)
    bootstrap.migrate(settings.database_url)
    services = bootstrap.build(settings)
    try:
        keys_sealed(services)  # before any key is made: none sealed under a wrong passphrase
        if settings.load_demo and settings.demo_history:
            with out.status("first start: simulating a month of demo traffic…"):
                history = load_history(services)
            if history is not None:
                out.print(
                    f"demo history: {history.transits.submitted} transits and {history.visas.lodged} visa "
                    f"applications since {history.since:%Y-%m-%d %H:%M} UTC"
                )
        services.establish_trust()
        if settings.load_demo:
            load_demo(services)
    finally:
        services.close()
    out.print(f"Silkway on [bold]http://{host}:{port}[/] — API docs at http://{host}:{port}/docs")
    uvicorn.run(
        "silkway.bootstrap:create_web_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        log_config=log_config(log_level),
    )


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to the database named by SILKWAY_DATABASE_URL."""
    from silkway import bootstrap

    settings = _settings()
    _ensure_dir(settings.database_url)
    bootstrap.migrate(settings.database_url)
    out.print("database is at the newest migration")


@demo.command("load")
def demo_load() -> None:
    """Create the demo accounts (password 'demo'), guarantees and risk rules that are missing."""
    from silkway import bootstrap
    from silkway.demo import load_demo

    settings = _settings()
    if settings.production:
        err.print("[red]error:[/] demo data is never loaded with SILKWAY_ENV=production")
        raise typer.Exit(EXIT_INPUT)
    services = bootstrap.build(settings)
    try:
        added = load_demo(services)
    finally:
        services.close()
    out.print(f"demo data loaded ({added} records added)")


@app.command()
def simulate(
    transits: Annotated[int, typer.Option("--transits", min=0, max=100_000, help="How many transits to drive.")] = 100,
    visas: Annotated[
        int, typer.Option("--visas", min=0, max=100_000, help="How many visa travellers to drive as well.")
    ] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed for a reproducible run.")] = 1,
) -> None:
    """Drive realistic transits (and, with --visas, visa travellers) through the service layer from now on,
    together on one clock, and summarise them."""
    from rich.progress import Progress

    from silkway import bootstrap
    from silkway.demo import load_demo
    from silkway.shared.clock import FixedClock
    from silkway.simulation import TransitTraffic, drive
    from silkway.visa_simulation import VisaTravel

    if transits == 0 and visas == 0:
        err.print("[red]error:[/] nothing to simulate: give --transits or --visas above 0")
        raise typer.Exit(EXIT_INPUT)
    settings = _settings()
    services = bootstrap.build(settings)
    try:
        services.establish_trust()
        load_demo(services)
        clock = FixedClock(services.clock.now())
        traffic = TransitTraffic(services, clock, transits=transits, seed=seed) if transits else None
        travel = VisaTravel(services, clock, travellers=visas, seed=seed) if visas else None
        journeys = [*(traffic.journeys if traffic else []), *(travel.journeys if travel else [])]
        with Progress(console=out) as progress:
            task = progress.add_task("transits and travellers", total=len(journeys))
            end = drive(clock, journeys, on_done=lambda: progress.advance(task))
    finally:
        services.close()
    if traffic is not None:
        out.print(traffic.summary(end).table())
    if travel is not None:
        out.print(travel.summary().table())


def _ensure_dir(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)


def main() -> None:
    try:
        app()
    except DomainError as exc:
        err.print(f"[red]error:[/] {exc.detail}")
        for field, message in exc.fields.items():
            err.print(f"  {field}: {message}")
        sys.exit(EXIT_INPUT)
    except StorageFull as exc:
        err.print(f"[red]error:[/] {exc}")
        err.print("  free space on the disk that holds the node's database, then run the command again")
        sys.exit(EXIT_UNAVAILABLE)
    except ServiceUnavailable as exc:
        err.print(f"[red]error:[/] {exc}")
        sys.exit(EXIT_UNAVAILABLE)

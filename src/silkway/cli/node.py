"""`silkway node`: one member state's national node — its own database and keys, its officers' API and pages,
and signed events exchanged with the peer states over NATS JetStream."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from silkway.cli.common import EXIT_INPUT, EXIT_UNAVAILABLE, err, keys_sealed, out
from silkway.settings import Settings, SettingsError
from silkway.shared.errors import DomainError

PeerOption = Annotated[
    list[str] | None,
    typer.Option(
        "--peer",
        help="A peer state and its root key id, as read out at the key ceremony: UZ=<32 hex digits>. Repeatable.",
    ),
]


def node(
    country: Annotated[str, typer.Option("--country", help="The member state this node serves, e.g. KZ.")],
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", envvar="SILKWAY_DATABASE_URL", help="This node's own database."),
    ] = None,
    nats_url: Annotated[str, typer.Option("--nats", envvar="SILKWAY_NATS_URL", help="The NATS server or cluster.")] = (
        "nats://127.0.0.1:4222"
    ),
    peers: PeerOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT", help="Port to listen on.")] = 8000,
    init_only: Annotated[
        bool, typer.Option("--init-only", help="Migrate, make the keys, pin the peers, print the root; do not serve.")
    ] = False,
) -> None:
    """Run one national node. On its first start it makes its state's keys (root, offices, node key); its
    peers pin that root (printed here) at the key ceremony, and it pins theirs with --peer."""
    import uvicorn

    from silkway import bootstrap
    from silkway.demo import load_demo
    from silkway.exchange.nats import redact
    from silkway.places.reference import ReferenceData
    from silkway.visas.scheme import Scheme

    state = country.strip().upper()
    known = set(ReferenceData.load().member_states) | set(Scheme.load(()).states)
    if state not in known:
        err.print(f"[red]error:[/] {country!r} is not a member state of either scheme ({', '.join(sorted(known))})")
        raise typer.Exit(EXIT_INPUT)
    pins = {}
    for peer in peers or []:
        name, _, key_id = peer.partition("=")
        if not key_id or name.strip().upper() not in known:
            err.print(f"[red]error:[/] --peer takes STATE=ROOT_KEY_ID with a member state, not {peer!r}")
            raise typer.Exit(EXIT_INPUT)
        pins[name.strip().upper()] = key_id.strip()
    node_env = {
        "SILKWAY_NODE_STATE": state,
        "SILKWAY_NATS_URL": nats_url,
        "SILKWAY_DEMO_HISTORY": "0",  # a national node's history is its own traffic, never simulated
        **({"SILKWAY_DATABASE_URL": database_url} if database_url else {}),
    }
    try:
        settings = Settings.from_env({**os.environ, **node_env})
    except SettingsError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_INPUT) from None
    try:
        bootstrap.migrate(settings.database_url)
    except Exception as exc:  # a wrong URL or a database that is down: say which, do not trace back
        err.print(f"[red]error:[/] cannot migrate {redact(settings.database_url)}: {type(exc).__name__}")
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    services = bootstrap.build(settings)
    keys_sealed(services)  # before any key is made
    try:
        services.establish_trust()
        if settings.load_demo:
            load_demo(services)
        for peer, key_id in sorted(pins.items()):
            services.pin_peer(peer, key_id)
        root = services.own_root()
    except DomainError as exc:
        err.print(f"[red]error:[/] {exc.detail}")
        raise typer.Exit(EXIT_INPUT) from None
    finally:
        services.close()
    out.print(f"root {state} {root}")
    if init_only:
        return
    out.print(f"Silkway node {state} on [bold]http://{host}:{port}[/], exchanging over {redact(nats_url)}")
    os.environ.update(node_env)  # the app factory below reads its settings from the environment
    uvicorn.run("silkway.bootstrap:create_web_app", factory=True, host=host, port=port, log_level="info")

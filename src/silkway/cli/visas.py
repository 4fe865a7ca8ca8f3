"""`silkway visa …` and `silkway purge`: the visa revocation list for offline checks, and retention."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from silkway.cli.common import fail, out, settings

visa = typer.Typer(help="The Commonwealth Visa on this node.", no_args_is_help=True)


@visa.command("revocations")
def export_revocations(
    file: Annotated[Path, typer.Argument(help="Where to write the signed list of revoked and annulled visas.")],
) -> None:
    """Write the signed revocation list, for `silkway verify --revocations` at an offline border post."""
    from silkway import bootstrap

    services = bootstrap.build(settings())
    try:
        revocations = services.revocation_list()
    finally:
        services.close()
    try:
        file.write_text(json.dumps(revocations.to_json(), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {file}: {exc.strerror}") from None
    out.print(f"{len(revocations.revoked)} revoked visas written to {file}")


def purge() -> None:
    """Erase the personal data of visa files and alerts past their retention period (see the scheme)."""
    from silkway import bootstrap

    services = bootstrap.build(settings())
    try:
        files, alerts = services.purge()
        retention = services.scheme.retention
    finally:
        services.close()
    out.print(f"purged {files} visa files and {alerts} alerts past their retention")
    out.print(
        f"retention: refused applications {retention.application_refused} days after the decision, visas "
        f"{retention.visa} days after they expire, crossings {retention.crossing} days, alerts {retention.alert} days",
        highlight=False,
    )

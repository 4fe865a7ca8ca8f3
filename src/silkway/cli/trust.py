"""`silkway trust …`, `silkway verify` and `silkway audit`: keys, offline checks and log audits."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from silkway.cli.common import EXIT_FAILED, EXIT_UNAVAILABLE, fail, keys_sealed, out, settings
from silkway.shared.errors import DomainError
from silkway.signing.errors import MalformedRecord, VerificationError

trust = typer.Typer(help="Keys and the trust list of this node.", no_args_is_help=True)

TrustListOption = Annotated[
    Path, typer.Option("--trust-list", "-t", help="A trust list exported with `silkway trust export`.")
]
RootsOption = Annotated[
    Path | None,
    typer.Option("--roots", help="Pinned root key ids (`silkway trust roots`); without it the list's own roots count."),
]


@trust.command("init")
def trust_init() -> None:
    """Create the missing keys: a root per member state, a key per office, this node's key (idempotent)."""
    from silkway import bootstrap

    services = bootstrap.build(settings())
    keys_sealed(services)
    try:
        created = services.establish_trust()
    finally:
        services.close()
    out.print(f"trust list ready ({created} keys created)")


@trust.command("root")
def trust_root() -> None:
    """Print this node's state root key id: what the peer states pin at the key ceremony."""
    from silkway import bootstrap

    services = bootstrap.build(settings())
    try:
        out.print(services.own_root())
    finally:
        services.close()


@trust.command("pin")
def trust_pin(
    state: Annotated[str, typer.Argument(help="The peer state, e.g. UZ.")],
    root_key_id: Annotated[str, typer.Argument(help="Its root key id, as read out at the key ceremony.")],
) -> None:
    """Trust a peer state's trust list section by its root, and start exchanging with it."""
    from silkway import bootstrap

    services = bootstrap.build(settings())
    try:
        changed = services.pin_peer(state, root_key_id)
    except DomainError as exc:
        raise fail(exc.detail) from None
    finally:
        services.close()
    out.print(f"{state.upper()} pinned" if changed else f"{state.upper()} was already pinned to this root")


@trust.command("unpin")
def trust_unpin(state: Annotated[str, typer.Argument(help="The state leaving the scheme.")]) -> None:
    """Stop exchanging with a state that leaves the scheme; what it signed before stays verifiable."""
    from silkway import bootstrap

    services = bootstrap.build(settings())
    try:
        withdrawn = services.unpin_peer(state)
    except DomainError as exc:
        raise fail(exc.detail) from None
    finally:
        services.close()
    out.print(f"{state.upper()} unpinned; {withdrawn} undelivered events to it withdrawn")


@trust.command("export")
def trust_export(file: Annotated[Path, typer.Argument(help="Where to write the signed trust list.")]) -> None:
    """Write the signed trust list for offline devices."""
    from silkway import bootstrap

    services = bootstrap.build(settings())
    try:
        document = services.notary.trust_list(services.clock.now())
    finally:
        services.close()
    _write(file, document)
    out.print(f"trust list written to {file} ({len(document)} bytes)")


@trust.command("roots")
def trust_roots(
    file: Annotated[Path, typer.Argument(help="Where to write the root key ids to pin.")],
    trust_list: TrustListOption,
) -> None:
    """Write the member states' root key ids from a trust list, to pin on verifying devices; compare them
    with the ids read out at the key ceremony."""
    loaded = _load_trust(trust_list, None)
    _write(file, json.dumps(loaded.roots, indent=1, sort_keys=True).encode())
    for state, key_id in sorted(loaded.roots.items()):
        out.print(f"{state}  {key_id}")


@trust.command("list")
def trust_list_keys(
    as_json: Annotated[bool, typer.Option("--json", help="Print the keys as JSON.")] = False,
) -> None:
    """Show every key of this node's trust list and its status."""
    from silkway import bootstrap
    from silkway.signing.trustlist import load_trust_list

    services = bootstrap.build(settings())
    try:
        loaded = load_trust_list(services.notary.trust_list(services.clock.now()))
    finally:
        services.close()
    if as_json:
        out.print_json(
            data=[
                {"state": state, **entry.to_json()}
                for state, section in sorted(loaded.sections.items())
                for entry in section.keys
            ]
        )
        return
    table = Table("state", "usage", "office", "status", "valid until")
    table.add_column("key id", no_wrap=True, min_width=32)
    for state, section in sorted(loaded.sections.items()):
        table.add_row(state, "root", "", "active", f"{section.root.valid_until:%Y-%m-%d}", section.root.key_id)
        for entry in section.keys:
            cert = entry.certificate
            status = entry.status.value
            if entry.compromised_at is not None:
                status += f" (compromised {entry.compromised_at:%Y-%m-%d %H:%M}Z)"
            elif entry.rotated_at is not None:
                status += f" ({entry.rotated_at:%Y-%m-%d %H:%M}Z)"
            table.add_row(
                state, cert.usage.value, cert.office or "", status, f"{cert.valid_until:%Y-%m-%d}", cert.key_id
            )
    out.print(table)


@trust.command("rotate")
def trust_rotate(office: Annotated[str, typer.Argument(help="The office whose key to replace.")]) -> None:
    """Give an office a new key; what the old key signed until now stays valid."""
    from silkway import bootstrap

    services = bootstrap.build(settings())
    keys_sealed(services)
    try:
        entry = services.rotate_key(office)
    finally:
        services.close()
    out.print(f"{office} now signs with key {entry.key_id}")


@trust.command("revoke")
def trust_revoke(
    key_id: Annotated[str, typer.Argument(help="The compromised key.")],
    compromised_at: Annotated[
        str, typer.Option("--compromised-at", help="When the key was compromised (ISO 8601 with offset).")
    ],
) -> None:
    """Revoke a compromised key: what it signed from the time of compromise on is invalid everywhere."""
    from silkway import bootstrap

    when = _instant(compromised_at)
    services = bootstrap.build(settings())
    keys_sealed(services)
    try:
        replacement = services.revoke_key(key_id, when)
    finally:
        services.close()
    out.print(f"key {key_id} revoked from {when.isoformat()}")
    if replacement is not None:
        out.print(f"{replacement.certificate.office} now signs with key {replacement.key_id}")


def verify_document(
    file: Annotated[
        Path,
        typer.Argument(help="A transit document or an e-visa: its PDF, a photo or PNG of its QR code, or the payload."),
    ],
    trust_list: TrustListOption,
    roots: RootsOption = None,
    revocations: Annotated[
        Path | None,
        typer.Option(
            "--revocations", help="A visa revocation list (`silkway visa revocations`), to refuse revoked visas."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
) -> None:
    """Check a document's or a visa's seal offline against a trust list: exit 0 if genuine, 1 if not, 2 on bad
    input."""
    from silkway.documents.reading import UnreadableDocument, read_payloads
    from silkway.signing.vds import PREFIX as VISA_PREFIX

    loaded = _load_trust(trust_list, roots)
    try:
        payloads = read_payloads(_read(file))
    except UnreadableDocument as exc:
        raise fail(f"{file}: {exc}") from None
    if payloads[0].startswith(VISA_PREFIX):
        genuine = _verify_visa(payloads[0], loaded, _load_revocations(revocations, loaded), as_json=as_json)
    else:
        genuine = _verify_transit(payloads[0], loaded, as_json=as_json)
    if not as_json and not loaded.pinned:
        out.print("note: roots not pinned (--roots); the trust list was taken as given", style="yellow")
    if not genuine:
        raise typer.Exit(EXIT_FAILED)


def _verify_transit(payload: str, loaded: Any, *, as_json: bool) -> bool:
    from silkway.documents.transit import check_seal, verdict_lines
    from silkway.places.reference import ReferenceData

    verdict = check_seal(payload, loaded)
    if as_json:
        out.print_json(data=verdict.to_json())
        return verdict.genuine
    offices = ReferenceData.load().offices

    def name(code: str) -> str:
        office = offices.get(code)
        return "unknown office" if office is None else office.name

    _print_verdict(verdict_lines(verdict, name), genuine=verdict.genuine)
    return verdict.genuine


def _verify_visa(payload: str, loaded: Any, revocations: Any, *, as_json: bool) -> bool:
    from silkway.documents.visa_seal import check_visa_seal

    verdict = check_visa_seal(payload, loaded, revocations=revocations)
    if as_json:
        out.print_json(data=verdict.to_json())
        return verdict.genuine
    data = verdict.to_json()
    lines = ["GENUINE" if verdict.genuine else "NOT GENUINE", *(f"- {p['message']}" for p in data["problems"])]
    visa = data["visa"]
    if visa is not None:
        entries = visa["entries"]
        lines += [
            f"Visa {visa['number']} issued by {visa['issuing_state']} on {visa['issued_on']}, key {visa['key_id']}",
            f"Passport {visa['passport_number']}; {entries} entr{'ies' if entries != 1 else 'y'}; "
            f"{visa['duration_of_stay_days']} days of stay",
            *visa["mrz"],
        ]
    lines += [f"note: {note}" for note in verdict.notes]
    _print_verdict(lines, genuine=verdict.genuine)
    return verdict.genuine


def _print_verdict(lines: Any, *, genuine: bool) -> None:
    style = "bold green" if genuine else "bold red"
    out.print(f"[{style}]{lines[0]}[/]")
    for line in lines[1:]:
        out.print(line, highlight=False)


def _load_revocations(path: Path | None, loaded: Any) -> Any:
    from silkway.signing.revocations import RevocationList, verify_revocation_list

    if path is None:
        return None
    try:
        revocations = RevocationList.from_json(json.loads(_read(path)))
    except (ValueError, MalformedRecord) as exc:
        raise fail(f"{path}: not a visa revocation list: {exc}") from None
    problems = verify_revocation_list(revocations, loaded)
    if problems:
        raise fail(f"{path} is not a trustworthy revocation list: {problems[0].message}", EXIT_FAILED)
    return revocations


def audit_log(
    server: Annotated[str, typer.Argument(help="The node's base URL, e.g. http://127.0.0.1:8000")],
    trust_list: TrustListOption,
    state: Annotated[Path, typer.Option("--state", help="Where the auditor keeps the tree heads it has seen.")] = Path(
        "silkway-audit.json"
    ),
    roots: RootsOption = None,
    entries: Annotated[bool, typer.Option("--entries", help="Also rebuild the tree from every entry.")] = False,
) -> None:
    """Audit a node's transparency log: its new tree head must extend every head seen before."""
    from silkway.signing.audit import AuditState, audit

    loaded = _load_trust(trust_list, roots)
    try:
        seen = AuditState.load(state)
    except MalformedRecord as exc:
        raise fail(str(exc)) from None
    base = server.rstrip("/")

    def fetch(path: str) -> Any:
        try:
            with urllib.request.urlopen(base + path, timeout=30) as response:  # noqa: S310 - the operator's URL
                return json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise fail(f"cannot read {base + path}: {exc}", EXIT_UNAVAILABLE) from None

    if not base.startswith(("http://", "https://")):
        raise fail("the server must be an http:// or https:// URL")
    report = audit(fetch, loaded, seen, entries=entries)
    if report.ok and report.head is not None:
        seen.save(state)
        out.print(
            f"[bold green]consistent[/]: {report.head.tree_size} entries, root {report.head.root_hash.hex()}, "
            f"checked against {report.checked_heads} earlier heads"
            + (f", {report.checked_entries} entries rebuilt" if entries else "")
        )
        return
    out.print("[bold red]LOG NOT TRUSTWORTHY[/]")
    for problem in report.problems:
        out.print(f"- {problem.code}: {problem.message}", highlight=False)
    raise typer.Exit(EXIT_FAILED)


def _load_trust(path: Path, roots: Path | None) -> Any:
    from silkway.signing.trustlist import load_trust_list

    pinned = None
    if roots is not None:
        try:
            pinned = {str(k): str(v) for k, v in json.loads(_read(roots)).items()}
        except (ValueError, AttributeError) as exc:
            raise fail(f"{roots} is not a file of pinned roots: {exc}") from None
    try:
        return load_trust_list(_read(path), pinned_roots=pinned)
    except MalformedRecord as exc:
        raise fail(f"{path}: {exc}") from None
    except VerificationError as exc:
        raise fail(f"{path} is not a trustworthy trust list: {exc}", EXIT_FAILED) from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}") from None


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror}") from None


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"--compromised-at: {text!r} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise fail("--compromised-at needs an offset, e.g. 2026-11-21T08:00:00Z")
    return value

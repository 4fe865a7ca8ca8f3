"""Offline verification: seals and signed records checked per second on one core, against raw Ed25519.

A border guard's phone, a carrier's laptop, another state's auditor: each checks a transit document's seal, a
visa's visible digital seal or a chain of signed records against a trust list it holds, with no network.
Each check is exactly what `silkway verify` and the peer states' receiver run (decode, look the signer up on
the trust list, check its certificate and validity, verify the Ed25519 signature); the floor is
`cryptography`'s Ed25519 verification of messages of the same length, alone, in the same process. The
process is pinned to one core, and the rates are the best of several rounds, interleaved so the machine's
drift hits both alike.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.report import Context, Goal, Section, table
from bench.workload import prepare, settings_for
from silkway import bootstrap
from silkway.documents.transit import check_seal, issue_seal, summary_of
from silkway.documents.visa_seal import check_visa_seal
from silkway.shared.mrn import Mrn
from silkway.signing import seal as seals
from silkway.signing import vds
from silkway.signing.records import SignedRecord
from silkway.signing.verify import verify_records

GOAL = 0.8  # of raw Ed25519 verifications per second


@dataclass(frozen=True)
class Kind:
    """One kind of offline check: how to run it on one item, and the bytes its signature covers."""

    name: str
    items: Sequence[object]
    check: Callable[[object], bool]
    signed_lengths: Sequence[int]
    signatures_per_item: int = 1  # a chain's rate is counted in records


@dataclass(frozen=True)
class Rate:
    name: str
    per_second: float
    raw_per_second: float
    signed_bytes: int

    @property
    def ratio(self) -> float:
        return self.per_second / self.raw_per_second


def run(ctx: Context) -> Section:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    kinds = _kinds(ctx)
    rounds = 3 if ctx.quick else 7
    seconds = 0.3 if ctx.quick else 1.0
    rates = []
    for kind in kinds:
        ctx.log(f"{kind.name}: {len(kind.items)} items")
        checked, raw = [], []
        for _ in range(rounds):
            checked.append(_per_second(kind, seconds) * kind.signatures_per_item)
            raw.append(_raw_per_second(kind, seconds))
        rates.append(
            Rate(
                name=kind.name,
                per_second=max(checked),
                raw_per_second=max(raw),
                signed_bytes=round(statistics.mean(kind.signed_lengths)),
            )
        )
    return _section(ctx, rates, rounds, seconds)


def _kinds(ctx: Context) -> list[Kind]:
    """Real seals and records, made by the app on a throw-away database, and the trust list to check them by."""
    url = f"sqlite:///{ctx.work / 'offline.db'}"
    count = 50 if ctx.quick else 200
    workload = prepare(url, transits=count, travellers=count)
    services = bootstrap.build(settings_for(url))
    try:
        trust = services.notary.verified_trust_list(services.clock.now())
        transit_seals, chains = [], []
        for presentation in workload.presentations:
            found = services.queries.transit_with_records(Mrn(presentation.mrn))
            if found is None:
                raise RuntimeError(f"transit {presentation.mrn} vanished")
            transit, logged = found
            head = logged[-1].record
            issuer = str(head.fields["office"])
            summary = summary_of(transit, head, issuer=issuer, at=services.clock.now())
            transit_seals.append(issue_seal(summary, services.notary.office_key(issuer)))
            chains.append(tuple(entry.record for entry in logged))
        visa_seals = [traveller.seal for traveller in workload.travellers]
    finally:
        services.close()

    def transit_ok(item: object) -> bool:
        return check_seal(str(item), trust).genuine

    def visa_ok(item: object) -> bool:
        return check_visa_seal(str(item), trust).genuine

    def chain_ok(item: object) -> bool:
        records: Sequence[SignedRecord] = item  # type: ignore[assignment]
        return not verify_records(records, trust)

    records_per_chain = round(statistics.mean(len(chain) for chain in chains))
    kinds = [
        Kind("transit document seal (COSE_Sign1, base45)", transit_seals, transit_ok,
             [len(seals.open_seal(s).signed) for s in transit_seals]),
        Kind("visa seal (ICAO VDS, base45)", visa_seals, visa_ok,
             [len(vds.open_visa_seal(s).signed) for s in visa_seals]),
        Kind(f"transit's signed records (a chain of {records_per_chain})", chains, chain_ok,
             [len(r.canonical) for chain in chains for r in chain], signatures_per_item=records_per_chain),
    ]  # fmt: skip
    for kind in kinds:
        bad = [item for item in kind.items if not kind.check(item)]
        if bad:
            raise RuntimeError(f"{len(bad)} genuine {kind.name} items failed to verify")
    return kinds


def _per_second(kind: Kind, seconds: float) -> float:
    done, began = 0, time.perf_counter()
    while True:
        for item in kind.items:
            kind.check(item)
        done += len(kind.items)
        elapsed = time.perf_counter() - began
        if elapsed >= seconds:
            return done / elapsed


def _raw_per_second(kind: Kind, seconds: float) -> float:
    """Ed25519 verifications per second of messages as long as the kind's signed bytes, one key, nothing else."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    messages = [os.urandom(length) for length in kind.signed_lengths]
    signed = [(key.sign(message), message) for message in messages]
    done, began = 0, time.perf_counter()
    while True:
        for signature, message in signed:
            public.verify(signature, message)
        done += len(signed)
        elapsed = time.perf_counter() - began
        if elapsed >= seconds:
            return done / elapsed


def _section(ctx: Context, rates: Sequence[Rate], rounds: int, seconds: float) -> Section:
    rows = [(r.name, r.signed_bytes, r.per_second, r.raw_per_second, f"{r.ratio:.0%}") for r in rates]
    body = "\n".join(
        [
            f"One core (the process is pinned to it); best of {rounds} rounds of {seconds:g} s each, the check and "
            "the raw verification interleaved. A transit's records are verified as a chain (signatures, signers, "
            "`prev` links): that rate is records per second. Raw Ed25519 verifies messages of the same lengths "
            "with `cryptography`, the library the checks use.",
            "",
            table(("check", "signed bytes", "checks/s", "raw Ed25519/s", "ratio"), rows),
        ]
    )
    goals = [
        Goal(
            f"Offline: {r.name}",
            f"≥ {GOAL:.0%} of raw Ed25519",
            f"{r.ratio:.0%} ({r.per_second:,.0f} vs {r.raw_per_second:,.0f}/s)",
            met=r.ratio >= GOAL,
            why="decoding (base45, zlib, CBOR or C40) and the trust-list lookups cost "
            f"{1e6 / r.per_second - 1e6 / r.raw_per_second:.0f} µs beside the {1e6 / r.raw_per_second:.0f} µs "
            "verification; see bench/README.md for where they go",
        )
        for r in rates
    ]
    return Section(title="Offline verification", body=body, goals=goals, charts=[_chart(ctx, rates)])


def _chart(ctx: Context, rates: Sequence[Rate]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(8, 3.5))
    names = [r.name.split(" (")[0] for r in rates]
    axis.barh(names, [r.ratio * 100 for r in rates])
    axis.axvline(GOAL * 100, color="red", linewidth=0.8, label=f"goal {GOAL:.0%}")
    axis.set_xlabel("% of raw Ed25519 verifications per second, one core")
    axis.set_xlim(0, 110)
    axis.legend()
    fig.tight_layout()
    path = ctx.charts / "offline.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

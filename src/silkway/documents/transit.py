"""The transit accompanying document: its signed summary (the QR code's seal), its printable form, and the
offline check of a seal against a trust list.

The summary names the transit (MRN, vehicle, seals, itinerary, status), its last control and the office
that made it, and the hash of the newest signed record, so an online check can find the full history.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from silkway.documents.model import ControlLine, OfficeLine, TransitDocument
from silkway.signing import seal as seals
from silkway.signing.errors import MalformedRecord, Problem
from silkway.signing.keys import SigningKey
from silkway.signing.records import SignedRecord
from silkway.signing.trustlist import TrustList
from silkway.transit.events import ControlRecorded, TransitReleased
from silkway.transit.lifecycle import Transit
from silkway.transit.model import ControlResult

SUMMARY_VERSION = 1


@dataclass(frozen=True, slots=True)
class LastControl:
    control: ControlResult
    at: datetime


def last_control(transit: Transit) -> LastControl | None:
    """The latest control recorded on the transit (at release or later), whatever its result."""
    for event in reversed(transit.events):
        if isinstance(event, ControlRecorded):
            return LastControl(event.control, event.at)
        if isinstance(event, TransitReleased) and event.control is not None:
            return LastControl(event.control, event.at)
    return None


def summary_of(transit: Transit, head: SignedRecord, *, issuer: str, at: datetime) -> dict[str, Any]:
    """The signed summary: short keys, because every byte costs QR modules (see docs/signed-records.md)."""
    d = transit.declaration
    control = last_control(transit)
    return {
        "v": SUMMARY_VERSION,
        "mrn": transit.mrn,
        "st": transit.status.value,
        "veh": None if d.vehicle is None else f"{d.vehicle.country} {d.vehicle.plate}",
        "ctr": [c.number for c in d.containers],
        "sl": list(transit.seals),
        "it": list(d.itinerary.offices),
        "lc": None
        if control is None
        else {
            "o": control.control.office,
            "k": control.control.kind.value,
            "r": control.control.outcome.value,
            "t": int(control.at.timestamp()),
        },
        "sq": head.seq,
        "hd": head.hash[:32],
        "iss": issuer,
        "iat": int(at.timestamp()),
    }


def issue_seal(summary: dict[str, Any], key: SigningKey) -> str:
    """Seal the summary; when it is too long for a QR code, drop the container list, then shorten the seal
    list (keeping its count in `sln`), rather than fail."""
    attempts = [summary, {**summary, "ctr": []}]
    if len(summary["sl"]) > 8:
        attempts.append({**summary, "ctr": [], "sl": summary["sl"][:8], "sln": len(summary["sl"])})
    for attempt in attempts:
        try:
            return seals.seal(attempt, key)
        except ValueError:
            continue
    raise ValueError("the transit's summary does not fit in a QR code even when shortened")


def document_of(
    transit: Transit,
    *,
    payload: str,
    key_id: str,
    issuer: str,
    at: datetime,
    office_line: Callable[[str], OfficeLine],
) -> TransitDocument:
    d = transit.declaration
    control = last_control(transit)
    return TransitDocument(
        mrn=transit.mrn,
        status=transit.status.value,
        holder=d.holder,
        vehicle=None if d.vehicle is None else f"{d.vehicle.country} {d.vehicle.plate}",
        containers=tuple(c.number for c in d.containers),
        seals=transit.seals,
        itinerary=tuple(office_line(code) for code in d.itinerary.offices),
        goods_items=len(d.goods),
        gross_mass_kg=sum((g.gross_mass_kg for g in d.goods), Decimal(0)),
        hs_codes=tuple(dict.fromkeys(g.hs_code for g in d.goods)),
        guarantee=d.guarantee.reference,
        time_limit=transit.time_limit,
        last_control=None
        if control is None
        else ControlLine(
            office=office_line(control.control.office),
            kind=control.control.kind.value,
            result=control.control.outcome.value,
            at=control.at,
        ),
        issued_by=office_line(issuer),
        issued_at=at,
        key_id=key_id,
        payload=payload,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SealVerdict:
    """What an offline check of a seal found. `genuine` only when there are no problems."""

    problems: list[Problem]
    key_id: str | None = None
    summary: Mapping[str, Any] | None = None

    @property
    def genuine(self) -> bool:
        return not self.problems and self.summary is not None

    @property
    def issuer(self) -> str | None:
        return None if self.summary is None else str(self.summary.get("iss"))

    def to_json(self) -> dict[str, Any]:
        summary = self.summary or {}
        control = summary.get("lc")
        return {
            "genuine": self.genuine,
            "verdict": "genuine" if self.genuine else "not genuine",
            "problems": [{"code": p.code, "message": p.message} for p in self.problems],
            "key_id": self.key_id,
            "issued_by": summary.get("iss"),
            "issued_at": _when(summary.get("iat")),
            "transit": None
            if not summary
            else {
                "mrn": summary.get("mrn"),
                "status": summary.get("st"),
                "vehicle": summary.get("veh"),
                "containers": summary.get("ctr", []),
                "seals": summary.get("sl", []),
                "seal_count": summary.get("sln", len(summary.get("sl", []))),
                "itinerary": summary.get("it", []),
                "last_control": None
                if not isinstance(control, dict)
                else {
                    "office": control.get("o"),
                    "kind": control.get("k"),
                    "result": control.get("r"),
                    "at": _when(control.get("t")),
                },
                "record_seq": summary.get("sq"),
                "record_hash_prefix": summary.get("hd"),
            },
        }


def check_seal(text: str, trust: TrustList) -> SealVerdict:
    """Check a seal offline: decodable, signed by a key the trust list certifies for the issuing office at
    the time of issue, and unaltered. Never raises on bad input: every failure is a problem in the verdict."""
    try:
        opened = seals.open_seal(text)
    except MalformedRecord as exc:
        return SealVerdict(problems=[Problem("seal_malformed", str(exc))])
    summary = opened.summary
    issuer, issued = summary.get("iss"), summary.get("iat")
    if summary.get("v") != SUMMARY_VERSION or not isinstance(issuer, str) or not isinstance(issued, int):
        return SealVerdict(
            problems=[Problem("seal_malformed", "the seal's summary is not a Silkway transit summary, version 1")],
            key_id=opened.key_id,
        )
    at = datetime.fromtimestamp(issued, UTC)
    problems = seals.verify_seal(opened, trust, office=issuer, at=at)
    return SealVerdict(problems=problems, key_id=opened.key_id, summary=summary)


def _when(value: object) -> str | None:
    if not isinstance(value, int):
        return None
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def verdict_lines(verdict: SealVerdict, office_name: Callable[[str], str]) -> Sequence[str]:
    """The verdict in plain sentences, for the CLI and the border guard's screen."""
    data = verdict.to_json()
    if not verdict.genuine:
        return ["NOT GENUINE", *(f"- {p['message']}" for p in data["problems"])]
    transit = data["transit"]
    lines = [
        "GENUINE",
        f"Transit {transit['mrn']} ({transit['status']}), vehicle {transit['vehicle'] or '—'}",
        f"Seals: {', '.join(transit['seals']) or '—'}",
        f"Itinerary: {' → '.join(transit['itinerary'])}",
        f"Signed by {data['issued_by']} ({office_name(data['issued_by'])}) with key {data['key_id']} "
        f"at {data['issued_at']}",
    ]
    control = transit["last_control"]
    if control is None:
        lines.append("No control recorded yet.")
    else:
        lines.append(
            f"Last control: {control['kind']}, {control['result']}, by {control['office']} "
            f"({office_name(control['office'])}) at {control['at']}"
        )
    return lines

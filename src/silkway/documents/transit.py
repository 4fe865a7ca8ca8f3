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
        """The verdict as JSON. Of the summary, only values of the types the summary format gives them are shown:
        a seal that fails its check may hold anything CBOR can (bytes, tags, huge numbers)."""
        summary = self.summary or {}
        control = summary.get("lc")
        numbers = _texts(summary.get("sl"))
        count = _int(summary.get("sln"))
        return {
            "genuine": self.genuine,
            "verdict": "genuine" if self.genuine else "not genuine",
            "problems": [{"code": p.code, "message": p.message} for p in self.problems],
            "key_id": self.key_id,
            "issued_by": _text(summary.get("iss")),
            "issued_at": _when(summary.get("iat")),
            "transit": None
            if not summary
            else {
                "mrn": _text(summary.get("mrn")),
                "status": _text(summary.get("st")),
                "vehicle": _text(summary.get("veh")),
                "containers": _texts(summary.get("ctr")),
                "seals": numbers,
                "seal_count": len(numbers) if count is None else count,
                "itinerary": _texts(summary.get("it")),
                "last_control": None
                if not isinstance(control, dict)
                else {
                    "office": _text(control.get("o")),
                    "kind": _text(control.get("k")),
                    "result": _text(control.get("r")),
                    "at": _when(control.get("t")),
                },
                "record_seq": _int(summary.get("sq")),
                "record_hash_prefix": _text(summary.get("hd")),
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
    issuer, at = summary.get("iss"), _instant(summary.get("iat"))
    if summary.get("v") != SUMMARY_VERSION or not isinstance(issuer, str) or at is None:
        return SealVerdict(
            problems=[Problem("seal_malformed", "the seal's summary is not a Silkway transit summary, version 1")],
            key_id=opened.key_id,
        )
    problems = seals.verify_seal(opened, trust, office=issuer, at=at)
    return SealVerdict(problems=problems, key_id=opened.key_id, summary=summary)


def _instant(value: object) -> datetime | None:
    """The instant of a Unix time in a summary, or None when it is no whole number of seconds in years 1-9999."""
    seconds = _int(value)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _when(value: object) -> str | None:
    at = _instant(value)
    return None if at is None else at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _int(value: object) -> int | None:
    """An integer of the summary, or None for anything else (True and False included, which Python counts as ints)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _texts(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


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

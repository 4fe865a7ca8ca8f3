"""What a transit accompanying document shows: a snapshot of one transit, ready to print.

These are display records, filled by whoever renders the document from the transit and its signed
payload; they hold codes (``in_transit``, ``physical``), never translated text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

STATUSES = ("submitted", "in_transit", "arrived", "discharged", "refused", "cancelled")
CONTROL_KINDS = ("documentary", "physical", "scan")
CONTROL_RESULTS = ("satisfactory", "not_satisfactory", "unsatisfactory")
"""``unsatisfactory`` is how `silkway.transit.model.ControlOutcome` spells ``not_satisfactory``; both print alike."""

PAYLOAD_PREFIX = "SW1:"


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")


@dataclass(frozen=True, slots=True, kw_only=True)
class OfficeLine:
    """A customs office as printed: its code, its name (in any script) and ISO 3166 country."""

    code: str
    name: str
    country: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlLine:
    """One control of the goods: where, which `kind` (`CONTROL_KINDS`), its `result` and when.

    Raises `ValueError` for an unknown kind or result, or a naive `at`.
    """

    office: OfficeLine
    kind: str
    result: str
    at: datetime

    def __post_init__(self) -> None:
        if self.kind not in CONTROL_KINDS:
            raise ValueError(f"unknown control kind {self.kind!r}; expected one of {', '.join(CONTROL_KINDS)}")
        if self.result not in CONTROL_RESULTS:
            raise ValueError(f"unknown control result {self.result!r}; expected one of {', '.join(CONTROL_RESULTS)}")
        _require_aware("at", self.at)


@dataclass(frozen=True, slots=True, kw_only=True)
class TransitDocument:
    """The content of a transit accompanying document for the transit `mrn`.

    `itinerary` runs from the office of departure to the office of destination; `payload` is the
    signed ``SW1:`` string the QR code carries, signed by `issued_by` with the key `key_id`.

    Raises `ValueError` for an unknown `status`, a naive datetime, a negative goods count or mass, or
    a payload that is not an ASCII ``SW1:`` string.
    """

    mrn: str
    status: str
    holder: str
    vehicle: str | None
    containers: tuple[str, ...]
    seals: tuple[str, ...]
    itinerary: tuple[OfficeLine, ...]
    goods_items: int
    gross_mass_kg: Decimal
    hs_codes: tuple[str, ...]
    guarantee: str
    time_limit: datetime | None
    last_control: ControlLine | None
    issued_by: OfficeLine
    issued_at: datetime
    key_id: str
    payload: str

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown transit status {self.status!r}; expected one of {', '.join(STATUSES)}")
        _require_aware("time_limit", self.time_limit)
        _require_aware("issued_at", self.issued_at)
        if self.goods_items < 0 or self.gross_mass_kg < 0:
            raise ValueError("goods items and gross mass cannot be negative")
        if not (self.payload.startswith(PAYLOAD_PREFIX) and self.payload.isascii() and self.payload.isprintable()):
            raise ValueError(f"the payload must be a printable ASCII string starting with {PAYLOAD_PREFIX!r}")

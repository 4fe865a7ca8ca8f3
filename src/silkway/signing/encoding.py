"""The byte encodings of the trust core: base64url without padding for keys and signatures, lower-case
hex for SHA-256 digests, RFC 3339 UTC with microseconds and a `Z` for instants."""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64u(text: str) -> bytes:
    """Decode base64url with or without padding. On failure, raises `ValueError`."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not base64url: {text[:20]!r}") from exc


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def instant(value: datetime) -> str:
    """An aware datetime as it appears in signed records: `2026-11-21T08:00:00.000000Z`."""
    if value.tzinfo is None:
        raise ValueError("instants in signed records must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_instant(text: str) -> datetime:
    """The inverse of `instant`; accepts any RFC 3339 form with an offset. On failure, raises `ValueError`."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"instant without an offset: {text!r}")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first instant Python can hold in UTC
        raise ValueError(f"instant out of range: {text!r}") from None

"""Signed, chained records: the unit of trust between states.

A record is a JSON object with the envelope fields `type, subject, seq, prev, at, office, actor, key_id`
and the event's own fields beside them. Its *canonical form* is RFC 8785 (JCS) applied to that object; the
office's Ed25519 key signs exactly those bytes; `prev` is the SHA-256 (hex) of the previous record's
canonical bytes (`null` for the first). The canonical bytes are what is stored, hashed, logged and verified:
a record is never re-serialised from parsed fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import rfc8785

from silkway.signing.encoding import instant, parse_instant, sha256_hex
from silkway.signing.errors import MalformedRecord
from silkway.signing.keys import SigningKey

ENVELOPE = ("type", "subject", "seq", "prev", "at", "office", "actor", "key_id")


def canonical(value: Mapping[str, object]) -> bytes:
    """RFC 8785 bytes of a JSON object. On a value JCS cannot represent (a float NaN, say), raises `ValueError`."""
    try:
        return rfc8785.dumps(dict(value))  # type: ignore[arg-type] # rfc8785 types values narrower than JSON
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(f"cannot canonicalise: {exc}") from exc


@dataclass(frozen=True)
class SignedRecord:
    """The exact signed bytes of one record and the signature over them (parsed at most once, on first use)."""

    canonical: bytes
    signature: bytes

    @property
    def hash(self) -> str:
        return sha256_hex(self.canonical)

    @cached_property
    def fields(self) -> dict[str, Any]:
        """The parsed record. On bytes that are not a JSON object with the envelope, raises `MalformedRecord`."""
        return parse_record(self.canonical)

    @property
    def key_id(self) -> str:
        return str(self.fields["key_id"])

    @property
    def seq(self) -> int:
        return int(self.fields["seq"])

    @property
    def at(self) -> datetime:
        return parse_instant(str(self.fields["at"]))

    def body(self) -> dict[str, Any]:
        """The event's own fields: everything but the envelope."""
        return {k: v for k, v in self.fields.items() if k not in ENVELOPE}


def parse_record(data: bytes) -> dict[str, Any]:
    """The fields of a record's canonical bytes. On bytes that are not a JSON object with every envelope field,
    raises `MalformedRecord`."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise MalformedRecord(f"not a JSON record: {exc}") from exc
    if not isinstance(value, dict):
        raise MalformedRecord("a record is a JSON object")
    missing = [k for k in ENVELOPE if k not in value]
    if missing:
        raise MalformedRecord(f"record lacks {', '.join(missing)}")
    return value


def sign_record(
    *,
    key: SigningKey,
    type: str,
    subject: str,
    seq: int,
    prev: str | None,
    at: datetime,
    office: str,
    actor: str,
    body: Mapping[str, object],
) -> SignedRecord:
    """Build, canonicalise and sign one record. On a body field that clashes with the envelope, raises `ValueError`."""
    clash = sorted(set(body) & set(ENVELOPE))
    if clash:
        raise ValueError(f"event fields clash with the record envelope: {', '.join(clash)}")
    if seq < 1 or (seq == 1) != (prev is None):
        raise ValueError("the first record (seq 1) has prev null; every later one names its predecessor")
    record: dict[str, object] = {
        "type": type,
        "subject": subject,
        "seq": seq,
        "prev": prev,
        "at": instant(at),
        "office": office,
        "actor": actor,
        "key_id": key.key_id,
        **body,
    }
    data = canonical(record)
    return SignedRecord(canonical=data, signature=key.sign(data))

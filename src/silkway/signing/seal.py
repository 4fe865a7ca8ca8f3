"""The visible digital seal of a document: a compact signed summary for a QR code.

The summary is a CBOR map, signed as a COSE_Sign1 structure (RFC 9052 §4.2; algorithm EdDSA, -8; the key id
in the protected header), compressed with zlib and written in Base45 (RFC 9285) behind the prefix `SW1:` —
the layout the EU Digital COVID Certificate made familiar, so it stays in the QR alphanumeric mode and
fits in 1,000 characters for a phone camera.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import base45  # type: ignore[import-untyped]
import cbor2

from silkway.signing.encoding import instant
from silkway.signing.errors import MalformedRecord, Problem
from silkway.signing.keys import SigningKey
from silkway.signing.trustlist import KeyUsage, TrustList

PREFIX = "SW1:"
MAX_LENGTH = 1000
_COSE_SIGN1 = 18
_ALG, _KID, _EDDSA = 1, 4, -8


@dataclass(frozen=True, slots=True)
class Seal:
    """A decoded seal: the signer's key id, the summary, and what the signature covers."""

    key_id: str
    summary: dict[str, Any]
    signed: bytes
    signature: bytes


def seal(summary: Mapping[str, Any], key: SigningKey) -> str:
    """Sign `summary` (CBOR-encodable) and encode it for a QR code.

    On a result longer than `MAX_LENGTH` characters, raises `ValueError`: shorten the summary instead.
    """
    protected = cbor2.dumps({_ALG: _EDDSA, _KID: bytes.fromhex(key.key_id)})
    payload = cbor2.dumps(dict(summary), canonical=True)
    signature = key.sign(_to_be_signed(protected, payload))
    cose = cbor2.dumps(cbor2.CBORTag(_COSE_SIGN1, [protected, {}, payload, signature]))
    text = PREFIX + bytes(base45.b45encode(zlib.compress(cose, 9))).decode("ascii")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"the seal is {len(text)} characters, over the {MAX_LENGTH} a phone camera reads reliably")
    return text


def open_seal(text: str) -> Seal:
    """Decode a seal without judging it. On anything that is not a Silkway seal, raises `MalformedRecord`.

    Text longer than `MAX_LENGTH` is refused before it is decoded: no seal is longer, and a short text can hold
    a compressed stream that inflates to gigabytes.
    """
    text = text.strip()
    if not text.startswith(PREFIX):
        raise MalformedRecord(f"not a Silkway seal: it does not start with {PREFIX}")
    if len(text) > MAX_LENGTH:
        raise MalformedRecord(f"not a Silkway seal: it has {len(text)} characters, a seal at most {MAX_LENGTH}")
    try:
        cose = zlib.decompress(base45.b45decode(text[len(PREFIX) :]))
        tag = cbor2.loads(cose)
        if not isinstance(tag, cbor2.CBORTag) or tag.tag != _COSE_SIGN1 or len(tag.value) != 4:
            raise MalformedRecord("not a COSE_Sign1 structure")
        protected, _unprotected, payload, signature = tag.value
        header = cbor2.loads(protected)
        summary = cbor2.loads(payload)
    except MalformedRecord:
        raise
    except (ValueError, TypeError, zlib.error, cbor2.CBORError, LookupError) as exc:
        raise MalformedRecord(f"the seal cannot be decoded: {exc}") from exc
    if not isinstance(header, dict) or header.get(_ALG) != _EDDSA or not isinstance(header.get(_KID), bytes):
        raise MalformedRecord("the seal's protected header must name EdDSA and a key id")
    if not isinstance(summary, dict) or not isinstance(signature, bytes):
        raise MalformedRecord("the seal's payload must be a map and its signature bytes")
    return Seal(
        key_id=header[_KID].hex(),
        summary=summary,
        signed=_to_be_signed(protected, payload),
        signature=signature,
    )


def verify_seal(opened: Seal, trust: TrustList, *, office: str, at: datetime) -> list[Problem]:
    """Problems with a seal claimed to be issued by `office` at `at`; empty when it is genuine.

    Codes: `seal_unknown_key` (the key is not on the trust list), `seal_signature` (the summary was changed
    or the signature is not that key's), and the signer checks of `TrustList.problem_with_signer`.
    """
    entry = trust.key(opened.key_id)
    if entry is None:
        return [Problem("seal_unknown_key", f"the seal is signed with key {opened.key_id}, unknown to the trust list")]
    if not entry.certificate.public_key.verify(opened.signature, opened.signed):
        return [Problem("seal_signature", "the seal's signature does not match its content: the summary was altered")]
    problem = trust.problem_with_signer(opened.key_id, office=office, at=at, usage=KeyUsage.OFFICE)
    if problem is not None:
        return [Problem(problem.code, f"{problem.message} (issued {instant(at)})")]
    return []


def _to_be_signed(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])

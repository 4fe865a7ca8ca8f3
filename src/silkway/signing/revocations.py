"""A node's signed list of revoked and annulled visas, for border checks that must work offline.

Like a certificate revocation list: the node key signs the list's RFC 8785 bytes with the time it was made, so
a reader can refuse a list that is not from a node on the trust list, altered, or older than it will accept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from silkway.signing.encoding import b64u, from_b64u, instant, parse_instant
from silkway.signing.errors import MalformedRecord, Problem
from silkway.signing.keys import SigningKey
from silkway.signing.records import canonical
from silkway.signing.trustlist import KeyUsage, TrustList

REVOCATION_LIST_FORMAT = "silkway-visa-revocations/1"


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokedVisa:
    number: str
    status: str  # "revoked" | "annulled"
    at: datetime
    state: str
    grounds: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "number": self.number,
            "status": self.status,
            "at": instant(self.at),
            "state": self.state,
            "grounds": list(self.grounds),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RevocationList:
    node_state: str
    key_id: str
    issued_at: datetime
    revoked: tuple[RevokedVisa, ...]
    signature: bytes

    def signed_fields(self) -> dict[str, object]:
        return {
            "format": REVOCATION_LIST_FORMAT,
            "node_state": self.node_state,
            "key_id": self.key_id,
            "issued_at": instant(self.issued_at),
            "revoked": [r.to_json() for r in self.revoked],
        }

    def to_json(self) -> dict[str, object]:
        return {**self.signed_fields(), "signature": b64u(self.signature)}

    def find(self, number: str) -> RevokedVisa | None:
        return next((r for r in self.revoked if r.number == number), None)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RevocationList:
        """On anything that is not a revocation list, raises `MalformedRecord`."""
        try:
            if data.get("format") != REVOCATION_LIST_FORMAT:
                raise ValueError(f"format {data.get('format')!r}")
            return cls(
                node_state=str(data["node_state"]),
                key_id=str(data["key_id"]),
                issued_at=parse_instant(str(data["issued_at"])),
                revoked=tuple(
                    RevokedVisa(
                        number=str(r["number"]),
                        status=str(r["status"]),
                        at=parse_instant(str(r["at"])),
                        state=str(r["state"]),
                        grounds=tuple(str(g) for g in r["grounds"]),
                    )
                    for r in data["revoked"]
                ),
                signature=from_b64u(str(data["signature"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedRecord(f"not a visa revocation list: {exc}") from exc


def sign_revocation_list(
    *, key: SigningKey, node_state: str, issued_at: datetime, revoked: Sequence[RevokedVisa]
) -> RevocationList:
    unsigned = RevocationList(
        node_state=node_state, key_id=key.key_id, issued_at=issued_at, revoked=tuple(revoked), signature=b""
    )
    return RevocationList(
        node_state=node_state,
        key_id=key.key_id,
        issued_at=issued_at,
        revoked=tuple(revoked),
        signature=key.sign(canonical(unsigned.signed_fields())),
    )


def verify_revocation_list(revocations: RevocationList, trust: TrustList) -> list[Problem]:
    """Problems with the list's signer or signature (`revocations_signature`); empty when genuine."""
    entry = trust.key(revocations.key_id)
    if entry is None:
        return [Problem("unknown_key", f"the revocation list is signed with key {revocations.key_id}, unknown")]
    cert = entry.certificate
    if cert.usage is not KeyUsage.NODE or cert.state != revocations.node_state:
        return [Problem("wrong_usage", f"key {revocations.key_id} is not the node key of {revocations.node_state}")]
    if not cert.public_key.verify(revocations.signature, canonical(revocations.signed_fields())):
        return [Problem("revocations_signature", "the revocation list's signature does not match its content")]
    problem = entry.problem_signing_at(revocations.issued_at)
    return [] if problem is None else [problem]

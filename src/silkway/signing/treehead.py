"""Signed tree heads of a node's transparency log (the role of an RFC 9162 STH, in JSON)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from silkway.signing.encoding import b64u, from_b64u, instant, parse_instant
from silkway.signing.errors import MalformedRecord, Problem
from silkway.signing.keys import SigningKey
from silkway.signing.records import canonical
from silkway.signing.trustlist import KeyUsage, TrustList

TREE_HEAD_FORMAT = "silkway-tree-head/1"
MAX_TREE_SIZE = 2**53 - 1
"""The largest size a tree head can state: RFC 8785 writes no greater integer, so no signature covers one."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeHead:
    """A node's signed statement: its log had `tree_size` entries with root `root_hash` at `timestamp`."""

    node_state: str
    key_id: str
    tree_size: int
    root_hash: bytes
    timestamp: datetime
    signature: bytes

    def signed_fields(self) -> dict[str, object]:
        return {
            "format": TREE_HEAD_FORMAT,
            "node_state": self.node_state,
            "key_id": self.key_id,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "timestamp": instant(self.timestamp),
        }

    def to_json(self) -> dict[str, object]:
        return {**self.signed_fields(), "signature": b64u(self.signature)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TreeHead:
        """On anything that is not a tree head, raises `MalformedRecord`."""
        try:
            if not isinstance(data, Mapping):
                raise TypeError("not a JSON object")
            if data.get("format") != TREE_HEAD_FORMAT:
                raise ValueError(f"format {data.get('format')!r}")
            head = cls(
                node_state=str(data["node_state"]),
                key_id=str(data["key_id"]),
                tree_size=int(data["tree_size"]),
                root_hash=bytes.fromhex(str(data["root_hash"])),
                timestamp=parse_instant(str(data["timestamp"])),
                signature=from_b64u(str(data["signature"])),
            )
        # OverflowError: an infinite number, or an instant that is past year 9999 (or before year 1) in UTC
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise MalformedRecord(f"not a tree head: {exc}") from exc
        if not 0 <= head.tree_size <= MAX_TREE_SIZE or len(head.root_hash) != 32:
            raise MalformedRecord("not a tree head: a size out of 0 to 2^53 - 1, or a root hash that is not 32 bytes")
        return head


def sign_tree_head(
    *, key: SigningKey, node_state: str, tree_size: int, root_hash: bytes, timestamp: datetime
) -> TreeHead:
    unsigned = TreeHead(
        node_state=node_state,
        key_id=key.key_id,
        tree_size=tree_size,
        root_hash=root_hash,
        timestamp=timestamp,
        signature=b"",
    )
    signature = key.sign(canonical(unsigned.signed_fields()))
    return replace(unsigned, signature=signature)


def verify_tree_head(head: TreeHead, trust: TrustList) -> list[Problem]:
    """Problems with a tree head's signature (`tree_head_signature`) or signer; empty when genuine."""
    entry = trust.key(head.key_id)
    if entry is None:
        return [Problem("unknown_key", f"the tree head is signed with key {head.key_id}, unknown to the trust list")]
    cert = entry.certificate
    if cert.usage is not KeyUsage.NODE or cert.state != head.node_state:
        return [Problem("wrong_usage", f"key {head.key_id} is not the node key of {head.node_state}")]
    if not cert.public_key.verify(head.signature, canonical(head.signed_fields())):
        return [Problem("tree_head_signature", "the tree head's signature does not match its content")]
    problem = entry.problem_signing_at(head.timestamp)
    return [] if problem is None else [problem]

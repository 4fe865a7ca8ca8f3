"""An independent verifier of Silkway's signed records, written from docs/signed-records.md alone.

It uses nothing but the standard library, `cryptography` (Ed25519) and `rfc8785` (JCS): whoever holds a trust
list can check records, tree heads and log proofs without any of Silkway's code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ENVELOPE = ("type", "subject", "seq", "prev", "at", "office", "actor", "key_id")
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
B64U = re.compile(r"[A-Za-z0-9_-]*")
HEX32 = re.compile(r"[0-9a-f]{64}")

Problem = tuple[str, int, str]  # (code, seq, message)


class Rejected(Exception):
    """A trust list or tree head that must not be accepted; `code` names the failed check."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def b64u_decode(text: object, size: int) -> bytes:
    """Strict base64url without padding, of exactly `size` bytes (ValueError otherwise)."""
    if not isinstance(text, str) or not B64U.fullmatch(text):
        raise ValueError("not base64url without padding")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if len(data) != size or base64.urlsafe_b64encode(data).rstrip(b"=").decode() != text:
        raise ValueError(f"not the base64url of {size} bytes")
    return data


def key_id_of(public_key: bytes) -> str:
    return hashlib.sha256(public_key).digest()[:16].hex()


def instant(text: object) -> datetime:
    if not isinstance(text, str) or not INSTANT.fullmatch(text):
        raise ValueError(f"not an instant: {text!r}")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def signature_ok(public_key: bytes, signature: object, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(b64u_decode(signature, 64), message)
    except (ValueError, InvalidSignature):
        return False
    return True


# §2 The trust list ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustList:
    document: Mapping[str, Any]
    keys: Mapping[str, Mapping[str, Any]]  # K(k): each `section.keys` entry by key id, across all sections

    def key(self, key_id: object) -> Mapping[str, Any] | None:
        return self.keys.get(key_id) if isinstance(key_id, str) else None


def verify_trust_list(document: Any, pinned_roots: Mapping[str, str] | None = None) -> TrustList:
    """Verify a trust list (§2 steps 1-5); raise Rejected naming the first failed check."""
    try:
        return _verify_trust_list(document, pinned_roots)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise Rejected("malformed", f"{exc.__class__.__name__}: {exc}") from exc


def _verify_trust_list(document: Any, pinned_roots: Mapping[str, str] | None) -> TrustList:
    if document["format"] != "silkway-trust-list/1":
        raise Rejected("format", f"format is {document['format']!r}")
    keys: dict[str, Mapping[str, Any]] = {}
    roots: dict[str, str] = {}
    for item in document["sections"]:
        section = item["section"]
        state, root = section["state"], section["root"]
        root_key = b64u_decode(root["public_key"], 32)
        if root["key_id"] != key_id_of(root_key):
            raise Rejected("root_key_id", f"{state}: root key id does not match its public key")
        if not signature_ok(root_key, item["signature"], rfc8785.dumps(section)):
            raise Rejected("section_signature", f"{state}: section signature does not verify under its root")
        if state in roots:
            raise Rejected("duplicate_state", f"{state} has more than one section")
        roots[state] = root["key_id"]
        for entry in section["keys"]:
            cert = entry["certificate"]
            if cert["key_id"] != key_id_of(b64u_decode(cert["public_key"], 32)):
                raise Rejected("certificate_key_id", f"{cert['key_id']}: key id does not match its public key")
            if cert["state"] != state:
                raise Rejected("certificate_state", f"{cert['key_id']}: state {cert['state']!r} in section {state}")
            if cert["issuer"] != root["key_id"]:
                raise Rejected("certificate_issuer", f"{cert['key_id']}: issuer is not the {state} root")
            if not signature_ok(root_key, entry["certificate_signature"], rfc8785.dumps(cert)):
                raise Rejected("certificate_signature", f"{cert['key_id']}: certificate signature does not verify")
            if cert["key_id"] in keys:
                raise Rejected("duplicate_key", f"{cert['key_id']} is listed twice")
            keys[cert["key_id"]] = entry
    node = keys.get(document["node_key_id"])
    if node is None or (node["certificate"]["state"], node["certificate"]["usage"]) != (document["node_state"], "node"):
        raise Rejected("node_key", f"{document['node_key_id']} is not a node key of {document['node_state']}")
    unsigned = {name: value for name, value in document.items() if name != "signature"}
    if not signature_ok(
        b64u_decode(node["certificate"]["public_key"], 32), document["signature"], rfc8785.dumps(unsigned)
    ):
        raise Rejected("signature", "the trust list's signature does not verify under its node key")
    for state, root_id in (pinned_roots or {}).items():
        if state not in roots:
            raise Rejected("root_missing", f"pinned state {state} has no section")
        if roots[state] != root_id:
            raise Rejected("root_not_pinned", f"{state} root {roots[state]} is not the pinned {root_id}")
    return TrustList(document, keys)


def key_problem(entry: Mapping[str, Any], at: datetime) -> tuple[str, str] | None:
    """Step 7 of §3: is the key usable at `at`? (code, message) of the first failure, or None."""
    cert = entry["certificate"]
    if not instant(cert["valid_from"]) <= at < instant(cert["valid_until"]):
        return "key_not_valid", f"{cert['key_id']} is valid {cert['valid_from']} to {cert['valid_until']}"
    if entry["compromised_at"] is not None and at >= instant(entry["compromised_at"]):
        return "key_revoked", f"{cert['key_id']} is compromised from {entry['compromised_at']}"
    if entry["status"] == "rotated" and at >= instant(entry["rotated_at"]):
        return "key_rotated", f"{cert['key_id']} was rotated at {entry['rotated_at']}"
    return None


# §3 Records -------------------------------------------------------------------------------------------------------


def verify_records(records: Sequence[Mapping[str, Any]], trust: TrustList) -> list[Problem]:
    """Verify one subject's records (each {"canonical", "signature", ...}) in served order (§3 steps 1-7).

    Problems come by record, then by step; a problem's seq is the record's own integer `seq`, else its position."""
    problems: list[Problem] = []
    previous, subject = b"", None
    for i, served in enumerate(records, start=1):
        text = served.get("canonical")
        data = text.encode("utf-8", errors="surrogatepass") if isinstance(text, str) else b""
        try:
            record = json.loads(data)
        except ValueError:
            record = None
        if not isinstance(record, dict) or not all(name in record for name in ENVELOPE):
            problems.append(("not_canonical", i, "not a JSON object with the eight envelope members"))
            previous = data
            continue
        found: list[tuple[str, str]] = []
        try:
            if rfc8785.dumps(record) != data:
                found.append(("not_canonical", "re-canonicalising the record changes its bytes"))
        except (rfc8785.CanonicalizationError, ValueError) as exc:
            found.append(("not_canonical", f"cannot be canonicalised: {exc}"))
        if record["seq"] != i or type(record["seq"]) is not int:
            found.append(("out_of_order", f"seq {record['seq']!r} at position {i}"))
        expected = None if i == 1 else hashlib.sha256(previous).hexdigest()
        if record["prev"] != expected:
            found.append(("chain_broken", f"prev {record['prev']!r}, expected {expected!r}"))
        if subject is not None and record["subject"] != subject:
            found.append(("wrong_subject", f"subject {record['subject']!r}, expected {subject!r}"))
        entry = trust.key(record["key_id"])
        if entry is None:
            found.append(("unknown_key", f"key {record['key_id']!r} is not on the trust list"))
        else:
            found += _key_problems(entry, record, served.get("signature"), data)
        seq = record["seq"] if type(record["seq"]) is int else i
        problems += [(code, seq, message) for code, message in found]
        subject = record["subject"] if subject is None else subject
        previous = data
    return problems


def _key_problems(
    entry: Mapping[str, Any], record: Mapping[str, Any], signature: object, data: bytes
) -> list[tuple[str, str]]:
    """Steps 5-7 of §3 for a record whose key is on the list."""
    cert, office = entry["certificate"], record["office"]
    found: list[tuple[str, str]] = []
    if not signature_ok(b64u_decode(cert["public_key"], 32), signature, data):
        found.append(("bad_signature", f"signature does not verify under {cert['key_id']}"))
    if not isinstance(office, str):
        return [*found, ("malformed", f"office {office!r} is not a string")]
    if cert["usage"] == "office" and cert["state"] != office[:2]:
        found.append(("wrong_state", f"{cert['key_id']} is a {cert['state']} key, the record is from {office}"))
    elif cert["usage"] != "office" or cert["office"] != office:
        found.append(("wrong_office", f"{cert['key_id']} is certified for {cert['office']!r}, not {office}"))
    try:
        problem = key_problem(entry, instant(record["at"]))
    except (ValueError, TypeError) as exc:  # `at` is not an instant, or the entry's times are not
        return [*found, ("malformed", str(exc))]
    return [*found, problem] if problem else found


# §4 The transparency log ------------------------------------------------------------------------------------------


def verify_tree_head(head: Mapping[str, Any], trust: TrustList) -> bytes:
    """Verify a signed tree head (§4); return its root hash, or raise Rejected."""
    try:
        if head["format"] != "silkway-tree-head/1":
            raise Rejected("format", f"format is {head['format']!r}")
        entry = trust.key(head["key_id"])
        if entry is None:
            raise Rejected("unknown_key", f"node key {head['key_id']!r} is not on the trust list")
        cert = entry["certificate"]
        if cert["usage"] != "node" or cert["state"] != head["node_state"]:
            raise Rejected("node_key", f"{cert['key_id']} is not a {head['node_state']} node key")
        problem = key_problem(entry, instant(head["timestamp"]))
        if problem:
            raise Rejected(*problem)
        unsigned = {name: value for name, value in head.items() if name != "signature"}
        if not signature_ok(b64u_decode(cert["public_key"], 32), head["signature"], rfc8785.dumps(unsigned)):
            raise Rejected("bad_signature", "the tree head's signature does not verify")
        if type(head["tree_size"]) is not int or head["tree_size"] < 0 or not HEX32.fullmatch(head["root_hash"]):
            raise Rejected("malformed", "tree_size is not a size or root_hash not a lower-case hex SHA-256")
        return bytes.fromhex(head["root_hash"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Rejected("malformed", f"{exc.__class__.__name__}: {exc}") from exc


def leaf_hash(canonical: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + canonical).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.1: the root over leaf hashes, split at the largest power of two smaller than n."""
    if len(leaves) <= 1:
        return leaves[0] if leaves else hashlib.sha256(b"").digest()
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def verify_inclusion(leaf: bytes, leaf_index: int, tree_size: int, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: is `leaf` (a leaf hash) at `leaf_index` of the tree of `tree_size` with `root`?"""
    if not 0 <= leaf_index < tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: does the tree of size `second` extend the one of size `first`?"""
    if first == 0:  # the empty tree is a prefix of every tree
        return not path and second >= 0 and first_root == hashlib.sha256(b"").digest()
    if first == second:  # nothing to prove
        return not path and first_root == second_root
    if not 0 < first < second or not path:
        return False
    path = [first_root, *path] if first & (first - 1) == 0 else list(path)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0

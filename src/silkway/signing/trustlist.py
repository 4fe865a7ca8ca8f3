"""The trust list: every member state's root key, the office keys it has certified, and their status.

Three signatures protect it, each over RFC 8785 bytes:
- a *key certificate* (key id, public key, state, usage, office, validity) is signed by its state's root;
- a *state section* (the root, every certificate with its status: active, rotated at, revoked with the
  time of compromise) is signed by the same root, so only that state can rotate or revoke its keys;
- the *document* is signed by the publishing node's key, itself certified in its state's section.
A verifier that pins the member states' root key ids (exchanged at the key ceremony) also detects a whole
trust list forged with made-up roots.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from silkway.signing.encoding import b64u, from_b64u, instant, parse_instant
from silkway.signing.errors import MalformedRecord, Problem, VerificationError
from silkway.signing.keys import PublicKey, SigningKey
from silkway.signing.records import canonical

CERTIFICATE_FORMAT = "silkway-key-certificate/1"
TRUST_LIST_FORMAT = "silkway-trust-list/1"


class KeyUsage(StrEnum):
    ROOT = "root"
    OFFICE = "office"  # customs offices, border posts and consulates: signs the records of that office
    NODE = "node"  # a national node: signs its trust list and its log's tree heads


class KeyStatus(StrEnum):
    ACTIVE = "active"
    ROTATED = "rotated"  # replaced in the normal course: what it signed before `rotated_at` stays valid
    REVOKED = "revoked"  # compromised: what it signed from `compromised_at` on is invalid


@dataclass(frozen=True, slots=True, kw_only=True)
class Certificate:
    """A state root's statement that `public_key` speaks for `office` (or for the node) of `state`."""

    public_key: PublicKey
    state: str
    usage: KeyUsage
    office: str | None
    valid_from: datetime
    valid_until: datetime
    issuer: str

    @property
    def key_id(self) -> str:
        return self.public_key.key_id

    def to_json(self) -> dict[str, object]:
        return {
            "format": CERTIFICATE_FORMAT,
            "key_id": self.key_id,
            "public_key": b64u(self.public_key.raw),
            "state": self.state,
            "usage": self.usage.value,
            "office": self.office,
            "valid_from": instant(self.valid_from),
            "valid_until": instant(self.valid_until),
            "issuer": self.issuer,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Certificate:
        if not isinstance(data, Mapping):
            raise MalformedRecord("not a key certificate: not a JSON object")
        if data.get("format") != CERTIFICATE_FORMAT:
            raise MalformedRecord(f"not a key certificate: format {data.get('format')!r}")
        # a key id that does not match the public key is a forgery, reported by `load_trust_list`
        return cls(
            public_key=PublicKey(from_b64u(str(data["public_key"]))),
            state=str(data["state"]),
            usage=KeyUsage(str(data["usage"])),
            office=None if data.get("office") is None else str(data["office"]),
            valid_from=parse_instant(str(data["valid_from"])),
            valid_until=parse_instant(str(data["valid_until"])),
            issuer=str(data["issuer"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyEntry:
    """A certified key and what its state says of it now."""

    certificate: Certificate
    signature: bytes
    status: KeyStatus = KeyStatus.ACTIVE
    rotated_at: datetime | None = None
    compromised_at: datetime | None = None

    @property
    def key_id(self) -> str:
        return self.certificate.key_id

    def problem_signing_at(self, at: datetime) -> Problem | None:
        """Why this key could not have signed at `at`, or None when it could."""
        cert = self.certificate
        if at < cert.valid_from or at >= cert.valid_until:
            return Problem(
                "key_not_valid",
                f"key {self.key_id} was used at {instant(at)}, outside its validity "
                f"{instant(cert.valid_from)} – {instant(cert.valid_until)}",
            )
        if self.compromised_at is not None and at >= self.compromised_at:
            return Problem(
                "key_revoked",
                f"key {self.key_id} was revoked as compromised from {instant(self.compromised_at)}; "
                f"this was signed at {instant(at)}",
            )
        if self.status is KeyStatus.ROTATED and self.rotated_at is not None and at >= self.rotated_at:
            return Problem(
                "key_rotated",
                f"key {self.key_id} was rotated out at {instant(self.rotated_at)}; this was signed at {instant(at)}",
            )
        return None

    def to_json(self) -> dict[str, object]:
        return {
            "certificate": self.certificate.to_json(),
            "certificate_signature": b64u(self.signature),
            "status": self.status.value,
            "rotated_at": None if self.rotated_at is None else instant(self.rotated_at),
            "compromised_at": None if self.compromised_at is None else instant(self.compromised_at),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KeyEntry:
        return cls(
            certificate=Certificate.from_json(data["certificate"]),
            signature=from_b64u(str(data["certificate_signature"])),
            status=KeyStatus(str(data["status"])),
            rotated_at=None if data.get("rotated_at") is None else parse_instant(str(data["rotated_at"])),
            compromised_at=None if data.get("compromised_at") is None else parse_instant(str(data["compromised_at"])),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RootKey:
    state: str
    public_key: PublicKey
    valid_from: datetime
    valid_until: datetime

    @property
    def key_id(self) -> str:
        return self.public_key.key_id

    def to_json(self) -> dict[str, object]:
        return {
            "key_id": self.key_id,
            "public_key": b64u(self.public_key.raw),
            "valid_from": instant(self.valid_from),
            "valid_until": instant(self.valid_until),
        }

    @classmethod
    def from_json(cls, state: str, data: Mapping[str, Any]) -> RootKey:
        root = cls(
            state=state,
            public_key=PublicKey(from_b64u(str(data["public_key"]))),
            valid_from=parse_instant(str(data["valid_from"])),
            valid_until=parse_instant(str(data["valid_until"])),
        )
        if root.key_id != data.get("key_id"):
            raise MalformedRecord(f"root key id {data.get('key_id')} of {state} does not match its public key")
        return root


def certify(root: SigningKey, certificate: Certificate) -> KeyEntry:
    """The root's signature over a certificate. On a certificate naming another issuer, raises `ValueError`."""
    if certificate.issuer != root.key_id:
        raise ValueError("a certificate names the root that signs it as its issuer")
    return KeyEntry(certificate=certificate, signature=root.sign(canonical(certificate.to_json())))


@dataclass(frozen=True, slots=True, kw_only=True)
class StateSection:
    """One state's part of the trust list, as its root signed it."""

    state: str
    sequence: int
    updated_at: datetime
    root: RootKey
    keys: tuple[KeyEntry, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "state": self.state,
            "sequence": self.sequence,
            "updated_at": instant(self.updated_at),
            "root": self.root.to_json(),
            "keys": [k.to_json() for k in self.keys],
        }

    def sign(self, root: SigningKey) -> SignedSection:
        if root.key_id != self.root.key_id:
            raise ValueError(f"section {self.state} must be signed by its own root")
        data = canonical(self.to_json())
        return SignedSection(canonical=data, signature=root.sign(data))


@dataclass(frozen=True, slots=True)
class SignedSection:
    canonical: bytes
    signature: bytes

    def to_json(self) -> dict[str, object]:
        return {"section": json.loads(self.canonical), "signature": b64u(self.signature)}


def publish(sections: Sequence[SignedSection], *, node_key: SigningKey, node_state: str, issued_at: datetime) -> bytes:
    """The trust list document, signed by the publishing node (UTF-8 JSON, its signature over JCS)."""
    document: dict[str, object] = {
        "format": TRUST_LIST_FORMAT,
        "issued_at": instant(issued_at),
        "node_state": node_state,
        "node_key_id": node_key.key_id,
        "sections": [s.to_json() for s in sections],
    }
    document["signature"] = b64u(node_key.sign(canonical(document)))
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


@dataclass(frozen=True, slots=True)
class TrustList:
    """A verified trust list. Build it with `load_trust_list`; it answers who may sign what, when."""

    issued_at: datetime
    node_state: str
    node_key_id: str
    sections: Mapping[str, StateSection]
    keys: Mapping[str, KeyEntry]
    pinned: bool

    @property
    def roots(self) -> dict[str, str]:
        """The key id of each state's root: what a verifier pins."""
        return {state: s.root.key_id for state, s in self.sections.items()}

    def key(self, key_id: str) -> KeyEntry | None:
        return self.keys.get(key_id)

    def problem_with_signer(self, key_id: str, *, office: str | None, at: datetime, usage: KeyUsage) -> Problem | None:
        """Why `key_id` may not sign for `office` at `at`, or None when it may.

        The checks, each with its own code: the key is on the list (`unknown_key`), it serves this purpose
        (`wrong_usage`), it belongs to the office's state (`wrong_state`) and to that very office (`wrong_office`),
        and it was usable at `at` (`key_not_valid`, `key_revoked`, `key_rotated`).
        """
        entry = self.keys.get(key_id)
        if entry is None:
            return Problem("unknown_key", f"key {key_id} is not on the trust list")
        cert = entry.certificate
        if cert.usage is not usage:
            return Problem("wrong_usage", f"key {key_id} is a {cert.usage.value} key, not a {usage.value} key")
        if office is not None:
            state = office_state(office)
            if cert.state != state:
                return Problem(
                    "wrong_state",
                    f"signed for {office} of {state} with key {key_id} of another state ({cert.state}, {cert.office})",
                )
            if cert.office != office:
                return Problem("wrong_office", f"signed for {office} with key {key_id}, which belongs to {cert.office}")
        return entry.problem_signing_at(at)


def office_state(office: str) -> str:
    """The state of an office code: its first two letters (`KZ-NURZHOLY` → `KZ`)."""
    return office[:2]


def load_trust_list(data: bytes, *, pinned_roots: Mapping[str, str] | None = None) -> TrustList:
    """Parse and verify a trust list document.

    Checks every section's root signature, every certificate's signature and issuer, the document's node
    signature and, when `pinned_roots` (state → root key id) is given, that each root is the pinned one.
    On any failure, raises `VerificationError` with `trust_list_*` problems; on bytes that are not a trust
    list, raises `MalformedRecord`.
    """
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise MalformedRecord(f"not a trust list: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != TRUST_LIST_FORMAT:
        raise MalformedRecord("not a trust list: missing format silkway-trust-list/1")
    problems: list[Problem] = []
    sections: dict[str, StateSection] = {}
    try:
        for item in document["sections"]:
            section, section_problems = _section(item, pinned_roots)
            problems += section_problems
            if section.state in sections:
                problems.append(Problem("trust_list_section", f"the trust list has two sections for {section.state}"))
            sections[section.state] = section
        signed = canonical({k: v for k, v in document.items() if k != "signature"})
        signature = from_b64u(str(document["signature"]))
        node_state, node_key_id = str(document["node_state"]), str(document["node_key_id"])
        issued_at = parse_instant(str(document["issued_at"]))
    # OverflowError: an infinite number, or an instant that is past year 9999 (or before year 1) in UTC
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise MalformedRecord(f"not a trust list: {exc}") from exc
    if pinned_roots is not None:
        for state in sorted(set(pinned_roots) - set(sections)):
            problems.append(Problem("trust_list_state_missing", f"the trust list has no section for {state}"))
    keys = {k.key_id: k for s in sections.values() for k in s.keys}
    if len(keys) != sum(len(s.keys) for s in sections.values()):
        problems.append(Problem("trust_list_certificate", "a key id appears more than once in the trust list"))
    node = keys.get(node_key_id)
    if node is None or node.certificate.usage is not KeyUsage.NODE or node.certificate.state != node_state:
        problems.append(Problem("trust_list_signature", f"the publishing node key {node_key_id} is not certified"))
    elif not node.certificate.public_key.verify(signature, signed):
        problems.append(Problem("trust_list_signature", "the trust list's signature does not match its content"))
    if problems:
        raise VerificationError(problems)
    return TrustList(
        issued_at=issued_at,
        node_state=node_state,
        node_key_id=node_key_id,
        sections=sections,
        keys=keys,
        pinned=pinned_roots is not None,
    )


def verify_section(section: SignedSection, *, pinned_root: str) -> StateSection:
    """A state's section as another node received it: signed by the root the key ceremony pinned, each
    certificate signed by that root. On any failure, raises `VerificationError`; on bytes that are not a
    section, raises `MalformedRecord`."""
    try:
        body = json.loads(section.canonical.decode("utf-8"))
        state = str(body["state"])
        parsed, problems = _section({"section": body, "signature": b64u(section.signature)}, {state: pinned_root})
    except (KeyError, TypeError, ValueError, OverflowError, RecursionError) as exc:  # ValueError: not UTF-8 or JSON
        raise MalformedRecord(f"not a trust list section: {exc}") from exc
    if canonical(body) != section.canonical:
        problems.append(Problem("trust_list_section", f"the section of {state} is not in its RFC 8785 form"))
    if problems:
        raise VerificationError(problems)
    return parsed


def trust_from_sections(sections: Sequence[SignedSection], *, pinned_roots: Mapping[str, str]) -> TrustList:
    """The trust list a node verifies incoming records with: the stored sections of the states whose roots it
    pinned (its own included), each checked again. A section that fails is left out, so its keys sign nothing."""
    verified: dict[str, StateSection] = {}
    for signed in sections:
        try:
            state = str(json.loads(signed.canonical)["state"])
            if state in pinned_roots:
                verified[state] = verify_section(signed, pinned_root=pinned_roots[state])
        except (VerificationError, MalformedRecord, KeyError, TypeError, ValueError):
            continue
    keys = {k.key_id: k for s in verified.values() for k in s.keys}
    newest = max((s.updated_at for s in verified.values()), default=datetime.min.replace(tzinfo=UTC))
    return TrustList(issued_at=newest, node_state="", node_key_id="", sections=verified, keys=keys, pinned=True)


def _section(item: Mapping[str, Any], pinned_roots: Mapping[str, str] | None) -> tuple[StateSection, list[Problem]]:
    body = item["section"]
    state = str(body["state"])
    root = RootKey.from_json(state, body["root"])
    section = StateSection(
        state=state,
        sequence=int(body["sequence"]),
        updated_at=parse_instant(str(body["updated_at"])),
        root=root,
        keys=tuple(KeyEntry.from_json(k) for k in body["keys"]),
    )
    problems = []
    if pinned_roots is not None and pinned_roots.get(state) != root.key_id:
        problems.append(Problem("trust_list_root", f"the root of {state} ({root.key_id}) is not the pinned root"))
    if not root.public_key.verify(from_b64u(str(item["signature"])), canonical(body)):
        problems.append(
            Problem("trust_list_section", f"the section of {state} is not signed by its root {root.key_id}")
        )
    for entry, raw in zip(section.keys, body["keys"], strict=True):
        cert = entry.certificate
        if raw["certificate"].get("key_id") != cert.key_id:
            problems.append(
                Problem("trust_list_certificate", f"key id {raw['certificate'].get('key_id')} does not match its key")
            )
        elif cert.state != state or cert.issuer != root.key_id:
            problems.append(
                Problem("trust_list_certificate", f"key {cert.key_id} in the section of {state} names another issuer")
            )
        elif not root.public_key.verify(entry.signature, canonical(raw["certificate"])):
            problems.append(
                Problem(
                    "trust_list_certificate", f"the certificate of key {cert.key_id} is not signed by {state}'s root"
                )
            )
    return section, problems


def root_fingerprints(trust: TrustList) -> dict[str, str]:
    """What to pin: state → root key id (also the content of `silkway trust roots`)."""
    return dict(sorted(trust.roots.items()))

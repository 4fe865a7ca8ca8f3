"""The trust core on its own: keys at rest, the trust list, signed records, seals and tree heads — and
every way of tampering with them, each caught with its own problem code."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from silkway.signing.authority import CLOCK_SKEW, Authority, StoredKey
from silkway.signing.encoding import b64u, from_b64u
from silkway.signing.errors import KeyUnavailable, MalformedRecord, VerificationError
from silkway.signing.keys import KeyVault, SigningKey
from silkway.signing.records import SignedRecord, canonical, sign_record
from silkway.signing.seal import open_seal, seal, verify_seal
from silkway.signing.treehead import TreeHead, sign_tree_head, verify_tree_head
from silkway.signing.trustlist import (
    KeyEntry,
    KeyStatus,
    RootKey,
    SignedSection,
    TrustList,
    load_trust_list,
    publish,
)
from silkway.signing.verify import verify_records

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
OFFICES = {"KZ": ["KZ-ALMATY", "KZ-BORDER"], "UZ": ["UZ-BORDER"]}


class MemoryKeyStore:
    """signing.authority.KeyStore in memory."""

    def __init__(self) -> None:
        self.roots: dict[str, tuple[RootKey, bytes]] = {}
        self.entries: dict[str, StoredKey] = {}
        self.sections: dict[str, tuple[int, SignedSection]] = {}

    def root(self, state: str) -> tuple[RootKey, bytes | None] | None:
        return self.roots.get(state)

    def add_root(self, root: RootKey, sealed: bytes, *, created_at: datetime) -> None:
        self.roots[root.state] = (root, sealed)

    def keys(self, state: str) -> Sequence[StoredKey]:
        return [k for k in self.entries.values() if k.entry.certificate.state == state]

    def key(self, key_id: str) -> StoredKey | None:
        return self.entries.get(key_id)

    def add_key(self, entry: KeyEntry, sealed: bytes | None, *, created_at: datetime) -> None:
        self.entries[entry.key_id] = StoredKey(entry, sealed)

    def set_status(
        self, key_id: str, status: KeyStatus, *, rotated_at: datetime | None, compromised_at: datetime | None
    ) -> None:
        stored = self.entries[key_id]
        entry = replace(stored.entry, status=status, rotated_at=rotated_at, compromised_at=compromised_at)
        self.entries[key_id] = StoredKey(entry, stored.sealed)

    def section_sequence(self, state: str) -> int:
        return self.sections.get(state, (0, None))[0]

    def save_section(self, state: str, sequence: int, section: SignedSection, *, updated_at: datetime) -> None:
        self.sections[state] = (sequence, section)


class Node:
    """A node's keys in memory, with helpers to sign records and publish its trust list."""

    def __init__(self) -> None:
        self.vault = KeyVault("a test passphrase", work_factor=10)
        self.store = MemoryKeyStore()
        self.authority = Authority(self.store, self.vault)
        self.authority.establish(OFFICES, now=T0)

    def key(self, office: str) -> SigningKey:
        for stored in self.store.entries.values():
            entry = stored.entry
            if entry.certificate.office == office and entry.status is KeyStatus.ACTIVE:
                assert stored.sealed is not None
                return self.vault.open(stored.sealed, entry.key_id)
        raise LookupError(office)

    def node_key(self) -> SigningKey:
        for stored in self.store.entries.values():
            if stored.entry.certificate.usage.value == "node" and stored.entry.status is KeyStatus.ACTIVE:
                assert stored.sealed is not None
                return self.vault.open(stored.sealed, stored.entry.key_id)
        raise LookupError("node")

    def trust_bytes(self) -> bytes:
        sections = [s for _, (_, s) in sorted(self.store.sections.items())]
        return publish(sections, node_key=self.node_key(), node_state="KZ", issued_at=T0)

    def trust(self) -> TrustList:
        return load_trust_list(self.trust_bytes())


def chain(
    node: Node, steps: Sequence[tuple[str, str, datetime]], *, key: SigningKey | None = None
) -> list[SignedRecord]:
    """Records of one subject: (type, office, at) each, signed by the office's key (or `key`)."""
    records: list[SignedRecord] = []
    prev = None
    for seq, (type_, office, at) in enumerate(steps, start=1):
        record = sign_record(
            key=key or node.key(office),
            type=type_,
            subject="transit:26KZ0000000000001X",
            seq=seq,
            prev=prev,
            at=at,
            office=office,
            actor="officer",
            body={"seals": ["KZ1"], "decision": "green"},
        )
        records.append(record)
        prev = record.hash
    return records


STEPS = [
    ("submitted", "KZ-ALMATY", T0),
    ("released", "KZ-ALMATY", T0 + timedelta(hours=1)),
    ("presented", "KZ-BORDER", T0 + timedelta(hours=5)),
    ("presented", "UZ-BORDER", T0 + timedelta(hours=6)),
]


@pytest.fixture(scope="module")
def node() -> Node:
    return Node()


def codes(problems: Sequence[object]) -> list[tuple[str, int | None]]:
    return [(p.code, p.seq) for p in problems]  # type: ignore[attr-defined]


# --- keys at rest -------------------------------------------------------------------------------------


def test_a_sealed_key_opens_only_with_the_passphrase_and_for_its_own_key_id() -> None:
    key = SigningKey.generate()
    other = SigningKey.generate()
    sealed = KeyVault("right passphrase", work_factor=10).seal(key)

    assert KeyVault("right passphrase", work_factor=10).open(sealed, key.key_id).key_id == key.key_id
    assert key.seed() not in sealed  # encrypted, not merely encoded
    with pytest.raises(KeyUnavailable, match="wrong SILKWAY_KEY_PASSPHRASE"):
        KeyVault("wrong passphrase", work_factor=10).open(sealed, key.key_id)
    with pytest.raises(KeyUnavailable):  # moved onto another key's row
        KeyVault("right passphrase", work_factor=10).open(sealed, other.key_id)
    with pytest.raises(KeyUnavailable, match="not a sealed"):
        KeyVault("right passphrase").open(b"garbage", key.key_id)


# --- the trust list ---------------------------------------------------------------------------------------


def test_the_trust_list_certifies_every_office_and_the_node(node: Node) -> None:
    trust = node.trust()
    offices = {k.certificate.office for k in trust.keys.values()}
    assert offices == {"KZ-ALMATY", "KZ-BORDER", "UZ-BORDER", None}
    assert set(trust.roots) == {"KZ", "UZ"}
    assert load_trust_list(node.trust_bytes(), pinned_roots=trust.roots).pinned


def _edit(document: bytes, change: object) -> bytes:
    data = json.loads(document)
    change(data)  # type: ignore[operator]
    return json.dumps(data).encode()


def _swap_office_key(data: dict[str, object]) -> None:
    forger = SigningKey.generate()
    certificate = data["sections"][1]["section"]["keys"][0]["certificate"]  # type: ignore[index]
    certificate["public_key"] = b64u(forger.public.raw)
    certificate["key_id"] = forger.key_id


def _mismatched_key_id(data: dict[str, object]) -> None:
    data["sections"][1]["section"]["keys"][0]["certificate"]["key_id"] = "0" * 32  # type: ignore[index]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (_swap_office_key, "trust_list_section"),
        (_swap_office_key, "trust_list_certificate"),
        (_mismatched_key_id, "trust_list_certificate"),
        (lambda d: d["sections"][0]["section"]["keys"][0].update(status="revoked"), "trust_list_section"),
        (lambda d: d.update(issued_at="2020-01-01T00:00:00.000000Z"), "trust_list_signature"),
        (lambda d: d["sections"].pop(), "trust_list_signature"),
        (lambda d: d["sections"].append(d["sections"][0]), "trust_list_section"),
    ],
    ids=[
        "office key replaced",
        "certificate re-keyed",
        "key id mismatched",
        "status edited",
        "document edited",
        "a state removed",
        "a state twice",
    ],
)
def test_a_forged_trust_list_is_refused(node: Node, change: object, code: str) -> None:
    with pytest.raises(VerificationError) as caught:
        load_trust_list(_edit(node.trust_bytes(), change))
    assert code in caught.value.codes


def test_a_whole_trust_list_forged_with_other_roots_fails_against_pinned_roots(node: Node) -> None:
    genuine_roots = node.trust().roots
    forger = Node()  # a self-consistent list with made-up roots
    forged = forger.trust_bytes()

    assert load_trust_list(forged)  # self-consistent, which is why devices pin roots
    with pytest.raises(VerificationError) as caught:
        load_trust_list(forged, pinned_roots=genuine_roots)
    assert caught.value.codes.count("trust_list_root") == 2


def test_a_trust_list_missing_a_pinned_state_is_refused(node: Node) -> None:
    with pytest.raises(VerificationError) as caught:
        load_trust_list(node.trust_bytes(), pinned_roots={**node.trust().roots, "TJ": "0" * 32})
    assert "trust_list_state_missing" in caught.value.codes


def test_bytes_that_are_no_trust_list_are_malformed() -> None:
    for data in (b"", b"[]", b'{"format": "other"}', b"\xff\xfe"):
        with pytest.raises(MalformedRecord):
            load_trust_list(data)


# --- records ----------------------------------------------------------------------------------------------


def test_a_genuine_chain_verifies(node: Node) -> None:
    records = chain(node, STEPS)
    assert verify_records(records, node.trust()) == []
    assert records[1].fields["prev"] == records[0].hash
    assert records[0].fields["prev"] is None


def test_one_byte_changed_is_caught(node: Node) -> None:
    records = chain(node, STEPS)
    tampered = records[2].canonical.replace(b'"green"', b'"inspec"')
    records[2] = SignedRecord(canonical=tampered, signature=records[2].signature)
    assert codes(verify_records(records, node.trust())) == [("bad_signature", 3), ("chain_broken", 4)]


def test_non_canonical_bytes_are_caught_even_when_signed(node: Node) -> None:
    record = chain(node, STEPS[:1])[0]
    spaced = json.dumps(record.fields, indent=1).encode()
    forged = SignedRecord(canonical=spaced, signature=node.key("KZ-ALMATY").sign(spaced))
    assert ("not_canonical", 1) in codes(verify_records([forged], node.trust()))


def test_reordered_or_deleted_records_are_caught(node: Node) -> None:
    records = chain(node, STEPS)
    swapped = [records[0], records[2], records[1], records[3]]
    assert codes(verify_records(swapped, node.trust()))[0] == ("out_of_order", 3)
    assert codes(verify_records([records[0], records[2], records[3]], node.trust()))[0] == ("out_of_order", 3)
    assert codes(verify_records(records[1:], node.trust()))[0] == ("out_of_order", 2)


def test_a_record_re_signed_with_another_offices_key_is_caught(node: Node) -> None:
    records = chain(node, STEPS)
    forged = chain(node, STEPS, key=node.key("KZ-ALMATY"))  # Almaty signs for the KZ border post
    assert ("wrong_office", 3) in codes(verify_records(forged, node.trust()))
    assert ("wrong_office", 3) not in codes(verify_records(records, node.trust()))


def test_a_record_re_signed_with_another_states_key_is_caught(node: Node) -> None:
    forged = chain(node, [("submitted", "UZ-BORDER", T0)], key=node.key("KZ-BORDER"))
    assert codes(verify_records(forged, node.trust())) == [("wrong_state", 1)]


def test_a_key_unknown_to_the_trust_list_is_caught(node: Node) -> None:
    forged = chain(node, STEPS[:1], key=SigningKey.generate())
    assert codes(verify_records(forged, node.trust())) == [("unknown_key", 1)]


def test_a_key_used_outside_its_validity_is_caught(node: Node) -> None:
    early = chain(node, [("submitted", "KZ-ALMATY", T0 - CLOCK_SKEW - timedelta(seconds=1))])
    skewed = chain(node, [("submitted", "KZ-ALMATY", T0 - CLOCK_SKEW)])  # a node whose clock runs behind
    late = chain(node, [("submitted", "KZ-ALMATY", T0 + timedelta(days=3 * 365 + 1))])
    assert codes(verify_records(early, node.trust())) == [("key_not_valid", 1)]
    assert verify_records(skewed, node.trust()) == []
    assert codes(verify_records(late, node.trust())) == [("key_not_valid", 1)]


def test_rotation_keeps_earlier_records_valid_and_refuses_later_ones() -> None:
    node = Node()
    old_key = node.key("KZ-ALMATY")
    before = chain(node, STEPS[:2])
    rotated_at = T0 + timedelta(hours=2)
    node.authority.rotate("KZ-ALMATY", now=rotated_at)
    after = chain(node, [("submitted", "KZ-ALMATY", rotated_at + timedelta(minutes=1))], key=old_key)
    fresh = chain(node, [("submitted", "KZ-ALMATY", rotated_at + timedelta(minutes=1))])

    trust = node.trust()
    assert verify_records(before, trust) == []
    assert codes(verify_records(after, trust)) == [("key_rotated", 1)]
    assert verify_records(fresh, trust) == []
    assert node.key("KZ-ALMATY").key_id != old_key.key_id


def test_revocation_invalidates_only_what_was_signed_after_the_compromise() -> None:
    node = Node()
    stolen = node.key("KZ-BORDER")
    records = chain(node, STEPS)  # KZ-BORDER signed record 3 at T0+5h
    compromised_at = T0 + timedelta(hours=4)
    replacement = node.authority.revoke(stolen.key_id, compromised_at=compromised_at, now=T0 + timedelta(days=1))
    trust = node.trust()

    assert codes(verify_records(records, trust)) == [("key_revoked", 3)]
    assert verify_records(chain(node, STEPS[:2]), trust) == []  # other offices unaffected
    early = chain(node, [("submitted", "KZ-BORDER", T0 + timedelta(hours=3))], key=stolen)
    assert verify_records(early, trust) == []  # before the compromise: still valid
    assert replacement is not None
    assert replacement.certificate.office == "KZ-BORDER"
    assert trust.key(stolen.key_id).status is KeyStatus.REVOKED  # type: ignore[union-attr]


def test_an_envelope_clash_or_a_broken_first_record_is_refused_when_signing(node: Node) -> None:
    key = node.key("KZ-ALMATY")
    common = {"key": key, "type": "submitted", "subject": "transit:x", "at": T0, "office": "KZ-ALMATY", "actor": "a"}
    with pytest.raises(ValueError, match="clash"):
        sign_record(**common, seq=1, prev=None, body={"seq": 5})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="prev null"):
        sign_record(**common, seq=1, prev="ab", body={})  # type: ignore[arg-type]
    naive = datetime(2026, 1, 1)  # noqa: DTZ001 - naive on purpose
    with pytest.raises(ValueError, match="timezone"):
        sign_record(**{**common, "at": naive}, seq=1, prev=None, body={})  # type: ignore[arg-type]


def test_canonical_form_is_rfc_8785() -> None:
    assert canonical({"b": 1, "a": "é", "c": [True, None]}) == '{"a":"é","b":1,"c":[true,null]}'.encode()


# --- seals --------------------------------------------------------------------------------------------------

SUMMARY = {"v": 1, "mrn": "26KZ0000000000001X", "sl": ["KZ1", "KZ2"], "iss": "KZ-ALMATY", "iat": 0}


def test_a_genuine_seal_verifies_and_fits_a_qr_code(node: Node) -> None:
    text = seal(SUMMARY, node.key("KZ-ALMATY"))
    assert text.startswith("SW1:")
    assert len(text) < 300
    assert set(text[4:]) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    opened = open_seal(text)
    assert opened.summary == SUMMARY
    assert verify_seal(opened, node.trust(), office="KZ-ALMATY", at=T0 + timedelta(hours=1)) == []


def test_an_edited_seal_summary_is_caught(node: Node) -> None:
    opened = open_seal(seal(SUMMARY, node.key("KZ-ALMATY")))
    edited = replace(opened, summary={**opened.summary, "sl": ["XX9"]}, signed=opened.signed.replace(b"KZ2", b"XX9"))
    assert [p.code for p in verify_seal(edited, node.trust(), office="KZ-ALMATY", at=T0)] == ["seal_signature"]


def test_a_seal_signed_by_a_key_unknown_to_the_trust_list_is_caught(node: Node) -> None:
    opened = open_seal(seal(SUMMARY, SigningKey.generate()))
    assert [p.code for p in verify_seal(opened, node.trust(), office="KZ-ALMATY", at=T0)] == ["seal_unknown_key"]


def test_a_seal_claiming_another_issuing_office_is_caught(node: Node) -> None:
    opened = open_seal(seal(SUMMARY, node.key("KZ-ALMATY")))
    assert [p.code for p in verify_seal(opened, node.trust(), office="KZ-BORDER", at=T0)] == ["wrong_office"]


@pytest.mark.parametrize("text", ["", "HC1:ABC", "SW1:", "SW1:$$$", "SW1:" + "A" * 50])
def test_text_that_is_no_seal_is_malformed(text: str) -> None:
    with pytest.raises(MalformedRecord):
        open_seal(text)


def test_a_summary_too_large_for_a_qr_code_is_refused(node: Node) -> None:
    huge = {**SUMMARY, "sl": [SigningKey.generate().key_id for _ in range(60)]}
    with pytest.raises(ValueError, match="phone camera"):
        seal(huge, node.key("KZ-ALMATY"))


# --- tree heads ---------------------------------------------------------------------------------------------


def test_a_tree_head_verifies_and_an_altered_one_does_not(node: Node) -> None:
    head = sign_tree_head(key=node.node_key(), node_state="KZ", tree_size=5, root_hash=b"\x01" * 32, timestamp=T0)
    assert verify_tree_head(TreeHead.from_json(head.to_json()), node.trust()) == []
    bigger = replace(head, tree_size=6)
    assert [p.code for p in verify_tree_head(bigger, node.trust())] == ["tree_head_signature"]
    by_office = sign_tree_head(
        key=node.key("KZ-ALMATY"), node_state="KZ", tree_size=5, root_hash=b"\x01" * 32, timestamp=T0
    )
    assert [p.code for p in verify_tree_head(by_office, node.trust())] == ["wrong_usage"]
    with pytest.raises(MalformedRecord):
        TreeHead.from_json({**head.to_json(), "root_hash": "abc"})


def test_b64u_round_trips_and_rejects_garbage() -> None:
    assert from_b64u(b64u(b"\x00\xff\x10")) == b"\x00\xff\x10"
    with pytest.raises(ValueError, match="base64url"):
        from_b64u("a")

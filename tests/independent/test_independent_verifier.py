"""The independent verifier (written from docs/signed-records.md alone) against the checked-in vectors, against
tampering of them, against trust lists of its own making, and against a live node driven through the API."""

from __future__ import annotations

import ast
import base64
import copy
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
import verifier as v
from apiwalk import Walk

VECTORS = Path(__file__).parents[1] / "vectors"
Records = list[dict[str, Any]]


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes_raw()


def hashes(items: list[str]) -> list[bytes]:
    return [bytes.fromhex(item) for item in items]


@pytest.fixture(scope="module")
def trust_doc() -> dict[str, Any]:
    document: dict[str, Any] = load("trust-list.json")
    return document


@pytest.fixture(scope="module")
def trust(trust_doc: dict[str, Any]) -> v.TrustList:
    return v.verify_trust_list(trust_doc, load("roots.json"))


@pytest.fixture
def records() -> Records:
    served: Records = load("transit.json")["records"]
    return served


def first_problem(records: Records, trust: v.TrustList) -> tuple[str, int]:
    problems = v.verify_records(records, trust)
    assert problems, "the tampering went unnoticed"
    return problems[0][:2]


def rejected(document: dict[str, Any], pins: dict[str, str] | None = None) -> str:
    with pytest.raises(v.Rejected) as caught:
        v.verify_trust_list(document, pins)
    return caught.value.code


def resign(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The record with members changed and re-serialised canonically, keeping its old signature."""
    fields = {**json.loads(record["canonical"]), **changes}
    return {**record, "canonical": rfc8785.dumps(fields).decode()}


# The checked-in vectors -------------------------------------------------------------------------------------------


def test_the_trust_list_verifies_with_and_without_pinned_roots(trust_doc: dict[str, Any]) -> None:
    assert v.verify_trust_list(trust_doc).keys
    pinned = v.verify_trust_list(trust_doc, load("roots.json"))
    assert {entry["certificate"]["state"] for entry in pinned.keys.values()} == set(load("roots.json"))


def test_every_record_of_the_transit_verifies(records: Records, trust: v.TrustList) -> None:
    assert len(records) == 13
    assert v.verify_records(records, trust) == []


def test_the_tree_heads_inclusion_and_consistency_proofs_verify(records: Records, trust: v.TrustList) -> None:
    log = load("log.json")
    root, earlier = v.verify_tree_head(log["tree_head"], trust), v.verify_tree_head(log["earlier_tree_head"], trust)
    assert len(log["inclusion"]) == len(records)
    for record, proof in zip(records, log["inclusion"], strict=True):
        leaf = v.leaf_hash(record["canonical"].encode())
        assert leaf.hex() == proof["leaf_hash"]
        assert proof["tree_size"] == log["tree_head"]["tree_size"]
        assert v.verify_inclusion(leaf, proof["leaf_index"], proof["tree_size"], hashes(proof["audit_path"]), root)
    c = log["consistency"]
    assert (c["first"], c["second"]) == (log["earlier_tree_head"]["tree_size"], log["tree_head"]["tree_size"])
    assert v.verify_consistency(c["first"], c["second"], earlier, root, hashes(c["consistency_path"]))


@pytest.mark.parametrize("case", load("tampered.json"), ids=lambda case: case["name"])
def test_each_tampered_case_fails_with_its_code_at_its_seq(case: dict[str, Any], trust: v.TrustList) -> None:
    if case["records"] == load("transit.json")["records"]:
        pytest.xfail(f"vector defect: {case['name']!r} is identical to transit.json, so nothing can fail")
    assert first_problem(case["records"], trust) == (case["expect"], case["seq"])


# Tampering of our own ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("customs-kz", "customs-kx", "bad_signature"),
        ('"seq":3', '"seq":4', "out_of_order"),
        ('{"actor"', ' "actor"', "not_canonical"),
    ],
)
def test_one_byte_changed_in_a_record(records: Records, trust: v.TrustList, old: str, new: str, code: str) -> None:
    assert records[2]["canonical"].count(old) == 1
    records[2]["canonical"] = records[2]["canonical"].replace(old, new)
    assert first_problem(records, trust) == (code, 4 if code == "out_of_order" else 3)


def test_a_record_re_serialised_with_spaces_is_not_canonical(records: Records, trust: v.TrustList) -> None:
    records[4]["canonical"] = json.dumps(json.loads(records[4]["canonical"]), sort_keys=True)
    assert first_problem(records, trust) == ("not_canonical", 5)


def test_an_edited_prev_breaks_the_chain(records: Records, trust: v.TrustList) -> None:
    records[4] = resign(records[4], prev=hashlib.sha256(records[2]["canonical"].encode()).hexdigest())
    problems = v.verify_records(records, trust)
    assert problems[0][:2] == ("chain_broken", 5)
    assert ("bad_signature", 5) in [p[:2] for p in problems]


def test_a_record_claimed_for_another_office(records: Records, trust: v.TrustList) -> None:
    records[2] = resign(records[2], office="KZ-KARASU")
    assert [p[:2] for p in v.verify_records(records, trust)][:2] == [("bad_signature", 3), ("wrong_office", 3)]


def test_a_record_claimed_for_another_states_office(records: Records, trust: v.TrustList) -> None:
    records[2] = resign(records[2], office="UZ-OYBEK")
    assert [p[:2] for p in v.verify_records(records, trust)][:2] == [("bad_signature", 3), ("wrong_state", 3)]


def test_a_record_naming_an_unknown_key(records: Records, trust: v.TrustList) -> None:
    records[0] = resign(records[0], key_id="0" * 32)
    assert first_problem(records, trust) == ("unknown_key", 1)


def test_an_office_key_replaced_fails_its_section_signature(trust_doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(trust_doc)
    cert = doc["sections"][2]["section"]["keys"][0]["certificate"]
    public = raw(Ed25519PrivateKey.generate())
    cert["public_key"], cert["key_id"] = b64u(public), v.key_id_of(public)
    assert rejected(doc) == "section_signature"


def test_a_certificate_not_signed_by_its_root_is_rejected(trust_doc: dict[str, Any]) -> None:
    """A state that re-signs its section but not a swapped certificate: the certificate check catches it."""
    doc = copy.deepcopy(trust_doc)
    item, root = doc["sections"][5], Ed25519PrivateKey.generate()
    section = item["section"]
    section["root"].update(public_key=b64u(raw(root)), key_id=v.key_id_of(raw(root)))
    for index, entry in enumerate(section["keys"]):
        entry["certificate"]["issuer"] = section["root"]["key_id"]
        signer = Ed25519PrivateKey.generate() if index == 3 else root
        entry["certificate_signature"] = b64u(signer.sign(rfc8785.dumps(entry["certificate"])))
    item["signature"] = b64u(root.sign(rfc8785.dumps(section)))
    assert rejected(doc) == "certificate_signature"


def test_an_altered_document_signature_is_rejected(trust_doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(trust_doc)
    doc["signature"] = ("A" if doc["signature"][0] != "A" else "B") + doc["signature"][1:]
    assert rejected(doc) == "signature"
    doc = copy.deepcopy(trust_doc)
    doc["issued_at"] = "2030-01-01T00:00:00.000000Z"
    assert rejected(doc) == "signature"


def test_a_trust_list_signed_by_an_office_key_is_rejected() -> None:
    zz = State()
    office = zz.certify("office", "ZZ-ONE")
    zz.node = office
    with pytest.raises(v.Rejected, match="node_key"):
        zz.trust_list()


def test_a_pinned_root_mismatch_is_rejected(trust_doc: dict[str, Any]) -> None:
    pins = load("roots.json")
    assert rejected(trust_doc, {**pins, "UZ": pins["KZ"]}) == "root_not_pinned"
    assert rejected(trust_doc, {**pins, "XX": "0" * 32}) == "root_missing"


def test_a_flipped_hash_fails_the_inclusion_proof(trust: v.TrustList) -> None:
    log = load("log.json")
    root, proof = v.verify_tree_head(log["tree_head"], trust), log["inclusion"][5]
    leaf, path, index, size = bytes.fromhex(proof["leaf_hash"]), hashes(proof["audit_path"]), proof["leaf_index"], 15
    assert v.verify_inclusion(leaf, index, size, path, root)
    for i in range(len(path)):
        flipped = [*path[:i], bytes([path[i][0] ^ 1]) + path[i][1:], *path[i + 1 :]]
        assert not v.verify_inclusion(leaf, index, size, flipped, root)
    assert not v.verify_inclusion(leaf, index + 1, size, path, root)
    assert not v.verify_inclusion(leaf, index, size, path[:-1], root)


def test_a_consistency_proof_against_a_wrong_root_fails(trust: v.TrustList) -> None:
    log = load("log.json")
    root, earlier = v.verify_tree_head(log["tree_head"], trust), v.verify_tree_head(log["earlier_tree_head"], trust)
    c = log["consistency"]
    path = hashes(c["consistency_path"])
    wrong = hashlib.sha256(b"another log").digest()
    assert not v.verify_consistency(c["first"], c["second"], wrong, root, path)
    assert not v.verify_consistency(c["first"], c["second"], earlier, wrong, path)
    assert not v.verify_consistency(c["first"], c["second"], earlier, root, path[:-1])


def test_a_tree_head_with_an_edited_root_is_rejected(trust: v.TrustList) -> None:
    head = {**load("log.json")["tree_head"], "root_hash": "00" * 32}
    with pytest.raises(v.Rejected, match="bad_signature"):
        v.verify_tree_head(head, trust)


def test_merkle_proofs_agree_with_rebuilt_trees() -> None:
    """Every inclusion and consistency proof of trees of 1..12 leaves, built by brute force from the RFC's
    definitions (§2.1.3.1, §2.1.4.1), verifies — and no proof verifies against the wrong root."""

    def path(m: int, leaves: list[bytes]) -> list[bytes]:
        if len(leaves) == 1:
            return []
        k = 1 << ((len(leaves) - 1).bit_length() - 1)
        if m < k:
            return [*path(m, leaves[:k]), v.merkle_root(leaves[k:])]
        return [*path(m - k, leaves[k:]), v.merkle_root(leaves[:k])]

    def subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
        if m == len(leaves):
            return [] if complete else [v.merkle_root(leaves)]
        k = 1 << ((len(leaves) - 1).bit_length() - 1)
        if m <= k:
            return [*subproof(m, leaves[:k], complete), v.merkle_root(leaves[k:])]
        return [*subproof(m - k, leaves[k:], False), v.merkle_root(leaves[:k])]

    leaves = [v.leaf_hash(bytes([i])) for i in range(12)]
    for n in range(1, 13):
        root = v.merkle_root(leaves[:n])
        for m in range(n):
            assert v.verify_inclusion(leaves[m], m, n, path(m, leaves[:n]), root)
            assert not v.verify_inclusion(leaves[m], m, n, path(m, leaves[:n]), v.leaf_hash(b"x"))
        for m in range(1, n):
            first = v.merkle_root(leaves[:m])
            proof = subproof(m, leaves[:n], True)
            assert v.verify_consistency(m, n, first, root, proof), (m, n)
            assert not v.verify_consistency(m, n, v.leaf_hash(b"x"), root, proof)
            assert not v.verify_consistency(m, n, first, v.leaf_hash(b"x"), proof)


# A trust list of our own making: genuinely signed records that claim what their keys do not allow -------------

T0 = "2026-01-01T00:00:00.000000Z"


class State:
    """A made-up member state `ZZ`, its root, a node key and office keys certified as each test needs."""

    def __init__(self) -> None:
        self.root = Ed25519PrivateKey.generate()
        self.entries: list[dict[str, Any]] = []
        self.node = self.certify("node", None)

    def certify(self, usage: str, office: str | None, **entry: Any) -> Ed25519PrivateKey:
        key = Ed25519PrivateKey.generate()
        times = {
            "valid_from": entry.pop("valid_from", T0),
            "valid_until": entry.pop("valid_until", "2027-01-01T00:00:00.000000Z"),
        }
        cert: dict[str, Any] = {
            "format": "silkway-key-certificate/1",
            "key_id": v.key_id_of(raw(key)),
            "public_key": b64u(raw(key)),
            "state": "ZZ",
        }
        cert |= {"usage": usage, "office": office, "issuer": v.key_id_of(raw(self.root)), **times}
        status = {"status": "active", "rotated_at": None, "compromised_at": None, **entry}
        self.entries.append(
            {"certificate": cert, "certificate_signature": b64u(self.root.sign(rfc8785.dumps(cert))), **status}
        )
        return key

    def trust_list(self) -> v.TrustList:
        root = {
            "key_id": v.key_id_of(raw(self.root)),
            "public_key": b64u(raw(self.root)),
            "valid_from": T0,
            "valid_until": "2036-01-01T00:00:00.000000Z",
        }
        section: dict[str, Any] = {"state": "ZZ", "sequence": 1, "updated_at": T0, "root": root, "keys": self.entries}
        doc: dict[str, Any] = {
            "format": "silkway-trust-list/1",
            "issued_at": T0,
            "node_state": "ZZ",
            "node_key_id": v.key_id_of(raw(self.node)),
        }
        doc["sections"] = [{"section": section, "signature": b64u(self.root.sign(rfc8785.dumps(section)))}]
        doc["signature"] = b64u(self.node.sign(rfc8785.dumps(doc)))
        return v.verify_trust_list(doc, {"ZZ": root["key_id"]})


def signed(steps: list[tuple[Ed25519PrivateKey, str, str]], subject: str = "transit:ZZ1") -> Records:
    """A chain of records, each (key, office, at), genuinely signed by its key."""
    records: Records = []
    for seq, (key, office, at) in enumerate(steps, start=1):
        prev = hashlib.sha256(records[-1]["canonical"].encode()).hexdigest() if records else None
        fields: dict[str, Any] = {
            "type": "presented",
            "subject": subject,
            "seq": seq,
            "prev": prev,
            "at": at,
            "office": office,
        }
        canonical = rfc8785.dumps({**fields, "actor": "officer", "key_id": v.key_id_of(raw(key))})
        records.append({"canonical": canonical.decode(), "signature": b64u(key.sign(canonical))})
    return records


AT = "2026-06-01T12:00:00.000000Z"
EARLIER, LATER = "2026-06-01T11:59:59.999999Z", "2026-06-01T12:00:00.000001Z"


@pytest.mark.parametrize(
    ("make", "office", "at", "expect"),
    [
        pytest.param(lambda zz: zz.certify("office", "ZZ-ONE"), "ZZ-ONE", AT, None, id="valid"),
        pytest.param(lambda zz: zz.certify("office", "ZZ-ONE"), "ZZ-TWO", AT, "wrong_office", id="another office"),
        pytest.param(
            lambda zz: zz.certify("office", "ZZ-ONE"), "YY-ONE", AT, "wrong_state", id="another state's office"
        ),
        pytest.param(lambda zz: zz.node, "ZZ-ONE", AT, "wrong_office", id="signed by a node key"),
        pytest.param(lambda zz: Ed25519PrivateKey.generate(), "ZZ-ONE", AT, "unknown_key", id="key not on the list"),
        pytest.param(
            lambda zz: zz.certify("office", "ZZ-ONE", valid_from=LATER),
            "ZZ-ONE",
            AT,
            "key_not_valid",
            id="before valid_from",
        ),
        pytest.param(lambda zz: zz.certify("office", "ZZ-ONE", valid_from=AT), "ZZ-ONE", AT, None, id="at valid_from"),
        pytest.param(
            lambda zz: zz.certify("office", "ZZ-ONE", valid_until=AT),
            "ZZ-ONE",
            AT,
            "key_not_valid",
            id="at valid_until",
        ),
        pytest.param(
            lambda zz: zz.certify("office", "ZZ-ONE", status="rotated", rotated_at=AT),
            "ZZ-ONE",
            EARLIER,
            None,
            id="before rotation",
        ),
        pytest.param(
            lambda zz: zz.certify("office", "ZZ-ONE", status="rotated", rotated_at=AT),
            "ZZ-ONE",
            AT,
            "key_rotated",
            id="at rotation",
        ),
        pytest.param(
            lambda zz: zz.certify("office", "ZZ-ONE", status="revoked", compromised_at=AT),
            "ZZ-ONE",
            EARLIER,
            None,
            id="before compromise",
        ),
        pytest.param(
            lambda zz: zz.certify("office", "ZZ-ONE", status="revoked", compromised_at=AT),
            "ZZ-ONE",
            AT,
            "key_revoked",
            id="at compromise",
        ),
        pytest.param(
            lambda zz: zz.certify("office", "ZZ-ONE"),
            "ZZ-ONE",
            "2026-06-01T12:00:00Z",
            "malformed",
            id="at not an instant",
        ),
    ],
)
def test_genuinely_signed_records_against_their_certificates(
    make: Callable[[State], Ed25519PrivateKey], office: str, at: str, expect: str | None
) -> None:
    zz = State()
    first, key = zz.certify("office", "ZZ-HQ"), make(zz)
    problems = v.verify_records(signed([(first, "ZZ-HQ", EARLIER), (key, office, at)]), zz.trust_list())
    assert [p[:2] for p in problems] == ([(expect, 2)] if expect else [])


def test_records_of_two_subjects_are_reported() -> None:
    zz = State()
    key = zz.certify("office", "ZZ-HQ")
    records = signed([(key, "ZZ-HQ", AT)]) + signed([(key, "ZZ-HQ", AT)] * 2, subject="transit:ZZ2")[1:]
    records[1] = resign(records[1], prev=hashlib.sha256(records[0]["canonical"].encode()).hexdigest())
    records[1]["signature"] = b64u(key.sign(records[1]["canonical"].encode()))
    assert [p[:2] for p in v.verify_records(records, zz.trust_list())] == [("wrong_subject", 2)]


# A live node ------------------------------------------------------------------------------------------------------


def test_a_live_transit_verifies_from_the_trust_list_alone(client: TestClient) -> None:
    walk = Walk(client)
    walk.journey()
    trust_response = client.get("/api/v1/trust-list")
    assert trust_response.status_code == 200, trust_response.text
    trust = v.verify_trust_list(trust_response.json())
    transit = client.get(f"/api/v1/transits/{walk.mrn}", headers=walk.carrier).json()
    records = [event["record"] for event in transit["events"]]
    assert v.verify_records(records, trust) == []
    fields = [json.loads(record["canonical"]) for record in records]
    assert (fields[0]["type"], fields[-1]["type"]) == ("submitted", "discharged")
    assert {f["subject"] for f in fields} == {f"transit:{walk.mrn}"}
    assert {f["office"][:2] for f in fields} == {"KZ", "UZ", "TJ"}
    assert {trust.keys[f["key_id"]]["certificate"]["state"] for f in fields} == {"KZ", "UZ", "TJ"}
    last = trust.keys[records[-1]["key_id"]]["certificate"]
    assert (last["usage"], last["state"], last["office"]) == ("office", "TJ", "TJ-DUSHANBE-HQ")

    head = client.get("/api/v1/log/tree-head").json()
    root, size = v.verify_tree_head(head, trust), head["tree_size"]
    for record in records:
        data = record["canonical"].encode()
        assert record["hash"] == hashlib.sha256(data).hexdigest()
        leaf = v.leaf_hash(data).hex()
        query = {"leaf_hash": leaf, "tree_size": size}
        proof = client.get("/api/v1/log/proofs/inclusion", params=query).json()
        assert proof["leaf_index"] == record["log_index"]
        assert v.verify_inclusion(bytes.fromhex(leaf), proof["leaf_index"], size, hashes(proof["audit_path"]), root)

    entries = client.get("/api/v1/log/entries", params={"start": 0, "end": size}).json()["entries"]
    assert [entry["index"] for entry in entries] == list(range(size))
    leaves = hashes([entry["leaf_hash"] for entry in entries])
    assert v.merkle_root(leaves) == root
    for first in range(1, size):
        proof = client.get("/api/v1/log/proofs/consistency", params={"first": first, "second": size}).json()
        path = hashes(proof["consistency_path"])
        assert v.verify_consistency(first, size, v.merkle_root(leaves[:first]), root, path), first


# The verifier's independence --------------------------------------------------------------------------------------


def test_the_verifier_imports_only_the_standard_library_cryptography_and_rfc8785() -> None:
    tree = ast.parse(Path(v.__file__).read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            modules.add(node.module or "")
    assert modules, "the verifier imports something"
    outside = {m for m in modules if m.split(".")[0] not in sys.stdlib_module_names | {"cryptography", "rfc8785"}}
    assert outside == set()
    assert not any(
        isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__" for node in ast.walk(tree)
    )

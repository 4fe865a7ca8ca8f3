"""The trust core through the API: signed records, the trust list, the transparency log and its audit,
key rotation and revocation, and tampering with what the node stored."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from apiwalk import ROUTE, Walk
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, delete, select, text, update

from silkway.services import Services
from silkway.shared.clock import FixedClock
from silkway.signing import merkle
from silkway.signing.audit import AuditState, audit, check_inclusion
from silkway.signing.encoding import from_b64u
from silkway.signing.records import SignedRecord
from silkway.signing.treehead import TreeHead, verify_tree_head
from silkway.signing.trustlist import KeyStatus, TrustList, load_trust_list
from silkway.signing.verify import verify_records
from silkway.storage.tables import LogLeafRow, LogNodeRow, LogStateRow, TransitEventRow

PROBLEM = "application/problem+json"


def trust_of(client: TestClient) -> TrustList:
    response = client.get("/api/v1/trust-list")
    assert response.status_code == 200
    return load_trust_list(response.content)


def records_of(view: dict[str, Any]) -> list[SignedRecord]:
    return [
        SignedRecord(canonical=e["record"]["canonical"].encode(), signature=from_b64u(e["record"]["signature"]))
        for e in view["events"]
    ]


def fetcher(client: TestClient) -> Any:
    def fetch(path: str) -> Any:
        response = client.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    return fetch


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def test_every_event_of_a_whole_transit_is_signed_by_its_office_and_chained(client: TestClient) -> None:
    view = Walk(client).journey()
    records = records_of(view)
    trust = trust_of(client)

    assert verify_records(records, trust, subject=f"transit:{view['mrn']}") == []
    for event, record in zip(view["events"], records, strict=True):
        fields = record.fields
        assert (fields["type"], fields["seq"], fields["office"]) == (event["type"], event["seq"], event["office"])
        assert trust.keys[record.key_id].certificate.office == event["office"]
        assert event["record"]["hash"] == hashlib.sha256(record.canonical).hexdigest()
    assert {r.fields["office"][:2] for r in records} == {"KZ", "UZ", "TJ"}
    assert records[0].fields["actor"] == "carrier-kz"  # the declaration, received by the office of departure
    assert records[0].fields["office"] == ROUTE[0]


def test_the_trust_list_holds_every_member_state_and_office(client: TestClient, services: Services) -> None:
    trust = trust_of(client)
    states = {"KZ", "UZ", "KG", "TJ", "TM", "AZ", "AM", "BY", "MD", "RU"}  # the cargo scheme's six and the visa's ten
    assert set(trust.roots) == states
    offices = {k.certificate.office for k in trust.keys.values() if k.certificate.office}
    customs = {code for code, office in services.reference.offices.items() if office.country in states}
    airports = set(services.scheme.airports)
    consulates = {f"{cc}-CONSULAR" for cc in states}
    assert offices == customs | airports | consulates
    assert {"KZ-KORDAY", "KZ-ALA", "RU-SVO", "AM-CONSULAR"} <= offices
    assert trust.node_state == "KZ"


def test_every_record_is_in_the_log_and_the_log_only_grows(client: TestClient) -> None:
    walk = Walk(client)
    walk.submit()
    walk.release()
    fetch = fetcher(client)
    trust = trust_of(client)
    earlier = TreeHead.from_json(fetch("/api/v1/log/tree-head"))
    view = walk.journey()
    head = TreeHead.from_json(fetch("/api/v1/log/tree-head"))
    assert verify_tree_head(head, trust) == []

    for event in view["events"]:
        leaf = merkle.leaf_hash(event["record"]["canonical"].encode())
        answer = fetch(f"/api/v1/log/proofs/inclusion?leaf_hash={leaf.hex()}&tree_size={head.tree_size}")
        assert answer["leaf_index"] == event["record"]["log_index"]
        assert check_inclusion(leaf, answer, head) is None
        assert check_inclusion(merkle.leaf_hash(b"forged"), answer, head) is not None

    proof = fetch(f"/api/v1/log/proofs/consistency?first={earlier.tree_size}&second={head.tree_size}")
    path = [bytes.fromhex(h) for h in proof["consistency_path"]]
    assert merkle.verify_consistency(earlier.tree_size, head.tree_size, earlier.root_hash, head.root_hash, path)
    entries = fetch(f"/api/v1/log/entries?start=0&end={head.tree_size}")["entries"]
    assert [e["index"] for e in entries] == list(range(head.tree_size))


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("inclusion?leaf_hash=xyz&tree_size=1", 422, "invalid_input"),
        ("inclusion?leaf_hash=" + "00" * 32 + "&tree_size=1", 404, "not_found"),
        ("inclusion?leaf_hash=" + "00" * 32 + "&tree_size=999999", 422, "invalid_input"),
        ("inclusion?leaf_hash=" + "00" * 32 + "&tree_size=0", 422, "validation_error"),
        ("consistency?first=3&second=2", 422, "invalid_input"),
        ("consistency?first=1&second=999999", 422, "invalid_input"),
        ("consistency?first=one&second=2", 422, "validation_error"),
    ],
)
def test_bad_proof_requests_get_a_clear_problem(client: TestClient, query: str, status: int, code: str) -> None:
    Walk(client).journey()
    problem(client.get(f"/api/v1/log/proofs/{query}"), status, code)


def test_bad_entry_ranges_get_a_clear_problem(client: TestClient) -> None:
    problem(client.get("/api/v1/log/entries?start=5&end=5"), 422, "invalid_input")
    problem(client.get("/api/v1/log/entries?start=0&end=5000"), 422, "invalid_input")


def test_one_byte_of_a_stored_event_changed_is_caught(
    client: TestClient, services: Services, database_url: str
) -> None:
    view = Walk(client).journey()
    engine = create_engine(database_url)
    with engine.begin() as conn:
        stored = conn.execute(
            select(TransitEventRow.canonical).where(TransitEventRow.mrn == view["mrn"], TransitEventRow.seq == 3)
        ).scalar_one()
        changed = bytes(stored).replace(b'"green"', b'"greeN"')
        conn.execute(
            update(TransitEventRow)
            .where(TransitEventRow.mrn == view["mrn"], TransitEventRow.seq == 3)
            .values(canonical=changed)
        )
    engine.dispose()

    response = client.get(f"/api/v1/transits/{view['mrn']}", headers=Walk(client).carrier)
    assert problem(response, 500, "records_altered")["detail"].startswith(
        f"the records of transit {view['mrn']} fail their integrity check at event 3"
    )
    stored = [logged.record for logged in services.queries.transit_records(view["mrn"])]
    problems = verify_records(stored, trust_of(client))
    assert [(p.code, p.seq) for p in problems] == [("bad_signature", 3), ("chain_broken", 4)]
    leaf = merkle.leaf_hash(changed).hex()
    size = client.get("/api/v1/log/tree-head").json()["tree_size"]
    assert client.get(f"/api/v1/log/proofs/inclusion?leaf_hash={leaf}&tree_size={size}").status_code == 404


def _rebuild_log(database_url: str, leaves: list[bytes]) -> None:
    """What a node operator rewriting history would do: replace the log and re-derive every node."""
    nodes: dict[merkle.NodeKey, bytes] = {}
    for index, leaf in enumerate(leaves):
        nodes.update(merkle.completed_by_append(index, leaf, nodes.__getitem__))
    engine = create_engine(database_url)
    with engine.begin() as conn:
        kinds = conn.execute(select(LogLeafRow.ref)).all()
        conn.execute(delete(LogNodeRow))
        conn.execute(delete(LogLeafRow))
        conn.execute(
            LogLeafRow.__table__.insert(),
            [
                {"index": i, "leaf_hash": leaf, "kind": "transit", "ref": kinds[0].ref, "seq": i}
                for i, leaf in enumerate(leaves)
            ],
        )
        conn.execute(LogNodeRow.__table__.insert(), [{"level": k[0], "idx": k[1], "hash": h} for k, h in nodes.items()])
        conn.execute(update(LogStateRow).values(size=len(leaves)))
    engine.dispose()


def _leaves(database_url: str) -> list[bytes]:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        leaves = [bytes(h) for h in conn.execute(select(LogLeafRow.leaf_hash).order_by(LogLeafRow.index)).scalars()]
    engine.dispose()
    return leaves


def test_the_auditor_accepts_a_growing_log(client: TestClient) -> None:
    state = AuditState()
    trust = trust_of(client)
    Walk(client).journey()
    first = audit(fetcher(client), trust, state, entries=True)
    Walk(client).journey()
    second = audit(fetcher(client), trust, state, entries=True)

    assert first.ok
    assert second.ok, second.problems
    assert second.checked_heads == 1
    assert second.checked_entries == second.head.tree_size  # type: ignore[union-attr]
    assert [h.tree_size for h in state.heads] == [first.head.tree_size, second.head.tree_size]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        (lambda leaves: [leaves[1], leaves[0], *leaves[2:]], "log_forked"),  # reordered, same size
        (lambda leaves: [merkle.leaf_hash(b"rewritten"), *leaves[1:]], "log_forked"),  # rewritten, same size
        (lambda leaves: leaves[:-1], "log_truncated"),
        (lambda leaves: [*leaves[:3], *leaves[4:], merkle.leaf_hash(b"x"), merkle.leaf_hash(b"y")], "log_inconsistent"),
    ],
    ids=["reordered", "rewritten", "truncated", "deleted and grown"],
)
def test_the_auditor_catches_a_log_rewritten_after_it_saw_a_head(
    client: TestClient, database_url: str, tamper: Any, code: str
) -> None:
    state = AuditState()
    trust = trust_of(client)
    Walk(client).journey()
    assert audit(fetcher(client), trust, state).ok

    _rebuild_log(database_url, tamper(_leaves(database_url)))
    report = audit(fetcher(client), trust, state)

    assert [p.code for p in report.problems] == [code]
    assert len(state.heads) == 1  # a bad head is never accepted


def test_the_auditor_catches_entries_that_do_not_rebuild_the_signed_root(client: TestClient, database_url: str) -> None:
    Walk(client).journey()
    engine = create_engine(database_url)
    with engine.begin() as conn:  # the served entries lie, the tree nodes do not
        conn.execute(update(LogLeafRow).where(LogLeafRow.index == 2).values(leaf_hash=merkle.leaf_hash(b"lie")))
    engine.dispose()
    report = audit(fetcher(client), trust_of(client), AuditState(), entries=True)
    assert [p.code for p in report.problems] == ["log_rewritten"]


def test_a_tree_head_signed_by_someone_else_is_refused(client: TestClient) -> None:
    def forged(path: str) -> Any:
        head = client.get(path).json()
        return {**head, "tree_size": head["tree_size"] + 1}

    report = audit(forged, trust_of(client), AuditState())
    assert [p.code for p in report.problems] == ["tree_head_signature"]


def test_rotating_a_key_keeps_what_it_signed_valid(client: TestClient, services: Services, clock: FixedClock) -> None:
    walk = Walk(client)
    walk.submit()
    walk.release()
    old = trust_of(client)
    old_key = next(k.key_id for k in old.keys.values() if k.certificate.office == ROUTE[0])
    clock.advance(minutes=10)
    services.rotate_key(ROUTE[0])
    clock.advance(minutes=10)
    second = Walk(client)
    second.submit()

    trust = trust_of(client)
    assert trust.keys[old_key].status is KeyStatus.ROTATED
    assert verify_records(records_of(walk.transit()), trust) == []
    new_records = records_of(second.transit())
    assert verify_records(new_records, trust) == []
    assert new_records[0].key_id != old_key


def test_revoking_a_key_invalidates_only_what_it_signed_after_the_compromise(
    client: TestClient, services: Services, clock: FixedClock
) -> None:
    walk = Walk(client)
    walk.submit()
    walk.release()
    clock.advance(hours=1)
    compromised_at = clock.now()
    clock.advance(hours=1)
    walk.present(ROUTE[1])  # signed with the stolen key after the compromise, before anyone noticed
    key_id = records_of(walk.transit())[-1].key_id
    clock.advance(hours=1)
    replacement = services.revoke_key(key_id, compromised_at)
    walk.passage(ROUTE[1])  # the border post signs with its new key

    trust = trust_of(client)
    problems = verify_records(records_of(walk.transit()), trust)
    assert [(p.code, p.seq) for p in problems] == [("key_revoked", 3)]
    assert replacement is not None
    assert trust.keys[key_id].compromised_at == compromised_at


def test_revoking_an_unknown_key_or_rotating_an_unknown_office_is_refused(
    services: Services, clock: FixedClock
) -> None:
    from silkway.shared.errors import NotFound

    with pytest.raises(NotFound):
        services.revoke_key("0" * 32, clock.now())
    with pytest.raises(NotFound):
        services.rotate_key("KZ-NOWHERE")


def test_establishing_trust_again_creates_nothing(services: Services) -> None:
    assert services.establish_trust() == 0


def test_nothing_is_recorded_or_logged_when_a_step_is_refused(client: TestClient, database_url: str) -> None:
    walk = Walk(client)
    walk.submit()
    size = client.get("/api/v1/log/tree-head").json()["tree_size"]
    refused = client.post(
        f"/api/v1/transits/{walk.mrn}/presentations", json={"office": ROUTE[1], "seals": []}, headers=walk.customs["KZ"]
    )
    assert refused.status_code == 409
    assert client.get("/api/v1/log/tree-head").json()["tree_size"] == size
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM log_leaves")).scalar_one() == size
    engine.dispose()

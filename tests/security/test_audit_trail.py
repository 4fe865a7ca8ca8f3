"""The audit trail: every write through the API is a signed record naming its actor; each state's admin exports
its own trail, which verifies offline; and nothing the routes do edits a record once written.

One run drives every write route of the API once, as the officials who would make it. Around each request the
test reads what was added to the transparency log; the run as a whole is watched at the SQL level for any UPDATE or
DELETE of a signed record, and the log's tree head after it must extend the one before (RFC 9162 consistency).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from apiwalk import ROUTE, SEALS, Walk, auth, declaration
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from visawalk import Traveller, application

from silkway.services import Services
from silkway.shared.clock import FixedClock
from silkway.signing import merkle
from silkway.signing.encoding import from_b64u
from silkway.signing.records import SignedRecord
from silkway.signing.verify import verify_record
from silkway.storage.audit import TrailEntry
from silkway.visas.handlers import APPLICANT

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

NOT_WRITES = {
    ("POST", "/api/v1/auth/token"): "signing in records no decision; a lock-out it causes is audited",
    ("POST", "/api/v1/verify"): "checks a seal against the trust list; stores nothing",
}
"""POST routes that change nothing a state decides, each with the reason."""

SIGNED_TABLES = ("transit_events", "visa_records", "audit_records", "log_leaves", "log_nodes")
EDIT = re.compile(rf"^\s*(UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+\"?({'|'.join(SIGNED_TABLES)})\b", re.IGNORECASE)


class Writes:
    """Makes write requests and checks that each one added signed records by its actor, and only those."""

    def __init__(self, client: TestClient, services: Services) -> None:
        self.client = client
        self.services = services
        self.covered: set[tuple[str, str]] = set()

    def as_(self, username: str | None) -> dict[str, str]:
        if username is None:
            return {}
        return auth(self.client, username)  # afresh: the run moves the clock past a token's lifetime

    def request(self, method: str, template: str, actor: str | None, /, **kwargs: Any) -> Any:
        """`method` the route `template` (filled from `path`) as `actor` (None: anonymous) and check the trail."""
        path = template.format(**kwargs.pop("path", {}))
        before = self.size()
        response = self.client.request(method, path, headers=self.as_(actor), **kwargs)
        assert response.status_code in (200, 201, 204), (method, path, response.text)
        added = self.added_since(before)
        assert added, f"{method} {template} wrote no signed record"
        expected = APPLICANT if actor is None else actor
        trust = self.services.notary.verified_trust_list(self.services.clock.now())
        for entry in added:
            assert entry.actor == expected, (method, template, entry.type, entry.actor)
            assert entry.record is not None
            assert entry.record.fields["actor"] == expected
            assert verify_record(entry.record, trust, subject=entry.subject) == [], (entry.type, entry.subject)
        self.covered.add((method, template))
        return response

    def size(self) -> int:
        return self.services.notary.tree_head(self.services.clock.now()).tree_size

    def added_since(self, size: int) -> list[TrailEntry]:
        entries = [
            entry
            for state in self.services.served_states
            for entry in self.services.audit_trail.trail(state, after=size - 1)
        ]
        assert sorted(e.log_index for e in entries) == list(range(size, self.size())), "a logged record in no trail"
        return entries


@contextmanager
def edits_of_signed_records() -> Iterator[list[str]]:
    """Every SQL statement, on any engine, that would update or delete a signed record or the log."""
    seen: list[str] = []

    def watch(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if EDIT.search(statement):
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", watch)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", watch)


def api_routes(client: TestClient) -> list[tuple[str, set[str]]]:
    """(path, methods) of every API route of the app."""
    app: Any = client.app
    return [
        (str(route.path), set(route.methods or ()))
        for route in iter_route_contexts(app.routes)
        if str(route.path).startswith("/api/")
    ]


def api_writes(client: TestClient) -> set[tuple[str, str]]:
    return {(method, path) for path, methods in api_routes(client) for method in methods & WRITES}


def test_every_write_is_a_signed_record_by_its_actor_and_none_is_ever_edited(
    client: TestClient, services: Services, clock: FixedClock
) -> None:
    writes = Writes(client, services)
    head_before = services.notary.tree_head(clock.now())
    history_before = _signed_history(services)
    with edits_of_signed_records() as edits:
        _every_write(writes, clock)

    assert edits == []
    every_write = api_writes(client)
    assert len(every_write) > 20
    missing = every_write - writes.covered - set(NOT_WRITES)
    assert not missing, f"write routes this test does not drive (add them to _every_write): {sorted(missing)}"
    assert not set(NOT_WRITES) & writes.covered

    # what was there before is still there, byte for byte, and the log only grew
    history_after = _signed_history(services)
    assert {k: history_after[k] for k in history_before} == history_before
    head_after = services.notary.tree_head(clock.now())
    proof = services.notary.consistency_proof(head_before.tree_size, head_after.tree_size)
    assert merkle.verify_consistency(
        head_before.tree_size, head_after.tree_size, head_before.root_hash, head_after.root_hash, proof
    )


def _every_write(w: Writes, clock: FixedClock) -> None:
    t = "/api/v1/transits"
    carrier, kz, tj = "carrier-kz", "customs-kz", "customs-tj"

    # administration: an account, a guarantee, a risk rule put and deleted
    w.request(
        "POST",
        "/api/v1/accounts",
        "admin-kz",
        json={"username": "clerk-kz", "password": "s3cret-pw", "role": "customs"},
    )
    w.request("POST", "/api/v1/accounts/{username}/unlock", "admin-kz", path={"username": "clerk-kz"})
    w.request(
        "POST",
        "/api/v1/guarantees",
        "admin-kz",
        json={
            "reference": "GRN-AUDIT-1",
            "holder": carrier,
            "cover": {"amount": "90000.00", "currency": "USD"},
            "valid_until": (clock.now() + timedelta(days=365)).isoformat(),
        },
    )
    rule = "/api/v1/risk-rules/{rule_id}"
    w.request(
        "PUT",
        rule,
        "admin-kz",
        path={"rule_id": "audit-x"},
        json={"description": "Copper from anywhere", "hs_prefix": "74"},
    )
    w.request("DELETE", rule, "admin-kz", path={"rule_id": "audit-x"})

    # a transit from declaration to discharge, with a control, a passage and an incident on the way
    mrn = w.request("POST", t, carrier, json=declaration()).json()["mrn"]
    on = {"mrn": mrn}
    w.request(
        "POST",
        t + "/{mrn}/release",
        kz,
        path=on,
        json={"office": ROUTE[0], "seals": SEALS, "control": {"kind": "physical", "result": "satisfactory"}},
    )
    for office in ROUTE[1:-1]:
        officer = f"customs-{office[:2].lower()}"
        w.request("POST", t + "/{mrn}/presentations", officer, path=on, json={"office": office, "seals": SEALS})
        if office == ROUTE[2]:
            w.request(
                "POST",
                t + "/{mrn}/incidents",
                carrier,
                path=on,
                json={"kind": "accident", "description": "A tyre burst"},
            )
            w.request(
                "POST",
                t + "/{mrn}/controls",
                officer,
                path=on,
                json={"office": office, "kind": "physical", "result": "satisfactory", "seals": SEALS},
            )
        w.request("POST", t + "/{mrn}/passages", officer, path=on, json={"office": office})
    w.request("POST", t + "/{mrn}/arrival", tj, path=on, json={"office": ROUTE[-1], "seals": SEALS})
    w.request("POST", t + "/{mrn}/discharge", tj, path=on, json={"office": ROUTE[-1]})

    refused = w.request("POST", t, carrier, json=declaration()).json()["mrn"]
    w.request(
        "POST", t + "/{mrn}/refusal", kz, path={"mrn": refused}, json={"office": ROUTE[0], "reason": "Seals missing"}
    )
    cancelled = w.request("POST", t, carrier, json=declaration()).json()["mrn"]
    w.request("POST", t + "/{mrn}/cancellation", carrier, path={"mrn": cancelled}, json={"reason": "Order withdrawn"})

    # a visa: lodged by the traveller (anonymous), consulted on, issued, checked at the border, revoked
    traveller = Traveller(w.client, clock)
    lodged = w.request(
        "POST", "/api/v1/visa-applications", None, json=application(nationality="AFG", passport_number="P7654321")
    ).json()
    traveller.id, traveller.token, traveller.passport = lodged["id"], lodged["status_token"], "P7654321"
    application_path = {"application_id": lodged["id"]}
    w.request(
        "POST",
        "/api/v1/visa-applications/{application_id}/consultation",
        "consul-uz",
        path=application_path,
        json={"objection": False},
    )
    clock.advance(seconds=timedelta(days=8).total_seconds())  # the consulted states' silence is consent
    issued = w.request(
        "POST",
        "/api/v1/visa-applications/{application_id}/decision",
        "consul-kz",
        path=application_path,
        json={
            "decision": "issue",
            "valid_from": "2026-12-01",
            "valid_until": "2027-02-28",
            "duration_of_stay_days": 60,
            "entries": "multiple",
        },
    ).json()
    number = issued["visa_number"]
    traveller.on(date(2026, 12, 6))
    w.request(
        "POST",
        "/api/v1/border/checks",
        "border-kz",
        json={"office": "KZ-KORDAY", "direction": "entry", "passport_number": "P7654321", "visa_number": number},
    )
    w.request("POST", "/api/v1/alerts", "consul-kz", json={"name": "AUDIT TEST PERSON", "reason": "entry ban 2025"})
    w.request(
        "POST",
        "/api/v1/visas/{number}/revocation",
        "consul-uz",
        path={"number": number},
        json={"grounds": ["threat"], "reason": "new information"},
    )


def _signed_history(services: Services) -> dict[int, tuple[str, str, bytes]]:
    """Every signed record of every state by log index: its subject, hash and signature."""
    history = {}
    for state in services.served_states:
        after = -1
        while page := services.audit_trail.trail(state, after=after):
            history.update({e.log_index: (e.subject, e.hash, e.signature) for e in page})
            after = page[-1].log_index
    return history


def test_an_admin_exports_the_trail_of_its_own_state_which_verifies_offline(
    client: TestClient, services: Services, clock: FixedClock
) -> None:
    admin = auth(client, "admin-kz")
    client.put(
        "/api/v1/risk-rules/audit-y", json={"description": "Tea", "hs_prefix": "0902"}, headers=admin
    ).raise_for_status()
    Walk(client).submit()

    pages: list[dict[str, Any]] = []
    after = -1
    while True:
        response = client.get("/api/v1/audit-trail", params={"after": after, "limit": 3}, headers=admin)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["state"] == "KZ"
        pages += page["records"]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    whole = client.get("/api/v1/audit-trail", headers=admin).json()["records"]
    assert pages == whole
    assert [r["log_index"] for r in whole] == sorted(r["log_index"] for r in whole)
    kinds = {r["kind"] for r in whole}
    assert {"audit", "transit"} <= kinds
    assert any(r["type"] == "RiskRulePut" and r["actor"] == "admin-kz" for r in whole)
    assert any(r["type"] == "AccountCreated" and r["actor"] == "system" for r in whole)

    trust = services.notary.verified_trust_list(clock.now())
    kz_keys = {k for k, entry in trust.keys.items() if entry.certificate.state == "KZ"}
    for r in whole:
        assert r["key_id"] in kz_keys, r  # another state's records are not in KZ's trail
        record = SignedRecord(canonical=r["canonical"].encode(), signature=_b64u(r["signature"]))
        assert record.hash == r["hash"]
        assert verify_record(record, trust, subject=r["subject"]) == [], r

    uz = client.get("/api/v1/audit-trail", headers=auth(client, "admin-uz")).json()
    assert uz["state"] == "UZ"
    assert not {r["log_index"] for r in uz["records"]} & {r["log_index"] for r in whole}


def test_an_altered_administrative_record_fails_verification(client: TestClient, services: Services) -> None:
    admin = auth(client, "admin-kz")
    client.put(
        "/api/v1/risk-rules/audit-z", json={"description": "Salt", "hs_prefix": "2501"}, headers=admin
    ).raise_for_status()
    entry = next(
        r for r in client.get("/api/v1/audit-trail", headers=admin).json()["records"] if r["type"] == "RiskRulePut"
    )
    trust = services.notary.verified_trust_list(services.clock.now())
    forged = entry["canonical"].replace('"description":"Salt"', '"description":"Sand"').encode()
    problems = verify_record(
        SignedRecord(canonical=forged, signature=_b64u(entry["signature"])), trust, subject=entry["subject"]
    )
    assert [p.code for p in problems] == ["bad_signature"]


@pytest.mark.parametrize(("who", "status"), [(None, 401), ("customs-kz", 403), ("analyst-kz", 403), ("consul-kz", 403)])
def test_only_an_admin_exports_the_trail(client: TestClient, who: str | None, status: int) -> None:
    response = client.get("/api/v1/audit-trail", headers=auth(client, who) if who else {})
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("params", [{"after": -2}, {"limit": 0}, {"limit": 1001}, {"after": "x"}])
def test_bad_paging_is_refused(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get("/api/v1/audit-trail", params=params, headers=auth(client, "admin-kz"))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_no_route_can_change_the_trail(client: TestClient) -> None:
    trail_routes = [(path, methods) for path, methods in api_routes(client) if "/audit" in path or "/log/" in path]
    assert len(trail_routes) == 5  # the audit trail and the log's tree head, proofs and entries
    for path, methods in trail_routes:
        assert methods <= {"GET", "HEAD"}, (path, methods)
    admin = auth(client, "admin-kz")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = client.request(method, "/api/v1/audit-trail", headers=admin)
        assert response.status_code == 405, (method, response.status_code)


def _b64u(text: str) -> bytes:
    return from_b64u(text)


def test_an_admin_unlocks_on_the_accounts_page_and_downloads_the_trail_that_shows_it(
    client: TestClient, services: Services, clock: FixedClock
) -> None:
    for _ in range(5):  # the default lock-out: five failures in a row
        assert client.post("/api/v1/auth/token", data={"username": "customs-kz", "password": "wrong"}).status_code in (
            401,
            429,
        )
    assert client.post("/api/v1/auth/token", data={"username": "customs-kz", "password": "demo"}).status_code == 429

    csrf = re.compile(r'name="csrf" value="([^"]+)"')
    signed_in = client.post(
        "/signin",
        data={"csrf": csrf.findall(client.get("/signin").text)[0], "username": "admin-kz", "password": "demo"},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    page = client.get("/admin/accounts")
    assert 'action="/admin/accounts/customs-kz/unlock"' in page.text
    unlocked = client.post(
        "/admin/accounts/customs-kz/unlock", data={"csrf": csrf.findall(page.text)[0]}, follow_redirects=False
    )
    assert unlocked.status_code == 303
    assert 'action="/admin/accounts/customs-kz/unlock"' not in client.get(unlocked.headers["location"]).text
    assert client.post("/api/v1/auth/token", data={"username": "customs-kz", "password": "demo"}).status_code == 200

    download = client.get("/admin/audit-trail.jsonl")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/x-ndjson")
    assert 'filename="silkway-audit-KZ-' in download.headers["content-disposition"]
    lines = [json.loads(line) for line in download.text.splitlines()]
    assert lines == client.get("/api/v1/audit-trail", headers=auth(client, "admin-kz")).json()["records"]
    about = [(r["type"], r["actor"]) for r in lines if r["subject"] == "account:customs-kz"]
    assert about == [("AccountCreated", "system"), ("AccountLockedOut", "system"), ("AccountUnlocked", "admin-kz")]
    trust = services.notary.verified_trust_list(clock.now())
    for r in lines:
        record = SignedRecord(canonical=r["canonical"].encode(), signature=_b64u(r["signature"]))
        assert verify_record(record, trust, subject=r["subject"]) == [], r

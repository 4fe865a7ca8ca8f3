"""The transit API end to end: the inspect-once walk KZ → UZ → TJ, and every bad input refused cleanly."""

from __future__ import annotations

from typing import Any

import pytest
from apiwalk import ROUTE, SEALS, Walk, auth, declaration
from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["type"].endswith(code)
    assert body["title"]
    assert body["detail"]
    return body


def transit_count(client: TestClient) -> int:
    response = client.get("/api/v1/transits", headers=auth(client, "carrier-kz"))
    assert response.status_code == 200
    total: int = response.json()["total"]
    return total


def test_inspected_once_at_almaty_then_green_at_every_later_office(client: TestClient) -> None:
    walk = Walk(client)
    walk.submit()
    released = walk.release()
    assert released["status"] == "in_transit"
    assert released["recognised_control"] == {"office": "KZ-ALA-ZHETYSU", "kind": "physical", "result": "satisfactory"}

    for office in ROUTE[1:-1]:
        answer = walk.present(office)
        assert answer == {"mrn": walk.mrn, "office": office, "decision": "green", "reasons": []}
        walk.passage(office)

    arrival = walk.post("/arrival", {"office": ROUTE[-1], "seals": SEALS}, walk.customs["TJ"])
    assert (arrival["decision"], arrival["status"]) == ("green", "arrived")
    discharged = walk.post("/discharge", {"office": ROUTE[-1]}, walk.customs["TJ"])
    assert discharged["status"] == "discharged"

    history = walk.transit()
    types = [e["type"] for e in history["events"]]
    assert types == [
        "submitted", "released",
        "presented", "exited", "presented", "entered",
        "presented", "exited", "presented", "entered",
        "arrived", "discharged",
    ]  # fmt: skip
    assert [e["seq"] for e in history["events"]] == list(range(1, 13))
    assert "control_recorded" not in types  # never inspected twice


def test_a_differing_seal_is_answered_inspect_seal_mismatch_and_the_new_control_is_recognised(
    client: TestClient,
) -> None:
    walk = Walk(client)
    walk.submit()
    walk.release()
    walk.present("KZ-ZHIBEKZHOLY")
    walk.passage("KZ-ZHIBEKZHOLY")

    answer = walk.present("UZ-GISHTKUPRIK", seals=["KZ1234567", "KZ7654321"])
    assert (answer["decision"], answer["reasons"]) == ("inspect", ["seal_mismatch"])
    pending = walk.passage("UZ-GISHTKUPRIK", expect=409)
    assert pending["code"] == "inspection_pending"

    walk.post(
        "/controls",
        {"office": "UZ-GISHTKUPRIK", "kind": "physical", "result": "satisfactory", "seals": ["UZ000111"]},
        walk.customs["UZ"],
    )
    walk.passage("UZ-GISHTKUPRIK")
    later = walk.present("UZ-OYBEK", seals=["UZ000111"])
    assert later["decision"] == "green"
    assert walk.transit()["recognised_control"]["office"] == "UZ-GISHTKUPRIK"


def test_offices_lists_border_offices_with_their_crossing_and_opposite(client: TestClient) -> None:
    response = client.get("/api/v1/offices", params={"country": "KZ", "kind": "border"})
    assert response.status_code == 200
    offices = {o["code"]: o for o in response.json()}
    assert offices["KZ-ZHIBEKZHOLY"]["crossing"] == "KZUZ-ZHIBEKZHOLY"
    assert offices["KZ-ZHIBEKZHOLY"]["opposite"] == "UZ-GISHTKUPRIK"
    assert {o["country"] for o in offices.values()} == {"KZ"}
    assert {o["kind"] for o in offices.values()} == {"border"}
    inland = client.get("/api/v1/offices", params={"kind": "inland", "country": "TJ"}).json()
    assert "TJ-DUSHANBE-HQ" in {o["code"] for o in inland}
    assert all(o["crossing"] is None for o in inland)


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"itinerary": ["KZ-ALA-ZHETYSU", "KZ-NOWHERE"]}, 422, "invalid_declaration", "itinerary[1]"),
        (
            {"itinerary": ["KZ-ALA-ZHETYSU", "KZ-ZHIBEKZHOLY", "UZ-GISHTKUPRIK", "TJ-DUSHANBE-HQ"]},
            422,
            "incoherent_itinerary",
            "itinerary[3]",
        ),
        (
            {"itinerary": ["KZ-ALA-ZHETYSU", "KZ-ZHIBEKZHOLY", "TJ-FOTEHOBOD", "TJ-DUSHANBE-HQ"]},
            422,
            "incoherent_itinerary",
            "itinerary[1]",
        ),
        (
            {"itinerary": ["KZ-ALA-ZHETYSU", "KZ-NURZHOLY", "CN-KHORGOS", "CN-KHORGOS-RAIL"]},
            422,
            "invalid_declaration",
            "itinerary[2]",
        ),
        ({"containers": ["CSQU3054384"]}, 422, "invalid_declaration", "containers"),
    ],
    ids=["unknown-office", "incoherent-countries", "no-such-crossing", "non-member-office", "container-check-digit"],
)
def test_a_bad_declaration_is_refused_and_nothing_is_recorded(
    client: TestClient, change: dict[str, Any], status: int, code: str, field: str
) -> None:
    response = client.post("/api/v1/transits", json=declaration(**change), headers=auth(client, "carrier-kz"))
    body = problem(response, status, code)
    assert field in {e["field"] for e in body["errors"]}
    assert transit_count(client) == 0


@pytest.mark.parametrize(
    ("goods_change", "code", "field"),
    [
        ({"hs_code": "999999"}, "invalid_declaration", "goods[0].hs_code"),
        ({"gross_mass_kg": "-5"}, "validation_error", "goods.0.gross_mass_kg"),
        ({"value": {"amount": "10.00", "currency": "XYZ"}}, "invalid_declaration", "goods[0].value.currency"),
    ],
    ids=["hs-not-in-2022", "negative-mass", "unknown-currency"],
)
def test_bad_goods_are_refused_and_nothing_is_recorded(
    client: TestClient, goods_change: dict[str, Any], code: str, field: str
) -> None:
    item = {**declaration()["goods"][0], **goods_change}
    response = client.post("/api/v1/transits", json=declaration(goods=[item]), headers=auth(client, "carrier-kz"))
    body = problem(response, 422, code)
    assert field in {e["field"] for e in body["errors"]}
    assert transit_count(client) == 0


def test_an_oversized_goods_list_is_refused(client: TestClient) -> None:
    goods = declaration()["goods"] * 1000
    response = client.post("/api/v1/transits", json=declaration(goods=goods), headers=auth(client, "carrier-kz"))
    body = problem(response, 422, "validation_error")
    assert "goods" in {e["field"] for e in body["errors"]}
    assert transit_count(client) == 0


def test_999_goods_items_are_accepted(client: TestClient) -> None:
    goods = declaration()["goods"] * 999
    response = client.post("/api/v1/transits", json=declaration(goods=goods), headers=auth(client, "carrier-kz"))
    assert response.status_code == 201, response.text
    assert len(response.json()["goods"]) == 999


def test_a_guarantee_is_never_overcommitted(client: TestClient) -> None:
    carrier = auth(client, "carrier-kz")
    big = {"reference": "GRN-KZ-0001", "amount": "300000.00", "currency": "USD"}
    assert client.post("/api/v1/transits", json=declaration(guarantee=big), headers=carrier).status_code == 201
    response = client.post("/api/v1/transits", json=declaration(guarantee=big), headers=carrier)
    problem(response, 409, "guarantee_overcommitted")
    assert transit_count(client) == 1
    balances = {g["reference"]: g for g in client.get("/api/v1/guarantees", headers=carrier).json()}
    assert balances["GRN-KZ-0001"]["committed"] == "300000.00"


def test_discharge_frees_the_guarantee(client: TestClient) -> None:
    walk = Walk(client)
    full = {"reference": "GRN-KZ-0001", "amount": "500000.00", "currency": "USD"}
    walk.submit(declaration(guarantee=full, itinerary=["KZ-ALA-ZHETYSU", "KZ-AST-CUSTOMS"]))
    walk.release()
    refused = client.post("/api/v1/transits", json=declaration(guarantee=full), headers=walk.carrier)
    problem(refused, 409, "guarantee_overcommitted")
    walk.post("/arrival", {"office": "KZ-AST-CUSTOMS", "seals": SEALS}, walk.customs["KZ"])
    walk.post("/discharge", {"office": "KZ-AST-CUSTOMS"}, walk.customs["KZ"])
    again = client.post("/api/v1/transits", json=declaration(guarantee=full), headers=walk.carrier)
    assert again.status_code == 201, again.text


def test_a_guarantee_in_another_currency_or_unknown_is_refused(client: TestClient) -> None:
    carrier = auth(client, "carrier-kz")
    eur = {"reference": "GRN-KZ-0001", "amount": "10.00", "currency": "EUR"}
    problem(
        client.post("/api/v1/transits", json=declaration(guarantee=eur), headers=carrier), 422, "invalid_declaration"
    )
    unknown = {"reference": "GRN-XX-404", "amount": "10.00", "currency": "USD"}
    problem(
        client.post("/api/v1/transits", json=declaration(guarantee=unknown), headers=carrier),
        404,
        "guarantee_not_found",
    )
    assert transit_count(client) == 0


def test_a_bad_mrn_check_character_is_refused(client: TestClient) -> None:
    walk = Walk(client)
    mrn = walk.submit()
    wrong = mrn[:-1] + ("0" if mrn[-1] != "0" else "1")
    body = problem(client.get(f"/api/v1/transits/{wrong}", headers=walk.carrier), 422, "invalid_input")
    assert "check character" in body["detail"]
    body = problem(
        client.post(f"/api/v1/transits/{wrong}/release", json={"office": ROUTE[0]}, headers=walk.customs["KZ"]),
        422,
        "invalid_input",
    )
    assert walk.transit()["status"] == "submitted"


def test_an_officer_of_another_state_cannot_act_and_nothing_is_recorded(client: TestClient) -> None:
    walk = Walk(client)
    walk.submit()
    walk.release()
    response = client.post(
        f"/api/v1/transits/{walk.mrn}/presentations",
        json={"office": "UZ-GISHTKUPRIK", "seals": SEALS},
        headers=walk.customs["KZ"],
    )
    problem(response, 403, "not_permitted")
    assert len(walk.transit()["events"]) == 2


def test_release_in_the_wrong_state_is_refused(client: TestClient) -> None:
    walk = Walk(client)
    walk.submit()
    response = client.post(
        f"/api/v1/transits/{walk.mrn}/release",
        json={"office": "UZ-TAS-CUSTOMS", "seals": SEALS, "control": {"kind": "physical", "result": "satisfactory"}},
        headers=walk.customs["UZ"],
    )
    problem(response, 403, "wrong_office")
    assert walk.transit()["status"] == "submitted"


def test_an_illegal_action_names_the_status_and_the_allowed_actions(client: TestClient) -> None:
    walk = Walk(client)
    walk.submit()
    response = client.post(
        f"/api/v1/transits/{walk.mrn}/discharge", json={"office": ROUTE[-1]}, headers=walk.customs["TJ"]
    )
    body = problem(response, 409, "action_not_allowed")
    assert body["current_status"] == "submitted"
    assert body["allowed_actions"] == ["release", "refuse", "cancel"]
    assert "submitted" in body["detail"]
    walk.release()
    again = client.post(
        f"/api/v1/transits/{walk.mrn}/cancellation", json={"reason": "changed my mind"}, headers=walk.carrier
    )
    assert problem(again, 409, "action_not_allowed")["current_status"] == "in_transit"
    assert len(walk.transit()["events"]) == 2


def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer_and_records_once(client: TestClient) -> None:
    carrier = auth(client, "carrier-kz") | {"Idempotency-Key": "decl-0001"}
    first = client.post("/api/v1/transits", json=declaration(), headers=carrier)
    second = client.post("/api/v1/transits", json=declaration(), headers=carrier)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert transit_count(client) == 1

    other = declaration(vehicle={"plate": "777XYZ02", "country": "KZ"})
    problem(client.post("/api/v1/transits", json=other, headers=carrier), 422, "idempotency_key_reused")
    assert transit_count(client) == 1


def test_an_idempotent_presentation_is_recorded_once(client: TestClient) -> None:
    walk = Walk(client)
    walk.submit()
    walk.release()
    headers = walk.customs["KZ"] | {"Idempotency-Key": "present-1"}
    body = {"office": "KZ-ZHIBEKZHOLY", "seals": SEALS}
    answers = [client.post(f"/api/v1/transits/{walk.mrn}/presentations", json=body, headers=headers) for _ in range(3)]
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    assert [e["type"] for e in walk.transit()["events"]].count("presented") == 1


def test_carriers_see_only_their_own_transits_and_customs_only_those_touching_their_state(client: TestClient) -> None:
    walk = Walk(client)
    walk.submit()
    admin = auth(client, "admin-kz")
    created = client.post(
        "/api/v1/accounts", json={"username": "carrier-two", "password": "secret-2", "role": "carrier"}, headers=admin
    )
    assert created.status_code == 201, created.text
    other = auth(client, "carrier-two", "secret-2")
    problem(client.get(f"/api/v1/transits/{walk.mrn}", headers=other), 404, "transit_not_found")
    assert client.get("/api/v1/transits", headers=other).json()["total"] == 0

    problem(client.get(f"/api/v1/transits/{walk.mrn}", headers=walk.customs["KG"]), 404, "transit_not_found")
    assert client.get("/api/v1/transits", headers=walk.customs["KG"]).json()["total"] == 0
    assert client.get("/api/v1/transits", headers=walk.customs["UZ"]).json()["total"] == 1
    analyst = auth(client, "analyst-kz")
    problem(client.get("/api/v1/transits", headers=analyst), 403, "not_permitted")


def test_transits_are_paginated_and_filtered(client: TestClient) -> None:
    walk = Walk(client)
    mrns = [walk.submit() for _ in range(3)]
    walk.release()
    page = client.get("/api/v1/transits", params={"limit": 2}, headers=walk.carrier).json()
    assert page["total"] == 3
    assert [t["mrn"] for t in page["items"]] == mrns[::-1][:2]
    second = client.get("/api/v1/transits", params={"limit": 2, "offset": 2}, headers=walk.carrier).json()
    assert [t["mrn"] for t in second["items"]] == [mrns[0]]
    moving = client.get("/api/v1/transits", params={"status": "in_transit"}, headers=walk.carrier).json()
    assert [t["mrn"] for t in moving["items"]] == [mrns[-1]]
    at_office = client.get("/api/v1/transits", params={"office": "TJ-DUSHANBE-HQ"}, headers=walk.carrier).json()
    assert at_office["total"] == 3
    elsewhere = client.get("/api/v1/transits", params={"office": "KG-AKJOL"}, headers=walk.carrier).json()
    assert elsewhere["total"] == 0


def test_a_states_risk_rule_applies_at_its_own_offices_only(client: TestClient) -> None:
    admin_uz = auth(client, "admin-uz")
    rule = {"description": "every laptop, every time", "hs_prefix": "8471", "required_control": None}
    put = client.put("/api/v1/risk-rules/laptops", json=rule, headers=admin_uz)
    assert put.status_code == 200, put.text
    assert put.json()["country"] == "UZ"

    walk = Walk(client)
    walk.submit()
    walk.release()
    assert walk.present("KZ-ZHIBEKZHOLY")["decision"] == "green"
    walk.passage("KZ-ZHIBEKZHOLY")
    answer = walk.present("UZ-GISHTKUPRIK")
    assert (answer["decision"], answer["reasons"]) == ("inspect", ["risk_rule:laptops"])

    kz_rules = client.get("/api/v1/risk-rules", headers=auth(client, "admin-kz")).json()
    assert "laptops" not in {r["id"] for r in kz_rules}
    problem(client.put("/api/v1/risk-rules/laptops", json=rule, headers=walk.customs["UZ"]), 403, "not_permitted")


def test_a_risk_rule_satisfied_by_the_earlier_control_does_not_inspect_again(client: TestClient) -> None:
    rule = {"description": "laptops need a scan", "hs_prefix": "8471", "required_control": "scan"}
    assert client.put("/api/v1/risk-rules/laptop-scan", json=rule, headers=auth(client, "admin-uz")).status_code == 200
    walk = Walk(client)
    walk.submit()
    walk.release(kind="physical")
    walk.present("KZ-ZHIBEKZHOLY")
    walk.passage("KZ-ZHIBEKZHOLY")
    assert walk.present("UZ-GISHTKUPRIK")["decision"] == "green"


def test_sign_in_with_a_wrong_password_is_refused(client: TestClient) -> None:
    response = client.post("/api/v1/auth/token", data={"username": "carrier-kz", "password": "nope"})
    problem(response, 401, "bad_credentials")
    problem(client.get("/api/v1/transits"), 401, "invalid_token")
    problem(
        client.get("/api/v1/transits", headers={"Authorization": "Bearer forged.token.value"}), 401, "invalid_token"
    )


def test_analysts_see_their_states_statistics(client: TestClient) -> None:
    walk = Walk(client)
    walk.submit()
    walk.release()
    walk.present("KZ-ZHIBEKZHOLY")
    stats = client.get("/api/v1/statistics", headers=auth(client, "analyst-kz")).json()
    assert stats["country"] == "KZ"
    assert stats["transits_by_status"] == {"in_transit": 1}
    assert (stats["presentations"], stats["inspections_avoided"]) == (1, 1)
    problem(client.get("/api/v1/statistics", headers=walk.carrier), 403, "not_permitted")


def test_unknown_routes_and_methods_answer_problem_json(client: TestClient) -> None:
    problem(client.get("/api/v1/nowhere"), 404, "not_found")
    problem(client.delete("/api/v1/offices"), 405, "method_not_allowed")


def test_the_home_page_links_the_docs_and_the_demo_accounts(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert 'href="/docs"' in page.text
    assert "customs-uz" in page.text
    assert client.get("/openapi.json").json()["info"]["title"] == "Silkway"

"""The Commonwealth Visa through the API: apply, issue, cross three borders, revoke, refused everywhere."""

from __future__ import annotations

from datetime import date
from typing import Any

from apiwalk import auth
from fastapi.testclient import TestClient
from visawalk import Traveller, application

from silkway.shared.clock import FixedClock

PROBLEM = "application/problem+json"


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def test_a_traveller_applies_gets_a_visa_and_crosses_kz_kg_uz_with_the_right_days_at_each_step(
    client: TestClient, clock: FixedClock
) -> None:
    t = Traveller(client, clock)
    lodged = t.apply()
    assert lodged["competent_state"] == "KZ"
    assert lodged["status"] == "lodged"
    issued = t.decide()
    assert issued["status"] == "issued"
    assert issued["visa_number"].startswith("KZ")
    visa = client.get(f"/api/v1/visas/{t.number}", headers=auth(client, "border-kz")).json()
    assert visa["states"] == ["KZ", "UZ", "KG", "TJ", "TM", "AZ", "AM", "BY", "MD", "RU"]
    assert [len(line) for line in visa["mrz"]] == [44, 44]
    assert visa["mrz"][0].startswith("V<KAZSHARMA<<PRIYA<")

    # 1 Dec: enters Kazakhstan at Korday; Kazakhstan allows 30 consecutive days, so 1-30 Dec
    t.on(date(2026, 12, 1))
    entry = t.cross("KZ-KORDAY", "entry")
    assert entry["allowed"] is True, entry
    assert entry["reasons"] == []
    assert (entry["days_remaining"], entry["latest_exit"]) == (30, "2026-12-30")
    assert t.stay()["days_used"] == 1

    # 11 Dec: leaves for Kyrgyzstan the same day; 11 days used of the visa's 60, so 49 remain, until 29 Jan
    t.on(date(2026, 12, 11))
    left = t.cross("KZ-KORDAY", "exit")
    assert left["allowed"] is True
    assert left["flags"] == []
    assert (left["days_remaining"], left["latest_exit"]) == (19, "2026-12-30")
    arrived = t.cross("KG-AKJOL", "entry")
    assert arrived["allowed"] is True, arrived
    assert [f["code"] for f in arrived["flags"]] == ["changeover"]
    assert (arrived["days_remaining"], arrived["latest_exit"]) == (49, "2027-01-29")
    stay = t.stay()
    assert (stay["days_used"], stay["days_remaining"], stay["state"]) == (11, 49, "KG")

    # 20 Dec out of Kyrgyzstan; 25 Dec into Uzbekistan: 20 days used, 40 remain, but 30 in a row in UZ
    t.on(date(2026, 12, 20))
    assert t.cross("KG-DOSTUK", "exit")["allowed"] is True
    t.on(date(2026, 12, 25))
    uz = t.cross("UZ-DUSTLIK", "entry", by_seal=False)
    assert uz["allowed"] is True, uz
    assert uz["flags"] == []
    assert (uz["days_remaining"], uz["latest_exit"]) == (30, "2027-01-23")
    stay = t.stay()
    assert (stay["days_used"], stay["days_used_on_visa"], stay["present"]) == (21, 21, True), stay

    # Uzbekistan revokes; the next Kazakh check refuses, and Kazakhstan (the issuer) is notified
    revoked = client.post(
        f"/api/v1/visas/{t.number}/revocation",
        json={"grounds": ["unreliable_information"], "reason": "the hotel booking was forged"},
        headers=auth(client, "consul-uz"),
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["notified"] == "KZ"
    notices = client.get("/api/v1/visa-notifications", headers=auth(client, "consul-kz")).json()["items"]
    assert [(n["visa_number"], n["revoked_by"]) for n in notices] == [(t.number, "UZ")]
    t.on(date(2026, 12, 28))
    out = t.cross("UZ-GISHTKUPRIK", "exit")
    assert out["allowed"] is True  # no one is held at the border; the revocation is flagged
    assert "visa_revoked" in [f["code"] for f in out["flags"]]
    refused = t.cross("KZ-ZHIBEKZHOLY", "entry")
    assert refused["allowed"] is False
    assert [r["code"] for r in refused["reasons"]] == ["visa_revoked"]
    assert (refused["days_remaining"], refused["latest_exit"]) == (0, None)


def test_the_application_status_is_only_for_the_token_holder_and_the_competent_consul(
    client: TestClient, clock: FixedClock
) -> None:
    t = Traveller(client, clock)
    t.apply()
    assert t.status()["applicant"]["passport_number"] == "Z1234567"
    problem(client.get(f"/api/v1/visa-applications/{t.id}", params={"token": "wrong"}), 404, "application_not_found")
    problem(client.get(f"/api/v1/visa-applications/{t.id}"), 404, "application_not_found")
    problem(client.get(f"/api/v1/visa-applications/{t.id}", headers=auth(client, "consul-uz")), 403, "not_permitted")
    as_consul = client.get(f"/api/v1/visa-applications/{t.id}", headers=auth(client, "consul-kz"))
    assert as_consul.status_code == 200
    assert as_consul.json()["alert_hits"] == []


def test_bad_applications_get_clear_errors(client: TestClient) -> None:
    cases = {
        "passport expires too soon": (application(passport_expiry="2027-03-01"), "passport_expiry"),
        "dates in the past": (application(**{"from": "2026-11-01", "to": "2026-11-10"}), "from"),
        "dates reversed": (application(**{"from": "2026-12-10", "to": "2026-12-01"}), "to"),
        "stay over 90 days": (application(**{"from": "2026-12-01", "to": "2027-03-15"}), "to"),
        "needs no visa": (application(nationality="RUS"), "nationality"),
        "unknown nationality": (application(nationality="QQQ"), "nationality"),
        "state outside the scheme": (application(states=["KZ", "CN"], main_destination="KZ"), "states[1]"),
    }
    for name, (body, field) in cases.items():
        response = client.post("/api/v1/visa-applications", json=body)
        assert response.status_code == 422, (name, response.text)
        assert response.headers["content-type"].startswith(PROBLEM), name
        assert field in [e["field"] for e in response.json()["errors"]], (name, response.json())
    no_mrz = client.post("/api/v1/visa-applications", json=application(surname="王", given_names="小明"))
    problem(no_mrz, 422, "no_mrz_form")

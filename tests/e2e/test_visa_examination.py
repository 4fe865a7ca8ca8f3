"""Examining a Commonwealth Visa application through the API: the competent state, prior consultation,
refusals and their grounds, bad decisions, the shared alert list, and what is kept about the applicant.

Expected values are worked out here from the rules (Visa Code Arts. 5, 22, 25 and 32, scheme.toml), not
read from the code under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apiwalk import auth
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from visawalk import Traveller, application, problem

from silkway import bootstrap
from silkway.demo import load_demo
from silkway.services import Services
from silkway.settings import Settings
from silkway.shared.clock import FixedClock
from silkway.storage.tables import metadata
from silkway.web.app import create_app

STATES = ["KZ", "UZ", "KG", "TJ", "TM", "AZ", "AM", "BY", "MD", "RU"]
LODGED_AT = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)  # the `clock` fixture's instant

# An Afghan national: needs a visa everywhere, eligible everywhere, and UZ, TJ, TM and RU ask to be consulted
AFGHAN = application(
    surname="AHMADZAI",
    given_names="WAHIDULLAH",
    native_name=None,
    nationality="AFG",
    date_of_birth="1985-07-03",
    sex="M",
    passport_number="P01234567",
    passport_expiry="2030-06-30",
    states=["KZ"],
    main_destination=None,
    entries="single",
    purpose="business",
    **{"from": "2026-12-05", "to": "2026-12-20"},
)
ISSUE = {
    "decision": "issue",
    "valid_from": "2026-12-01",
    "valid_until": "2027-02-28",
    "duration_of_stay_days": 60,
    "entries": "multiple",
}
LTV = {**ISSUE, "decision": "issue_ltv"}
AFGHAN_VISA = {
    "valid_from": "2026-12-05",
    "valid_until": "2026-12-31",
    "duration_of_stay_days": 16,
    "entries": "single",
}


def decision(client: TestClient, t: Traveller, who: str | None, body: dict[str, Any]) -> Any:
    headers = auth(client, who) if who else {}
    return client.post(f"/api/v1/visa-applications/{t.id}/decision", json=body, headers=headers)


def reply(client: TestClient, t: Traveller, consul: str, **body: Any) -> Any:
    return client.post(f"/api/v1/visa-applications/{t.id}/consultation", json=body, headers=auth(client, consul))


def consulted_on(client: TestClient, consul: str) -> list[str]:
    response = client.get("/api/v1/visa-consultations", headers=auth(client, consul))
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def visa(client: TestClient, number: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/visas/{number}", headers=auth(client, "border-kz"))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# --- the competent state (Visa Code Art. 5) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "competent"),
    [
        pytest.param({"states": ["UZ"], "main_destination": None}, "UZ", id="the sole destination"),
        pytest.param({"states": ["KZ", "KG", "UZ"], "main_destination": "UZ"}, "UZ", id="the main destination named"),
        pytest.param(
            {
                "states": ["KZ", "KG", "UZ"],
                "main_destination": None,
                "itinerary": [
                    {"state": "KZ", "from": "2026-12-01", "to": "2026-12-05"},
                    {"state": "KG", "from": "2026-12-06", "to": "2026-12-25"},
                    {"state": "UZ", "from": "2026-12-26", "to": "2027-01-04"},
                ],
            },
            "KG",
            id="the most days on the itinerary",
        ),
        pytest.param(
            {
                "states": ["UZ", "KZ", "KG"],
                "main_destination": None,
                "itinerary": [
                    {"state": "UZ", "from": "2026-12-01", "to": "2026-12-05"},
                    {"state": "KZ", "from": "2026-12-06", "to": "2026-12-15"},
                    {"state": "KG", "from": "2026-12-16", "to": "2026-12-25"},
                ],
            },
            "UZ",
            id="a tie for the most days: the state of first entry",
        ),
        pytest.param({"states": ["KG", "KZ"], "main_destination": None}, "KG", id="no main destination: first entry"),
    ],
)
def test_the_competent_state_follows_article_5(
    client: TestClient, clock: FixedClock, changes: dict[str, Any], competent: str
) -> None:
    lodged = Traveller(client, clock).apply(application(**changes))
    assert lodged["competent_state"] == competent
    assert lodged["consultation_until"] is None  # Indian nationals: no state asked to be consulted
    # the competent consul sees it in its queue; another state's does not
    queue = client.get("/api/v1/visa-applications", headers=auth(client, f"consul-{competent.lower()}")).json()
    assert [a["id"] for a in queue["items"]] == [lodged["id"]]
    other = "kz" if competent != "KZ" else "uz"
    assert client.get("/api/v1/visa-applications", headers=auth(client, f"consul-{other}")).json()["items"] == []


def test_the_fee_is_shared_by_the_days_on_the_itinerary(client: TestClient, clock: FixedClock) -> None:
    itinerary = [
        {"state": "KZ", "from": "2026-12-01", "to": "2026-12-05"},  # 5 days
        {"state": "KG", "from": "2026-12-06", "to": "2026-12-25"},  # 20 days: the main destination
        {"state": "UZ", "from": "2026-12-26", "to": "2027-01-04"},  # 10 days
    ]
    body = application(states=["KZ", "KG", "UZ"], main_destination=None, itinerary=itinerary)
    fee = Traveller(client, clock).apply(body)["fee"]
    # 60 USD: half to KG for examining, the other 30 split 5:10 between KZ and UZ
    assert fee == {"amount": "60.00", "currency": "USD", "shares": {"KG": "30.00", "KZ": "10.00", "UZ": "20.00"}}


def test_an_itinerary_naming_a_state_not_listed_is_refused(client: TestClient) -> None:
    body = application(
        states=["KZ", "KG"],
        main_destination=None,
        itinerary=[{"state": "UZ", "from": "2026-12-01", "to": "2026-12-05"}],
    )
    problem(client.post("/api/v1/visa-applications", json=body), 422, "invalid_input", "itinerary[0].state")


# --- prior consultation (Art. 22) and limited territorial validity (Art. 25) --------------------------------


def test_an_objection_leads_to_a_visa_that_excludes_the_objecting_state(client: TestClient, clock: FixedClock) -> None:
    t = Traveller(client, clock)
    lodged = t.apply(AFGHAN)
    assert lodged["competent_state"] == "KZ"
    assert datetime.fromisoformat(lodged["consultation_until"]) == LODGED_AT + timedelta(days=7)

    # while UZ, TJ, TM and RU may object, KZ cannot issue
    problem(decision(client, t, "consul-kz", {"decision": "issue", **AFGHAN_VISA}), 409, "decision_not_allowed")
    for consul in ("consul-uz", "consul-tj", "consul-tm", "consul-ru"):
        assert consulted_on(client, consul) == [t.id], consul
    for consul in ("consul-kz", "consul-kg", "consul-az"):
        assert consulted_on(client, consul) == [], consul
    as_uz = client.get(f"/api/v1/visa-applications/{t.id}", headers=auth(client, "consul-uz"))
    assert as_uz.status_code == 200, as_uz.text
    assert as_uz.json()["applicant"]["nationality"] == "AFG"
    problem(client.get(f"/api/v1/visa-applications/{t.id}", headers=auth(client, "consul-kg")), 403, "not_permitted")

    objected = reply(client, t, "consul-uz", objection=True, grounds=["threat"], reason="listed by the UZ services")
    assert objected.status_code == 200, objected.text
    states = {c["state"]: c for c in objected.json()["consultation"]["states"]}
    assert (states["UZ"]["answered"], states["UZ"]["objection"], states["UZ"]["grounds"]) == (True, True, ["threat"])
    assert [s for s, c in states.items() if not c["answered"]] == ["TJ", "TM", "RU"]
    assert consulted_on(client, "consul-uz") == []
    problem(reply(client, t, "consul-uz", objection=False), 409, "decision_not_allowed")  # a second answer
    problem(reply(client, t, "consul-kg", objection=False), 403, "not_permitted")  # not consulted
    problem(reply(client, t, "consul-kz", objection=False), 403, "not_permitted")  # the competent state
    for consul in ("consul-tj", "consul-tm", "consul-ru"):
        cleared = reply(client, t, consul, objection=False)
        assert cleared.status_code == 200, cleared.text
    assert t.status()["consultation"]["open"] is False

    # every state answered, UZ against: a uniform visa is refused, one without UZ is issued
    uniform = decision(client, t, "consul-kz", {"decision": "issue", **AFGHAN_VISA})
    problem(uniform, 409, "decision_not_allowed", "excluded_states")
    limited = decision(client, t, "consul-kz", {"decision": "issue_ltv", "excluded_states": ["UZ"], **AFGHAN_VISA})
    assert limited.status_code == 200, limited.text
    assert limited.json()["status"] == "issued_ltv"
    t.number = limited.json()["visa_number"]
    issued = visa(client, t.number)
    assert issued["type"] == "limited_territorial_validity"
    assert issued["states"] == [s for s in STATES if s != "UZ"]
    assert issued["excluded_states"] == ["UZ"]

    # on the journey: turned back at Tashkent airport, let in at Korday
    t.on(date(2026, 12, 6))
    at_tashkent = t.cross("UZ-TAS", "entry")
    assert at_tashkent["allowed"] is False
    assert [r["code"] for r in at_tashkent["reasons"]] == ["not_valid_in_state"]
    at_korday = t.cross("KZ-KORDAY", "entry")
    assert at_korday["allowed"] is True, at_korday
    assert (at_korday["days_remaining"], at_korday["latest_exit"]) == (16, "2026-12-21")


def test_silence_until_the_deadline_counts_as_consent_but_the_objection_stands(
    client: TestClient, clock: FixedClock
) -> None:
    t = Traveller(client, clock)
    t.apply(AFGHAN)
    assert (
        reply(client, t, "consul-uz", objection=True, grounds=["threat"], reason="on a watch list").status_code == 200
    )
    ltv = {"decision": "issue_ltv", "excluded_states": ["UZ"], **AFGHAN_VISA}
    problem(decision(client, t, "consul-kz", ltv), 409, "decision_not_allowed")  # TJ, TM and RU may still object

    clock.advance(seconds=timedelta(days=8).total_seconds())
    problem(
        reply(client, t, "consul-tj", objection=True, grounds=["threat"], reason="too late"),
        409,
        "decision_not_allowed",
    )
    assert consulted_on(client, "consul-tj") == []
    assert t.status()["consultation"]["open"] is False
    problem(decision(client, t, "consul-kz", {"decision": "issue", **AFGHAN_VISA}), 409, "decision_not_allowed")
    issued = decision(client, t, "consul-kz", ltv)
    assert issued.status_code == 200, issued.text
    assert issued.json()["status"] == "issued_ltv"
    t.number = issued.json()["visa_number"]
    assert "UZ" not in visa(client, t.number)["states"]

    t.on(date(2026, 12, 6))
    refused = t.cross("UZ-DUSTLIK", "entry", by_seal=False)
    assert refused["allowed"] is False
    assert [r["code"] for r in refused["reasons"]] == ["not_valid_in_state"]


def test_the_competent_consul_may_refuse_during_consultation_and_then_no_one_may_answer(
    client: TestClient, clock: FixedClock
) -> None:
    t = Traveller(client, clock)
    t.apply(AFGHAN)
    refused = decision(client, t, "consul-kz", {"decision": "refuse", "grounds": ["return_not_ascertained"]})
    assert refused.status_code == 200, refused.text
    assert refused.json()["status"] == "refused"
    assert consulted_on(client, "consul-uz") == []
    problem(reply(client, t, "consul-uz", objection=False), 409, "decision_not_allowed")
    problem(reply(client, t, "consul-uz", objection=True, grounds=[], reason="x"), 422, "invalid_input", "grounds")


# --- refusal (Art. 32) ---------------------------------------------------------------------------------------


def test_a_refusal_tells_the_applicant_the_grounds_what_to_do_and_until_when_to_appeal(
    client: TestClient, clock: FixedClock
) -> None:
    t = Traveller(client, clock)
    t.apply()
    refuse = {"decision": "refuse", "grounds": ["purpose_not_justified", "no_medical_insurance"]}
    problem(decision(client, t, "consul-kz", {**refuse, "grounds": ["rude"]}), 422, "invalid_input", "grounds")
    problem(decision(client, t, "consul-kz", {**refuse, "grounds": []}), 422, "invalid_input", "grounds")
    problem(decision(client, t, "consul-kz", {**refuse, "grounds": [" "]}), 422, "validation_error", "grounds.0")
    problem(decision(client, t, "consul-uz", refuse), 403, "not_permitted")
    problem(decision(client, t, "border-kz", refuse), 403, "not_permitted")
    problem(decision(client, t, None, refuse), 401, "invalid_token")
    assert t.status()["status"] == "lodged"

    # 20:00 UTC on 23 Nov is already 24 Nov in Almaty: the decision day is the competent state's
    t.on(date(2026, 11, 23), hour=20)
    decided = decision(client, t, "consul-kz", refuse)
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "refused"
    assert decided.json()["visa_number"] is None

    view = t.status()
    assert view["status"] == "refused"
    assert view["visa"] is None
    refusal = view["refusal"]
    assert refusal["appeal_until"] == "2026-12-24"  # 24 Nov + 30 days
    grounds = {g["code"]: g for g in refusal["grounds"]}
    assert list(grounds) == ["purpose_not_justified", "no_medical_insurance"]
    assert grounds["purpose_not_justified"]["article"] == "32(1)(a)(ii)"
    assert "purpose" in grounds["purpose_not_justified"]["text"]
    assert "invitation" in grounds["purpose_not_justified"]["what_you_can_do"]
    assert grounds["no_medical_insurance"]["article"] == "32(1)(a)(vii)"
    assert "insurance" in grounds["no_medical_insurance"]["text"]
    assert "insurance" in grounds["no_medical_insurance"]["what_you_can_do"]

    problem(decision(client, t, "consul-kz", refuse), 409, "decision_not_allowed")
    problem(decision(client, t, "consul-kz", ISSUE), 409, "decision_not_allowed")


# --- bad decisions -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        pytest.param({"decision": "issue"}, "invalid_input", "valid_from", id="issue without terms"),
        pytest.param({**ISSUE, "entries": None}, "invalid_input", "entries", id="issue without entries"),
        pytest.param({**ISSUE, "valid_from": "2026-11-20"}, "invalid_input", "valid_from", id="valid from yesterday"),
        pytest.param({**ISSUE, "valid_until": "2026-11-30"}, "invalid_input", "valid_until", id="until before from"),
        pytest.param(
            {**ISSUE, "valid_until": "2026-12-10", "duration_of_stay_days": 11},
            "invalid_input",
            "duration_of_stay_days",
            id="duration over the validity",
        ),
        pytest.param({**ISSUE, "duration_of_stay_days": 91}, "validation_error", "duration_of_stay_days", id="91 days"),
        pytest.param({**ISSUE, "duration_of_stay_days": 0}, "validation_error", "duration_of_stay_days", id="0 days"),
        pytest.param(
            {**ISSUE, "valid_until": "2031-04-01"}, "invalid_input", "valid_until", id="beyond the passport's expiry"
        ),
        pytest.param({**ISSUE, "excluded_states": ["UZ"]}, "invalid_input", "excluded_states", id="uniform excludes"),
        pytest.param(LTV, "invalid_input", "excluded_states", id="ltv excludes nothing"),
        pytest.param(
            {**LTV, "excluded_states": ["KZ"]}, "invalid_input", "excluded_states[0]", id="ltv excludes the issuer"
        ),
        pytest.param(
            {**LTV, "excluded_states": ["UZ", "CN"]}, "invalid_input", "excluded_states[1]", id="ltv excludes CN"
        ),
        pytest.param({**ISSUE, "decision": "grant"}, "validation_error", "decision", id="unknown decision"),
    ],
)
def test_impossible_decisions_are_refused_and_change_nothing(
    client: TestClient, clock: FixedClock, body: dict[str, Any], code: str, field: str
) -> None:
    t = Traveller(client, clock)
    t.apply()  # passport valid until 2031-03-31
    problem(decision(client, t, "consul-kz", body), 422, code, field)
    assert t.status()["status"] == "lodged"
    assert t.decide()["status"] == "issued"


def test_a_visa_may_run_to_the_last_day_of_the_passport(client: TestClient, clock: FixedClock) -> None:
    t = Traveller(client, clock)
    t.apply()
    assert t.decide(valid_until="2031-03-31")["status"] == "issued"
    assert visa(client, t.number)["valid_until"] == "2031-03-31"


# --- the shared alert list -----------------------------------------------------------------------------------


def test_an_alert_in_another_script_is_a_hit_for_the_consul_and_near_misses_are_not(
    client: TestClient, clock: FixedClock
) -> None:
    t = Traveller(client, clock)
    t.apply()  # SHARMA PRIYA, born 12 Apr 1990
    uz, kg = auth(client, "consul-uz"), auth(client, "consul-kg")
    demo = [a["id"] for a in client.get("/api/v1/alerts", headers=uz).json()["items"]]

    def alert(who: dict[str, str], **body: Any) -> str:
        response = client.post("/api/v1/alerts", json={"reason": "entry ban 2024", **body}, headers=who)
        assert response.status_code == 201, response.text
        result: dict[str, str] = response.json()
        return result["id"]

    hit = alert(uz, name="Шарма Прия", date_of_birth="1990-04-12")
    other_year = alert(kg, name="Sharma Priya", date_of_birth="1991-04-12")
    other_person = alert(uz, name="Иванова Мария", date_of_birth="1990-04-12")

    found = client.get(f"/api/v1/visa-applications/{t.id}", headers=auth(client, "consul-kz")).json()["alert_hits"]
    assert [(h["alert_id"], h["entered_by_state"], h["name"]) for h in found] == [(hit, "UZ", "Шарма Прия")]
    assert found[0]["date_of_birth"] == "1990-04-12"
    assert found[0]["matched_on"] == "SHARMA PRIYA"
    assert "alert_hits" not in t.status()  # the applicant does not see the alert list

    guard = auth(client, "border-tj")
    listed = client.get("/api/v1/alerts", headers=guard)
    assert listed.status_code == 200, listed.text
    entered_by = {a["id"]: a["state"] for a in listed.json()["items"]}
    assert entered_by.keys() == {*demo, hit, other_year, other_person}
    assert (entered_by[hit], entered_by[other_year], entered_by[other_person]) == ("UZ", "KG", "UZ")
    problem(client.post("/api/v1/alerts", json={"name": "X Y", "reason": "r"}, headers=guard), 403, "not_permitted")
    problem(client.get("/api/v1/alerts", headers=auth(client, "carrier-kz")), 403, "not_permitted")
    problem(client.get("/api/v1/alerts"), 401, "invalid_token")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        pytest.param({"name": "", "reason": "r"}, "validation_error", "name", id="empty name"),
        pytest.param({"name": "   ", "reason": "r"}, "validation_error", "name", id="blank name"),
        pytest.param({"name": "Ivanov Ivan", "reason": " "}, "validation_error", "reason", id="blank reason"),
        pytest.param(
            {"name": "Ivanov Ivan", "nationality": "XX", "reason": "r"}, "validation_error", "nationality", id="XX"
        ),
        pytest.param(
            {"name": "Ivanov Ivan", "reason": "r", "expires_on": "2026-11-20"},
            "invalid_input",
            "expires_on",
            id="expired",
        ),
    ],
)
def test_bad_alerts_are_refused(client: TestClient, body: dict[str, Any], code: str, field: str) -> None:
    consul = auth(client, "consul-uz")
    before = client.get("/api/v1/alerts", headers=consul).json()["items"]  # the demo's fictitious entries
    problem(client.post("/api/v1/alerts", json=body, headers=consul), 422, code, field)
    assert client.get("/api/v1/alerts", headers=consul).json()["items"] == before


# --- what is kept about the applicant ------------------------------------------------------------------------


def test_the_applicant_sees_every_record_kept_and_when_it_will_be_erased(client: TestClient, clock: FixedClock) -> None:
    t = Traveller(client, clock)
    t.issued()  # valid until 28 Feb 2027
    t.on(date(2026, 12, 1))
    assert t.cross("KZ-KORDAY", "entry")["allowed"] is True

    response = client.get(f"/api/v1/visa-applications/{t.id}/data", params={"token": t.token})
    assert response.status_code == 200, response.text
    data = response.json()
    assert [r["type"] for r in data["records"]] == ["application_lodged", "visa_issued", "border_checked"]
    assert [r["office"] for r in data["records"]] == ["KZ-CONSULAR", "KZ-CONSULAR", "KZ-KORDAY"]
    assert all(r["content"] is not None and r["hash"] for r in data["records"])
    assert data["application"]["applicant"]["passport_number"] == "Z1234567"
    # five years after the visa's validity ends; the crossing's three years end sooner
    assert data["retention"]["erase_after"] == (date(2027, 2, 28) + timedelta(days=1825)).isoformat()
    assert data["shared_with"] == STATES

    wrong = t.token[:-1] + ("y" if t.token.endswith("x") else "x")  # one character off, never the token itself
    missing = client.get(f"/api/v1/visa-applications/{t.id}/data", params={"token": wrong})
    problem(missing, 404, "application_not_found")
    problem(client.get(f"/api/v1/visa-applications/{t.id}/data", params={"token": ""}), 404, "application_not_found")


PASSPORT = "Q7W3E9R1T"


def _everything_stored(database_url: str) -> list[bytes]:
    """Every value of every row of every table, as bytes."""
    engine = create_engine(database_url)
    values: list[bytes] = []
    try:
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                for row in conn.execute(select(table)):
                    for value in row:
                        if value is None:
                            continue
                        values.append(bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode())
    finally:
        engine.dispose()
    return values


def _a_whole_life_with_passport(client: TestClient, clock: FixedClock) -> Traveller:
    """Lodged, consulted on, issued, crossed, revoked — each POST with an Idempotency-Key, whose answer is kept."""
    t = Traveller(client, clock)
    t.apply(AFGHAN | {"passport_number": PASSPORT})
    cleared = client.post(
        f"/api/v1/visa-applications/{t.id}/consultation",
        json={"objection": False},
        headers={**auth(client, "consul-ru"), "Idempotency-Key": "privacy-1"},
    )
    assert cleared.status_code == 200, cleared.text
    clock.advance(seconds=timedelta(days=8).total_seconds())
    issued = client.post(
        f"/api/v1/visa-applications/{t.id}/decision",
        json={"decision": "issue", **AFGHAN_VISA},
        headers={**auth(client, "consul-kz"), "Idempotency-Key": "privacy-2"},
    )
    assert issued.status_code == 200, issued.text
    t.number = issued.json()["visa_number"]
    t.on(date(2026, 12, 6))
    entered = t.check("KZ-KORDAY", "entry", headers={"Idempotency-Key": "privacy-3"})
    assert entered.status_code == 200, entered.text
    assert entered.json()["allowed"] is True
    revoked = client.post(
        f"/api/v1/visas/{t.number}/revocation",
        json={"grounds": ["threat"], "reason": "new information"},
        headers={**auth(client, "consul-uz"), "Idempotency-Key": "privacy-4"},
    )
    assert revoked.status_code == 200, revoked.text
    return t


def test_the_passport_number_is_in_no_table_yet_the_visa_is_found_by_it(
    client: TestClient, clock: FixedClock, services: Services
) -> None:
    t = _a_whole_life_with_passport(client, clock)
    stored = _everything_stored(services.settings.database_url)
    assert stored  # the scan saw the rows
    assert [v for v in stored if PASSPORT.encode() in v] == []
    stay = client.get(f"/api/v1/visas/{t.number}/stay", params={"passport_number": PASSPORT})
    assert stay.status_code == 200, stay.text
    assert [(c["state"], c["direction"]) for c in stay.json()["crossings"]] == [("KZ", "entry")]
    assert t.status()["applicant"]["passport_number"] == PASSPORT


def test_the_passport_number_is_nowhere_in_the_sqlite_file(tmp_path: Path) -> None:
    """The embedded pilot's database file, its journal included, read as bytes (PostgreSQL: the table scan above)."""
    database = tmp_path / "pilot.db"
    url = f"sqlite:///{database}"
    bootstrap.migrate(url)
    clock = FixedClock(datetime(2026, 11, 21, 8, 0, tzinfo=UTC))
    services = bootstrap.build(Settings(env="test", database_url=url), clock=clock)
    try:
        services.establish_trust()
        load_demo(services)
        with TestClient(create_app(services)) as client:
            _a_whole_life_with_passport(client, clock)
    finally:
        services.close()
    files = list(tmp_path.glob("pilot.db*"))
    assert database in files
    for file in files:
        assert PASSPORT.encode() not in file.read_bytes(), file


# --- the scheme, as published --------------------------------------------------------------------------------


def test_the_scheme_lists_its_ten_states_and_the_refusal_grounds(client: TestClient) -> None:
    response = client.get("/api/v1/visa-scheme")
    assert response.status_code == 200, response.text
    scheme = response.json()
    assert scheme["participating"] == STATES
    assert (scheme["consultation_days"], scheme["appeal_days"], scheme["max_stay_days"]) == (7, 30, 90)
    assert scheme["fee"] == {"amount": "60.00", "currency": "USD", "competent_share": "0.50"}
    assert scheme["states"]["UZ"]["consulted_nationalities"] == ["AFG"]
    assert scheme["states"]["KG"]["max_consecutive_days"] == 60
    grounds = {g["code"]: g["article"] for g in scheme["refusal_grounds"]}
    assert grounds == {
        "false_document": "32(1)(a)(i)",
        "purpose_not_justified": "32(1)(a)(ii)",
        "insufficient_means": "32(1)(a)(iii)",
        "stay_exhausted": "32(1)(a)(iv)",
        "alert_refusal": "32(1)(a)(v)",
        "threat": "32(1)(a)(vi)",
        "no_medical_insurance": "32(1)(a)(vii)",
        "unreliable_information": "32(1)(b)",
        "return_not_ascertained": "32(1)(b)",
    }

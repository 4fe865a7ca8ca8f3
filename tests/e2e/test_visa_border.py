"""The border check of the Commonwealth Visa through the API: bad input, seals, flags, validity, overstays,
the holder's own view of the visa, and retried checks.

Days are counted as the stay rule counts them (EU 610/2013: the entry day and the exit day are days of
presence), and the day of a crossing is the calendar day at the border post; expected numbers are worked
out here from the rules and the visa's terms, not read from the code under test.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from apiwalk import auth
from fastapi.testclient import TestClient
from visawalk import Traveller, application, problem

from silkway.documents import read_payloads
from silkway.shared.clock import FixedClock

PREFIX = "SWV1:"
BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def codes(findings: list[dict[str, str]]) -> list[str]:
    return [f["code"] for f in findings]


def changed(payload: str, at: int) -> str:
    """`payload` with the character at `at` changed, still valid Base45.

    The first character of a Base45 triplet is its least significant digit: changing it by one changes the
    two bytes the triplet stands for by one, and never takes them past 65535.
    """
    body = payload[len(PREFIX) :]
    i = (at - len(PREFIX)) // 3 * 3
    digit = BASE45.index(body[i])
    return PREFIX + body[:i] + BASE45[digit - 1 if digit else 1] + body[i + 1 :]


def crossings(t: Traveller) -> list[tuple[str, str, str]]:
    return [(c["day"], c["state"], c["direction"]) for c in t.stay()["crossings"]]


def checked(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# --- bad input -----------------------------------------------------------------------------------------------


def test_a_check_needs_a_post_of_the_guards_own_state_and_a_seal_or_a_visa_number(
    client: TestClient, clock: FixedClock
) -> None:
    t = Traveller(client, clock)
    t.issued()
    t.on(date(2026, 12, 1))
    problem(t.check("KZ-NOWHERE", "entry", guard="border-kz"), 422, "invalid_input", "office")
    problem(t.check("KZ-ALA-ZHETYSU", "entry", guard="border-kz"), 422, "invalid_input", "office")  # inland customs
    problem(t.check("UZ-DUSTLIK", "entry", guard="border-kz"), 403, "not_permitted")
    problem(t.check("KZ-KORDAY", "entry", guard="customs-kz"), 403, "not_permitted")
    problem(t.check("KZ-KORDAY", "entry", guard="consul-kz"), 403, "not_permitted")
    anonymous = client.post(
        "/api/v1/border/checks",
        json={"office": "KZ-KORDAY", "direction": "entry", "passport_number": t.passport, "visa_number": t.number},
    )
    problem(anonymous, 401, "invalid_token")
    problem(t.check("KZ-KORDAY", "entry", visa_number=None), 422, "invalid_input", "seal", "visa_number")
    problem(t.check("KZ-KORDAY", "entry", passport_number="Z123-4567"), 422, "invalid_input", "passport_number")
    problem(t.check("KZ-KORDAY", "entry", passport_number="Z12345678901"), 422, "invalid_input", "passport_number")
    problem(t.check("KZ-KORDAY", "sideways"), 422, "validation_error", "direction")
    assert crossings(t) == []  # none of that was a crossing

    unknown = checked(t.check("KZ-KORDAY", "entry", visa_number="KZ9999999"))
    assert (unknown["allowed"], codes(unknown["reasons"]), unknown["recorded"]) == (False, ["visa_unknown"], False)
    assert (unknown["days_remaining"], unknown["latest_exit"]) == (0, None)


@pytest.mark.parametrize(
    "where",
    [
        pytest.param(lambda seal: len(seal) // 2, id="in the middle, among the sealed MRZ"),
        pytest.param(lambda seal: len(seal) - 48, id="in the signature"),
    ],
)
def test_a_seal_changed_by_one_character_is_refused(client: TestClient, clock: FixedClock, where: Any) -> None:
    t = Traveller(client, clock)
    t.issued()
    t.on(date(2026, 12, 1))
    seal = t.seal()
    forged = changed(seal, where(seal))
    assert forged != seal
    assert len(forged) == len(seal)
    refused = checked(t.check("KZ-KORDAY", "entry", visa_number=None, seal=forged))
    assert refused["allowed"] is False
    assert codes(refused["reasons"]) == ["seal_signature"]
    assert crossings(t) == []  # a refused entry is recorded, but is no presence
    assert checked(t.check("KZ-KORDAY", "entry", visa_number=None, seal=seal))["allowed"] is True


def test_a_seal_that_is_not_a_seal_is_refused_as_malformed(client: TestClient, clock: FixedClock) -> None:
    t = Traveller(client, clock)
    t.issued()
    t.on(date(2026, 12, 1))
    seal = t.seal()
    refused = checked(t.check("KZ-KORDAY", "entry", visa_number=None, seal=seal[:-3]))
    assert refused["allowed"] is False
    assert codes(refused["reasons"]) == ["seal_malformed", "visa_unknown"]


def test_a_genuine_seal_presented_with_another_passport_is_refused(client: TestClient, clock: FixedClock) -> None:
    holder = Traveller(client, clock)
    holder.issued()
    other = Traveller(client, clock)
    other.issued(application(passport_number="Y7654321", surname="VERMA", given_names="ANIL", native_name=None))
    holder.on(date(2026, 12, 1))
    refused = checked(holder.check("KZ-KORDAY", "entry", visa_number=None, seal=other.seal()))
    assert refused["allowed"] is False
    assert codes(refused["reasons"]) == ["passport_mismatch"]
    assert refused["visa_number"] == other.number
    by_number = checked(holder.check("KZ-KORDAY", "entry", visa_number=other.number))
    assert codes(by_number["reasons"]) == ["passport_mismatch"]
    assert crossings(holder) == []
    assert crossings(other) == []


# --- flags ---------------------------------------------------------------------------------------------------


def test_an_exit_with_no_recorded_entry_is_let_through_and_flagged(client: TestClient, clock: FixedClock) -> None:
    t = Traveller(client, clock)
    t.issued()  # 1 Dec 2026 to 28 Feb 2027, 60 days, multiple entries
    t.on(date(2026, 12, 1))
    out = t.cross("KZ-KORDAY", "exit")
    assert (out["allowed"], out["recorded"], codes(out["flags"]), out["reasons"]) == (
        True,
        True,
        ["exit_without_entry"],
        [],
    )
    assert crossings(t) == [("2026-12-01", "KZ", "exit")]
    assert t.stay()["days_used"] == 1  # the exit day alone counts


def test_an_entry_while_still_recorded_elsewhere_is_flagged(client: TestClient, clock: FixedClock) -> None:
    t = Traveller(client, clock)
    t.issued()  # 60 days
    t.on(date(2026, 12, 1))
    assert t.cross("KZ-KORDAY", "entry")["flags"] == []
    t.on(date(2026, 12, 5))
    entry = t.cross("KG-AKJOL", "entry")
    assert (entry["allowed"], codes(entry["flags"])) == (True, ["entry_without_exit"])
    # KZ taken as left on 5 Dec: 1-5 Dec used, so 55 more days on the visa, to 29 Jan (KG allows 60 in a row)
    assert (entry["days_remaining"], entry["latest_exit"]) == (55, "2027-01-29")


def test_a_single_entry_visa_allows_moving_on_between_states_but_not_a_second_entry(
    client: TestClient, clock: FixedClock
) -> None:
    t = Traveller(client, clock)
    t.issued(application(entries="single"), entries="single", valid_until="2027-01-31", duration_of_stay_days=30)
    t.on(date(2026, 12, 1))
    assert t.cross("KZ-KORDAY", "entry")["allowed"] is True
    t.on(date(2026, 12, 3))
    assert t.cross("KZ-KORDAY", "exit")["allowed"] is True
    moved = t.cross("KG-AKJOL", "entry")
    assert (moved["allowed"], codes(moved["flags"])) == (True, ["changeover"])
    t.on(date(2026, 12, 5))
    assert t.cross("KG-DOSTUK", "exit")["allowed"] is True
    t.on(date(2026, 12, 10))
    again = t.cross("KZ-ZHIBEKZHOLY", "entry")
    assert (again["allowed"], codes(again["reasons"])) == (False, ["entries_used"])
    assert (again["days_remaining"], again["latest_exit"]) == (0, None)
    assert crossings(t) == [
        ("2026-12-01", "KZ", "entry"),
        ("2026-12-03", "KZ", "exit"),
        ("2026-12-03", "KG", "entry"),
        ("2026-12-05", "KG", "exit"),
    ]


# --- validity ------------------------------------------------------------------------------------------------


def test_a_visa_is_refused_before_and_after_its_validity_by_the_posts_own_calendar(
    client: TestClient, clock: FixedClock
) -> None:
    t = Traveller(client, clock)
    t.issued(application(to="2026-12-20"), valid_from="2026-12-01", valid_until="2026-12-20", duration_of_stay_days=20)
    t.on(date(2026, 11, 30))
    early = t.cross("KZ-KORDAY", "entry")
    assert (early["allowed"], codes(early["reasons"])) == (False, ["not_yet_valid"])
    assert (early["days_remaining"], early["latest_exit"]) == (0, None)

    # 20:00 UTC on 20 Dec: already 21 Dec in Almaty, still 20 Dec (23:00) in Minsk
    t.on(date(2026, 12, 20), hour=20)
    late = t.cross("KZ-KORDAY", "entry")
    assert (late["allowed"], codes(late["reasons"])) == (False, ["visa_expired"])
    minsk = t.cross("BY-MSQ", "entry")
    assert (minsk["allowed"], minsk["reasons"]) == (True, [])
    assert (minsk["days_remaining"], minsk["latest_exit"]) == (1, "2026-12-20")
    assert crossings(t) == [("2026-12-20", "BY", "entry")]


# --- overstay ------------------------------------------------------------------------------------------------


def test_an_overstay_is_flagged_on_exit_and_listed_for_the_analysts(client: TestClient, clock: FixedClock) -> None:
    left = Traveller(client, clock)
    left.issued(duration_of_stay_days=10)
    stayed = Traveller(client, clock)
    stayed.issued(application(passport_number="Y7654321"), duration_of_stay_days=10)

    left.on(date(2026, 12, 1))
    for t in (left, stayed):
        entry = t.cross("KZ-KORDAY", "entry")
        # 10 days on the visa from 1 Dec (KZ's own limit, 30 in a row, is further off)
        assert (entry["allowed"], entry["days_remaining"], entry["latest_exit"]) == (True, 10, "2026-12-10")

    # leaves on 16 Dec: 1-16 Dec is 16 days of presence, 6 beyond the visa's 10
    left.on(date(2026, 12, 16))
    out = left.cross("KZ-KORDAY", "exit")
    assert (out["allowed"], codes(out["flags"]), out["overstay_days"]) == (True, ["overstay"], 6)
    assert (out["days_remaining"], out["latest_exit"]) == (0, None)
    stay = left.stay()  # the exit day is a day of presence
    assert (stay["present"], stay["days_used"], stay["days_used_on_visa"], stay["overstay_days"]) == (True, 16, 16, 6)

    listed = client.get("/api/v1/overstayers", headers=auth(client, "analyst-kz"))
    assert listed.status_code == 200, listed.text
    assert listed.json()["on"] == "2026-12-16"
    rows = [
        (o["visa_number"], o["left"], o["overstay_days"], o["since"], o["latest_exit"], o["nationality"])
        for o in listed.json()["items"]
    ]
    assert rows == [
        (left.number, True, 6, "2026-12-16", None, "IND"),
        (stayed.number, False, 6, "2026-12-01", "2026-12-10", "IND"),
    ]
    assert client.get("/api/v1/overstayers", headers=auth(client, "analyst-kg")).json()["items"] == []
    problem(client.get("/api/v1/overstayers", headers=auth(client, "consul-kz")), 403, "not_permitted")


def test_a_national_limit_shorter_than_the_visa_is_what_an_overstay_is_counted_against(
    client: TestClient, clock: FixedClock
) -> None:
    t = Traveller(client, clock)
    t.issued()  # 60 days on the visa; KZ allows 30 in a row
    t.on(date(2026, 12, 1))
    assert t.cross("KZ-KORDAY", "entry")["latest_exit"] == "2026-12-30"
    t.on(date(2027, 1, 4))
    out = t.cross("KZ-KORDAY", "exit")
    # 1 Dec - 4 Jan is 35 days in KZ in a row: 5 beyond KZ's 30, while 35 of the visa's 60 are fine
    assert (out["allowed"], codes(out["flags"]), out["overstay_days"]) == (True, ["overstay"], 5)


def test_the_holders_count_is_by_the_calendar_of_the_state_they_are_in(client: TestClient, clock: FixedClock) -> None:
    t = Traveller(client, clock)
    t.issued()
    # 20:00 UTC on 1 Dec is 2 Dec in Almaty: the entry is on 2 Dec, and so is the holder's count at that moment
    t.on(date(2026, 12, 1), hour=20)
    entry = t.cross("KZ-KORDAY", "entry")
    assert (entry["days_remaining"], entry["latest_exit"]) == (30, "2026-12-31")
    stay = t.stay()
    assert (stay["on"], stay["present"], stay["state"], stay["days_used"]) == ("2026-12-02", True, "KZ", 1)
    assert (stay["days_remaining"], stay["latest_exit"]) == (29, "2026-12-31")


# --- checking without recording ------------------------------------------------------------------------------


def test_a_check_with_record_false_records_nothing(client: TestClient, clock: FixedClock) -> None:
    t = Traveller(client, clock)
    t.issued()
    t.on(date(2026, 12, 1))
    looked = checked(t.check("KZ-KORDAY", "entry", record=False))
    assert (looked["allowed"], looked["recorded"], looked["latest_exit"]) == (True, False, "2026-12-30")
    assert crossings(t) == []
    assert checked(t.check("KZ-KORDAY", "entry"))["recorded"] is True
    t.on(date(2026, 12, 4))
    assert checked(t.check("KZ-KORDAY", "exit", record=False))["recorded"] is False
    assert crossings(t) == [("2026-12-01", "KZ", "entry")]
    stay = t.stay()
    assert (stay["present"], stay["state"], stay["days_used"]) == (True, "KZ", 4)


# --- the visa, its seal and its document ---------------------------------------------------------------------


def test_the_visa_is_shown_to_officers_and_to_its_holder_only(client: TestClient, clock: FixedClock) -> None:
    t = Traveller(client, clock)
    number = t.issued()
    url = f"/api/v1/visas/{number}"
    problem(client.get(f"{url}/stay", params={"passport_number": "Z7654321"}), 404, "visa_not_found")
    problem(client.get(f"{url}/stay"), 422, "validation_error", "query.passport_number")
    problem(client.get(url), 404, "visa_not_found")
    problem(client.get(url, params={"passport_number": "Z7654321"}), 404, "visa_not_found")
    problem(client.get(url, headers=auth(client, "carrier-kz")), 403, "not_permitted")
    problem(client.get("/api/v1/visas/KZ9999999", headers=auth(client, "border-kz")), 404, "visa_not_found")
    for who in ("border-kz", "border-md", "consul-am"):
        shown = client.get(url, headers=auth(client, who))
        assert shown.status_code == 200, (who, shown.text)
        assert shown.json()["number"] == number
    holder = client.get(url, params={"passport_number": "z1234567"})
    assert holder.status_code == 200, holder.text
    assert holder.json()["passport_number"] == "Z1234567"


def test_the_seal_as_a_qr_code_and_the_pdf_carry_the_same_payload(client: TestClient, clock: FixedClock) -> None:
    t = Traveller(client, clock)
    number = t.issued()
    payload = t.seal()
    assert payload.startswith(PREFIX)

    png = client.get(f"/api/v1/visas/{number}/seal", params={"format": "png", "passport_number": t.passport})
    assert png.status_code == 200, png.text
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert read_payloads(png.content) == [payload]

    pdf = client.get(f"/api/v1/visas/{number}/document", params={"lang": "kk", "passport_number": t.passport})
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-language"] == "kk"
    assert pdf.content.startswith(b"%PDF")
    assert read_payloads(pdf.content) == [payload]
    problem(
        client.get(f"/api/v1/visas/{number}/document", params={"lang": "fr", "passport_number": t.passport}),
        422,
        "invalid_input",
        "lang",
    )


# --- retries -------------------------------------------------------------------------------------------------


def test_a_retried_check_with_the_same_idempotency_key_records_one_crossing(
    client: TestClient, clock: FixedClock
) -> None:
    t = Traveller(client, clock)
    t.issued()
    t.on(date(2026, 12, 1))
    key = {"Idempotency-Key": "korday-0001"}
    first = t.check("KZ-KORDAY", "entry", headers=key)
    again = t.check("KZ-KORDAY", "entry", headers=key)
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert crossings(t) == [("2026-12-01", "KZ", "entry")]
    problem(t.check("KZ-KORDAY", "exit", headers=key), 422, "idempotency_key_reused", "Idempotency-Key")
    assert crossings(t) == [("2026-12-01", "KZ", "entry")]

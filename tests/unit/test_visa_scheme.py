"""The visa scheme as data, the competent state (Visa Code Art. 5) and the application's own rules."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from silkway.shared.errors import InvalidInput
from silkway.visas.errors import InvalidApplication
from silkway.visas.model import Applicant, Entries, Purpose, Sex, StatePlan, TravelPlan
from silkway.visas.mrz import NoMrzForm
from silkway.visas.rules import check_application
from silkway.visas.scheme import SCHEME_STATES, Scheme, SchemeError

SCHEME = Scheme.load()
TODAY = date(2026, 11, 21)


class Countries:
    def is_nationality(self, code: str) -> bool:
        return code in {"IND", "DEU", "RUS", "AFG", "ARM", "CHN", "USA"}

    def border_post_country(self, office: str) -> str | None:
        return None


def plan(states: tuple[str, ...] = ("KZ", "KG"), **changes: object) -> TravelPlan:
    values: dict[str, object] = {
        "states": states,
        "arrive": date(2026, 12, 1),
        "leave": date(2026, 12, 20),
        "main_destination": None,
        "purpose": Purpose.TOURISM,
        "entries": Entries.MULTIPLE,
    }
    values.update(changes)
    return TravelPlan(**values)  # type: ignore[arg-type]


def applicant(**changes: object) -> Applicant:
    values: dict[str, object] = {
        "surname": "SHARMA",
        "given_names": "PRIYA",
        "native_name": None,
        "nationality": "IND",
        "date_of_birth": date(1990, 4, 12),
        "sex": Sex.FEMALE,
        "passport_number": "z1234567",
        "passport_expiry": date(2031, 3, 31),
    }
    values.update(changes)
    return Applicant(**values)  # type: ignore[arg-type]


def test_the_default_scheme_holds_the_ten_states_of_the_2019_proposal() -> None:
    assert SCHEME.participating == SCHEME_STATES
    assert SCHEME.national_limits()["KZ"] == 30
    assert SCHEME.consulting_states("AFG", competent="UZ") == ("TJ", "TM", "RU")
    assert SCHEME.states["KZ"].consular_office == "KZ-CONSULAR"
    assert set(SCHEME.airports) >= {"KZ-ALA", "RU-SVO", "AM-EVN"}


def test_a_state_can_be_switched_off_and_unknown_ones_are_refused() -> None:
    scheme = Scheme.load(["ru", " by "])
    assert "RU" not in scheme.participating
    assert "BY" not in scheme.participating
    assert scheme.policy("RU") is None
    assert scheme.states["RU"].participating is False
    with pytest.raises(SchemeError, match="cannot switch off XX"):
        Scheme.load(["XX"])


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"states": {"KZ": {"visa_free": ["KAZAKH"]}}}, "not alpha-3"),
        ({"states": {"QQ": {}}}, "not a state of the scheme"),
        ({"states": {"KZ": {"max_consecutive_days": 120}}}, "1..90"),
        ({"states": {"KZ": {"timezone": "Mars/Olympus"}}}, "not a known time zone"),
        ({"states": {"KZ": {"visa_free": ["DEU"], "eligible": ["DEU"]}}}, "both as visa-free and as eligible"),
        ({"states": {"KZ": {"participating": False}}}, "no state participates"),
        ({"scheme": {"competent_share": "1.5"}}, "between 0 and 1"),
        ({"airports": [{"code": "QQ-ABC", "name": "x", "lat": 0, "lon": 0}]}, "not <state>-<IATA>"),
    ],
)
def test_a_malformed_scheme_is_refused_with_the_reason(patch: dict[str, object], message: str) -> None:
    base = {
        "scheme": {
            "currency": "USD",
            "fee": "60.00",
            "competent_share": "0.5",
            "consultation_days": 7,
            "appeal_days": 30,
            "max_stay_days": 90,
            "window_days": 180,
            "min_passport_validity_days": 90,
            "max_lodging_days_ahead": 180,
        },
        "retention": {"application_refused": 1, "visa": 1, "crossing": 1, "alert": 1},
        "states": {"KZ": {"timezone": "Asia/Almaty"}},
    }
    for key, value in patch.items():
        if key == "states":
            assert isinstance(value, dict)
            for state, fields in value.items():
                base["states"][state] = {**base["states"].get(state, {}), **fields}  # type: ignore[index, attr-defined]
        elif key == "scheme":
            base["scheme"] = {**base["scheme"], **value}  # type: ignore[dict-item]
        else:
            base[key] = value  # type: ignore[assignment]
    with pytest.raises(SchemeError, match=message):
        Scheme.parse(base)


@given(st.dictionaries(st.sampled_from(SCHEME_STATES), st.integers(min_value=0, max_value=90), max_size=10))
def test_fee_shares_always_add_up_to_the_fee_exactly(days: dict[str, int]) -> None:
    shares = SCHEME.fee_shares("KZ", days)
    assert sum(m.amount for m in shares.values()) == SCHEME.fee.amount
    assert shares["KZ"].amount >= SCHEME.fee.amount * SCHEME.competent_share
    assert all(m.amount >= 0 for m in shares.values())


def test_the_competent_state_follows_article_5() -> None:
    assert plan(("UZ",)).competent_state() == "UZ"
    assert plan(("KZ", "KG", "UZ"), main_destination="UZ").competent_state() == "UZ"
    by_days = plan(
        ("KZ", "KG"),
        itinerary=(
            StatePlan(state="KZ", arrive=date(2026, 12, 1), leave=date(2026, 12, 3)),
            StatePlan(state="KG", arrive=date(2026, 12, 3), leave=date(2026, 12, 20)),
        ),
    )
    assert by_days.competent_state() == "KG"
    tied = plan(
        ("KZ", "KG"),
        itinerary=(
            StatePlan(state="KZ", arrive=date(2026, 12, 1), leave=date(2026, 12, 5)),
            StatePlan(state="KG", arrive=date(2026, 12, 6), leave=date(2026, 12, 10)),
        ),
    )
    assert tied.competent_state() == "KZ"  # no main destination by days: the state of first entry
    assert plan(("TJ", "KZ")).competent_state() == "TJ"


def test_a_valid_application_passes_and_the_passport_number_is_normalised() -> None:
    a = applicant()
    check_application(a, plan(), scheme=SCHEME, countries=Countries(), today=TODAY)
    assert a.passport_number == "Z1234567"


@pytest.mark.parametrize(
    ("a", "p", "field"),
    [
        (applicant(passport_expiry=date(2027, 3, 1)), plan(), "passport_expiry"),
        (applicant(passport_expiry=date(2026, 11, 1)), plan(), "passport_expiry"),
        (applicant(), plan(arrive=date(2026, 11, 20), leave=date(2026, 11, 30)), "from"),
        (applicant(), plan(arrive=date(2026, 12, 10), leave=date(2026, 12, 1)), "to"),
        (applicant(), plan(arrive=date(2026, 12, 1), leave=date(2027, 3, 1)), "to"),
        (applicant(), plan(arrive=date(2027, 6, 1), leave=date(2027, 6, 10)), "from"),
        (applicant(nationality="QQQ"), plan(), "nationality"),
        (applicant(date_of_birth=date(2027, 1, 1)), plan(), "date_of_birth"),
        (applicant(), plan(("KZ", "CN")), "states[1]"),
        (applicant(nationality="RUS"), plan(), "nationality"),
        (applicant(nationality="DEU"), plan(("KZ", "UZ", "KG")), "nationality"),
        (applicant(nationality="ARM"), plan(("AZ", "TM")), "states"),
    ],
)
def test_each_bad_application_names_its_field(a: Applicant, p: TravelPlan, field: str) -> None:
    with pytest.raises(InvalidApplication) as caught:
        check_application(a, p, scheme=SCHEME, countries=Countries(), today=TODAY)
    assert field in caught.value.fields


def test_a_name_with_no_mrz_form_is_refused() -> None:
    with pytest.raises(NoMrzForm):
        check_application(
            applicant(surname="王", given_names="小明"), plan(), scheme=SCHEME, countries=Countries(), today=TODAY
        )


def test_a_stay_of_exactly_90_days_is_allowed_and_91_is_not() -> None:
    check_application(
        applicant(),
        plan(arrive=date(2026, 12, 1), leave=date(2027, 2, 28)),
        scheme=SCHEME,
        countries=Countries(),
        today=TODAY,
    )
    with pytest.raises(InvalidApplication):
        check_application(
            applicant(),
            plan(arrive=date(2026, 12, 1), leave=date(2027, 3, 1)),
            scheme=SCHEME,
            countries=Countries(),
            today=TODAY,
        )


@pytest.mark.parametrize(
    "changes",
    [
        {"states": ()},
        {"states": ("KZ", "KZ")},
        {"states": ("kz",)},
        {"main_destination": "UZ"},
        {"itinerary": (StatePlan(state="UZ", arrive=date(2026, 12, 1), leave=date(2026, 12, 2)),)},
        {"itinerary": (StatePlan(state="KZ", arrive=date(2026, 12, 5), leave=date(2026, 12, 2)),)},
    ],
)
def test_a_malformed_travel_plan_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        plan(**changes)  # type: ignore[arg-type]


def test_refused_applicant_fields() -> None:
    with pytest.raises(InvalidInput):
        applicant(passport_number="AB-12")
    with pytest.raises(InvalidInput):
        applicant(nationality="IN")
    with pytest.raises(InvalidInput):
        applicant(surname="  ")

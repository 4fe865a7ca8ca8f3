"""The domain's inputs fuzzed: whatever a caller sends, each parser, value object and rule either accepts it or
raises the error it documents (a `DomainError`, or the parse error it names) and nothing else; and what is written
reads back as itself.

The strategies are in `strategies.py`. The lifecycle of a transit under random actions is `test_properties.py`'s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from builders import NOW, a_clock, a_guarantee
from fakes import FakeUnitOfWork
from hypothesis import event, given, settings
from hypothesis import strategies as st
from strategies import (
    CURRENCIES,
    HS6,
    REFERENCE,
    TODAY,
    amount_text,
    any_dates,
    any_text,
    application_fields,
    currency_text,
    declaration_fields,
    declarations,
    hs_text,
    mrn_text,
    mrns,
    mrz_lines,
    name_text,
    names,
    office_text,
    routes,
    seal_lists,
    zones,
)

from silkway.bootstrap import TransitPlaces, VisaCountries
from silkway.places.errors import UnknownOffice
from silkway.shared.actors import Actor, Role
from silkway.shared.errors import InvalidInput
from silkway.shared.money import Money
from silkway.shared.mrn import Mrn
from silkway.transit import handlers
from silkway.transit.commands import SubmitDeclaration
from silkway.transit.errors import GuaranteeNotFound, GuaranteeOvercommitted, InvalidDeclaration
from silkway.transit.events import DeclarationSubmitted, event_from_record
from silkway.transit.model import (
    Container,
    Declaration,
    GoodsItem,
    GuaranteeCommitment,
    Itinerary,
    Vehicle,
    normalise_seals,
)
from silkway.transit.rules import check_declaration
from silkway.visas.errors import InvalidApplication
from silkway.visas.events import ApplicationLodged
from silkway.visas.events import event_from_record as event_of_visa
from silkway.visas.model import Applicant, Entries, Purpose, Sex, StatePlan, TravelPlan
from silkway.visas.mrz import MalformedMrz, MrvA, NoMrzForm, name_field, parse_mrv_a, transliterate
from silkway.visas.names import match_person, name_key, similarity
from silkway.visas.rules import check_application
from silkway.visas.scheme import Scheme

T = TypeVar("T")
FUZZ = settings(max_examples=150, deadline=None)
CARRIER = Actor(username="carrier-kz", role=Role.CARRIER, country="KZ")
SCHEME = Scheme.load()
COUNTRIES = VisaCountries(REFERENCE, SCHEME)
MRZ_NAME = re.compile(r"[A-Z]+( [A-Z]+)*")


def accepted(build: Callable[[], T], *documented: type[Exception]) -> T | None:
    """What `build` returns, or None when it raises one of its `documented` errors; any other error fails the test."""
    try:
        value = build()
    except documented as error:
        event(f"refused: {type(error).__name__}")
        return None
    event("accepted")
    return value


# --- MRNs and money ------------------------------------------------------------------------------------------


@FUZZ
@given(text=mrn_text)
def test_any_text_is_an_mrn_or_invalid_input(text: str) -> None:
    mrn = accepted(lambda: Mrn(text), InvalidInput)

    if mrn is not None:
        assert re.fullmatch(r"[0-9]{2}[A-Z]{2}[0-9A-Z]{14}", mrn)
        assert Mrn(mrn.lower()) == Mrn(str(mrn)) == mrn


@FUZZ
@given(mrn=mrns, data=st.data())
def test_every_single_character_changed_in_an_mrn_is_caught(mrn: Mrn, data: st.DataObject) -> None:
    at = data.draw(st.integers(min_value=0, max_value=len(mrn) - 1))
    typo = data.draw(st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".replace(mrn[at], "")))

    with pytest.raises(InvalidInput):
        Mrn(mrn[:at] + typo + mrn[at + 1 :])


@FUZZ
@given(amount=amount_text, currency=currency_text)
def test_any_amount_and_currency_are_money_or_invalid_input(amount: str, currency: str) -> None:
    money = accepted(lambda: Money.of(amount, currency), InvalidInput)

    if money is not None:
        assert money.amount.as_tuple().exponent == -2
        assert Money.of(*str(money).split(" ")) == money


# --- reference data ------------------------------------------------------------------------------------------


@FUZZ
@given(text=hs_text, limit=st.integers(min_value=-1, max_value=120))
def test_hs_lookups_take_any_text(text: str, limit: int) -> None:
    heading = REFERENCE.hs(text)
    found = REFERENCE.hs_search(text, limit=limit)

    assert heading is None or REFERENCE.hs(heading.code) == heading
    assert REFERENCE.is_hs6(text) == (heading is not None and heading.level == 6)
    assert len(found) <= max(limit, 0)
    assert all(REFERENCE.hs(h.code) == h for h in found)


@FUZZ
@given(code=office_text, other=office_text)
def test_an_office_code_names_an_office_or_raises_unknown_office(code: str, other: str) -> None:
    office = accepted(lambda: REFERENCE.office(code), UnknownOffice)
    crossing = REFERENCE.crossing_between(code, other)

    assert office is None or office.code == code
    assert crossing is None or {code, other} == set(crossing.offices)
    assert all(o.country == code for o in REFERENCE.offices_of(code))


# --- transit declarations ------------------------------------------------------------------------------------


def declaration_of(fields: dict[str, Any]) -> Declaration:
    """The declaration the fields describe, as the API builds it; raises `InvalidInput` as its parts do."""
    vehicle = fields["vehicle"]
    return Declaration(
        holder=CARRIER.username,
        vehicle=None if vehicle is None else Vehicle(plate=vehicle[0], country=vehicle[1]),
        containers=tuple(Container(number=number) for number in fields["containers"]),
        itinerary=Itinerary(offices=fields["itinerary"]),
        goods=tuple(
            GoodsItem(
                hs_code=g["hs_code"],
                description=g["description"],
                packages=g["packages"],
                gross_mass_kg=g["gross_mass_kg"],
                value=Money.of(*g["value"]),
            )
            for g in fields["goods"]
        ),
        guarantee=GuaranteeCommitment(reference="GRN-KZ-0001", amount=Money.of(*fields["guarantee"])),
    )


@FUZZ
@given(fields=declaration_fields)
def test_a_declaration_is_accepted_or_refused_as_invalid_input(places: TransitPlaces, fields: dict[str, Any]) -> None:
    declaration = accepted(lambda: declaration_of(fields), InvalidInput)
    if declaration is None:
        return
    borders = accepted(lambda: check_declaration(declaration, places), InvalidDeclaration)

    if borders is not None:
        departure = declaration.itinerary.departure
        submitted = DeclarationSubmitted(at=NOW, actor=CARRIER.username, office=departure, declaration=declaration)
        stored = json.loads(json.dumps(submitted.body()))
        assert len(borders) == (len(declaration.itinerary.offices) - 2) // 2
        assert (
            event_from_record(submitted.type, at=NOW, actor=CARRIER.username, office=departure, body=stored)
            == submitted
        )


@FUZZ
@given(route=routes(), hs_code=st.sampled_from(HS6), currency=st.sampled_from(CURRENCIES))
def test_a_route_over_real_crossings_is_coherent(
    places: TransitPlaces, route: tuple[str, ...], hs_code: str, currency: str
) -> None:
    declaration = declaration_of(
        {
            "vehicle": ("123 ABC 02", "KZ"),
            "containers": [],
            "itinerary": route,
            "goods": [
                {
                    "hs_code": hs_code,
                    "description": "laptops",
                    "packages": 1,
                    "gross_mass_kg": Decimal(1),
                    "value": ("1.00", currency),
                }
            ],
            "guarantee": ("1.00", currency),
        }
    )

    borders = check_declaration(declaration, places)

    assert [(b.exit_office, b.entry_office) for b in borders] == list(zip(route[1:-1:2], route[2:-1:2], strict=True))


@FUZZ
@given(declaration=declarations)
def test_lodging_a_declaration_gives_an_mrn_or_a_documented_refusal(
    places: TransitPlaces, declaration: Declaration
) -> None:
    uow = FakeUnitOfWork()
    uow.guarantees.stored["GRN-KZ-0001"] = a_guarantee(cover="100000", currency="USD")
    command = SubmitDeclaration(actor=CARRIER, declaration=declaration)

    mrn = accepted(
        lambda: handlers.submit_declaration(command, uow=uow, clock=a_clock(), places=places),
        InvalidDeclaration,  # a guarantee in another currency
        GuaranteeNotFound,
        GuaranteeOvercommitted,
    )

    assert uow.committed == (mrn is not None)
    stored = None if mrn is None else uow.transits.get(mrn)
    assert mrn is None or (stored is not None and stored.declaration == declaration)


@FUZZ
@given(seals=seal_lists)
def test_seal_numbers_are_normalised_or_refused_as_invalid_declaration(seals: list[str]) -> None:
    normalised = accepted(lambda: normalise_seals(seals), InvalidDeclaration)

    if normalised is not None:
        assert normalise_seals(normalised) == normalised
        assert len(set(normalised)) == len(normalised) == len(seals)


# --- the machine-readable zone and names ---------------------------------------------------------------------


@settings(FUZZ, max_examples=300)
@given(lines=mrz_lines)
def test_any_two_lines_read_as_a_zone_that_writes_them_back_or_are_malformed_mrz(lines: tuple[str, str]) -> None:
    zone = accepted(lambda: parse_mrv_a(*lines, today=TODAY), MalformedMrz)

    if zone is not None:
        assert zone.lines() == lines


@FUZZ
@given(text=name_text)
def test_any_name_transliterates_to_mrz_letters_or_has_no_mrz_form(text: str) -> None:
    letters = accepted(lambda: transliterate(text), NoMrzForm)

    if letters is not None:
        assert MRZ_NAME.fullmatch(letters)
        assert transliterate(letters) == letters


@FUZZ
@given(surname=name_text, given_names=name_text, width=st.integers(min_value=1, max_value=60))
def test_any_names_fill_the_name_field_exactly_or_have_no_mrz_form(surname: str, given_names: str, width: int) -> None:
    field = accepted(lambda: name_field(surname, given_names, width=width), NoMrzForm)

    if field is not None:
        assert re.fullmatch(rf"[A-Z][A-Z<]{{{width - 1}}}", field)


@FUZZ
@given(
    zone=zones,
    changes=st.fixed_dictionaries(
        {},
        optional={
            "issuing_state": any_text,
            "nationality": any_text,
            "surname": name_text,
            "visa_number": any_text,
            "optional_data": any_text,
            "document_code": any_text,
            "sex": any_text,
            "valid_until": any_dates,
        },
    ),
)
def test_any_visa_data_makes_a_zone_or_raises_invalid_input(zone: MrvA, changes: dict[str, Any]) -> None:
    fields = {name: getattr(zone, name) for name in MrvA.__dataclass_fields__} | changes
    changed = accepted(lambda: MrvA(**fields), InvalidInput)

    if changed is not None:
        assert [len(line) for line in changed.lines()] == [44, 44]


@FUZZ
@given(a=name_text, b=name_text)
def test_any_two_names_compare_with_a_symmetric_score_or_have_no_mrz_form(a: str, b: str) -> None:
    score = accepted(lambda: similarity(a, b), NoMrzForm)

    if score is not None:
        assert 0.0 <= score <= 1.0
        assert similarity(b, a) == score
        assert similarity(a, a) == 1.0
        assert all(name_key(a).split(" "))


@FUZZ
@given(
    candidates=st.lists(name_text, max_size=3),
    alert=st.one_of(names, name_text),
    born=any_dates,
    alert_born=st.one_of(st.none(), any_dates),
)
def test_matching_any_person_against_an_alert_hits_misses_or_raises_its_documented_errors(
    candidates: list[str], alert: str, born: date, alert_born: date | None
) -> None:
    hit = accepted(
        lambda: match_person(
            candidate_names=candidates, candidate_birth=born, alert_name=alert, alert_birth=alert_born
        ),
        InvalidInput,  # NoMrzForm is one
    )

    assert hit is None or (hit.matched_on in candidates and 0.8 <= hit.score <= 1.0)


# --- visa applications ---------------------------------------------------------------------------------------


def application_of(fields: dict[str, Any]) -> tuple[Applicant, TravelPlan]:
    """The applicant and the plan the fields describe, as the API builds them; raises `InvalidInput`."""
    applicant = Applicant(
        surname=fields["surname"],
        given_names=fields["given_names"],
        native_name=fields["native_name"],
        nationality=fields["nationality"],
        date_of_birth=fields["date_of_birth"],
        sex=fields["sex"],
        passport_number=fields["passport_number"],
        passport_expiry=fields["passport_expiry"],
    )
    plan = TravelPlan(
        states=tuple(fields["states"]),
        arrive=fields["from"],
        leave=fields["to"],
        main_destination=fields["main_destination"],
        purpose=fields["purpose"],
        entries=fields["entries"],
        itinerary=tuple(
            StatePlan(state=leg["state"], arrive=leg["from"], leave=leg["to"]) for leg in fields["itinerary"]
        ),
    )
    return applicant, plan


def lodging_of(applicant: Applicant, plan: TravelPlan) -> ApplicationLodged:
    """The record of lodging the application, as `handlers.lodge_application` writes it; raises as its rules do."""
    check_application(applicant, plan, scheme=SCHEME, countries=COUNTRIES, today=TODAY)
    competent = plan.competent_state()
    return ApplicationLodged(
        at=NOW,
        actor="applicant",
        office=SCHEME.states[competent].consular_office,
        applicant=applicant,
        plan=plan,
        competent_state=competent,
        consulted_states=SCHEME.consulting_states(applicant.nationality, competent=competent),
        consultation_until=None,
        fee_shares={state: str(m.amount) for state, m in SCHEME.fee_shares(competent, plan.days_by_state()).items()},
        fee_currency=SCHEME.fee.currency,
    )


@settings(FUZZ, max_examples=300)
@given(fields=application_fields)
def test_an_application_is_lodged_or_refused_with_its_documented_errors(fields: dict[str, Any]) -> None:
    application = accepted(lambda: application_of(fields), InvalidInput)
    if application is None:
        return
    lodged = accepted(lambda: lodging_of(*application), InvalidApplication, NoMrzForm)

    if lodged is not None:
        stored = json.loads(json.dumps(lodged.body()))
        assert lodged.competent_state in lodged.plan.states
        assert sum(Decimal(share) for share in lodged.fee_shares.values()) == SCHEME.fee.amount
        assert event_of_visa(lodged.type, at=NOW, actor=lodged.actor, office=lodged.office, body=stored) == lodged


def test_a_stay_ending_on_the_last_day_of_the_calendar_is_refused() -> None:
    applicant = Applicant(
        surname="SHARMA",
        given_names="PRIYA",
        native_name=None,
        nationality="IND",
        date_of_birth=date(1990, 4, 12),
        sex=Sex.FEMALE,
        passport_number="Z1234567",
        passport_expiry=date(2031, 3, 31),
    )
    plan = TravelPlan(
        states=("KZ",),
        arrive=TODAY,
        leave=date.max,
        main_destination=None,
        purpose=Purpose.TOURISM,
        entries=Entries.SINGLE,
    )

    with pytest.raises(InvalidApplication):
        check_application(applicant, plan, scheme=SCHEME, countries=COUNTRIES, today=TODAY)

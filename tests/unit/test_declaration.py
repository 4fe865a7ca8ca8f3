"""The declaration's shape, checked on construction, and its content, checked against the real places."""

from __future__ import annotations

from decimal import Decimal

import pytest
from builders import (
    ALMATY,
    DUSHANBE,
    KZ_EXIT,
    ROUTE,
    TJ_ENTRY,
    UZ_ENTRY,
    UZ_EXIT,
    a_declaration,
    a_goods_item,
)

from silkway.bootstrap import TransitPlaces
from silkway.places.reference import ReferenceData
from silkway.transit.errors import IncoherentItinerary, InvalidDeclaration
from silkway.transit.model import (
    MAX_GOODS_ITEMS,
    BorderCrossing,
    Container,
    Itinerary,
    Vehicle,
    normalise_seals,
)
from silkway.transit.rules import check_declaration

# --- vehicle and containers -------------------------------------------------------------------------


def test_a_plate_is_upper_cased_and_its_spaces_collapsed() -> None:
    assert Vehicle(plate="  123  abc 02 ", country="KZ").plate == "123 ABC 02"


@pytest.mark.parametrize("plate", ["", "A", "#123ABC", "-123ABC", "1234567890123456"])
def test_a_malformed_plate_is_refused(plate: str) -> None:
    with pytest.raises(InvalidDeclaration, match="is not a registration plate") as caught:
        Vehicle(plate=plate, country="KZ")

    assert caught.value.fields == {"vehicle.plate": "malformed"}


@pytest.mark.parametrize("country", ["kz", "KAZ", "K", ""])
def test_a_vehicle_country_must_be_iso_alpha_2(country: str) -> None:
    with pytest.raises(InvalidDeclaration) as caught:
        Vehicle(plate="123 ABC 02", country=country)

    assert caught.value.fields == {"vehicle.country": "malformed"}


def test_a_vehicle_country_with_a_trailing_newline_is_refused() -> None:
    # a pattern ending in `$` would accept it: `$` matches just before a final newline
    with pytest.raises(InvalidDeclaration):
        Vehicle(plate="123 ABC 02", country="KZ\n")


def test_a_real_iso_6346_container_number_passes() -> None:
    assert Container(number="CSQU3054383").number == "CSQU3054383"


def test_a_container_number_is_compacted() -> None:
    assert Container(number="csqu 305438 3").number == "CSQU3054383"


@pytest.mark.parametrize("number", ["CSQU3054384", "CSQU305438", "CSQ3054383X", ""])
def test_a_container_number_with_a_wrong_check_digit_or_shape_fails(number: str) -> None:
    with pytest.raises(InvalidDeclaration, match="is not an ISO 6346 container number") as caught:
        Container(number=number)

    assert caught.value.fields == {"containers": "bad check digit or format"}


def test_seals_are_normalised_and_a_repeated_one_is_refused() -> None:
    assert normalise_seals([" kz1234567 ", "KZ-77/1"]) == ("KZ1234567", "KZ-77/1")
    with pytest.raises(InvalidDeclaration) as caught:
        normalise_seals(["KZ1", "kz1"])

    assert caught.value.fields == {"seals[1]": "duplicate"}


def test_a_malformed_seal_names_its_position() -> None:
    with pytest.raises(InvalidDeclaration) as caught:
        normalise_seals(["KZ1", "KZ 2"])

    assert caught.value.fields == {"seals[1]": "malformed"}


# --- goods items ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mass", ["0", "-1", "-0.001"])
def test_a_goods_item_must_weigh_more_than_zero(mass: str) -> None:
    with pytest.raises(InvalidDeclaration, match="more than 0 kg") as caught:
        a_goods_item(gross_mass_kg=mass)

    assert caught.value.fields == {"gross_mass_kg": "not positive"}


def test_a_goods_item_of_more_than_1000_tonnes_is_refused() -> None:
    with pytest.raises(InvalidDeclaration, match="over 1,000 t"):
        a_goods_item(gross_mass_kg="1000000.1")


@pytest.mark.parametrize("hs_code", ["84713", "8471300", "8471.30", "84713A", ""])
def test_an_hs_code_must_be_six_digits(hs_code: str) -> None:
    with pytest.raises(InvalidDeclaration, match="is not a 6-digit HS code") as caught:
        a_goods_item(hs_code=hs_code)

    assert caught.value.fields == {"hs_code": "not 6 digits"}


@pytest.mark.parametrize("packages", [0, -1, 1_000_001])
def test_packages_are_between_one_and_a_million(packages: int) -> None:
    with pytest.raises(InvalidDeclaration) as caught:
        a_goods_item(packages=packages)

    assert caught.value.fields == {"packages": "range"}


@pytest.mark.parametrize("description", ["", "   ", "x" * 513])
def test_a_description_is_1_to_512_characters(description: str) -> None:
    with pytest.raises(InvalidDeclaration) as caught:
        a_goods_item(description=description)

    assert caught.value.fields == {"description": "length"}


# --- itinerary shape --------------------------------------------------------------------------------


def test_an_itinerary_knows_its_departure_borders_and_destination() -> None:
    itinerary = Itinerary(offices=ROUTE)

    assert itinerary.departure == ALMATY
    assert itinerary.destination == DUSHANBE
    assert itinerary.border_offices == (KZ_EXIT, UZ_ENTRY, UZ_EXIT, TJ_ENTRY)
    assert [itinerary.is_exit(o) for o in itinerary.border_offices] == [True, False, True, False]


@pytest.mark.parametrize(
    ("offices", "field"),
    [
        ((), "too short"),
        ((ALMATY,), "too short"),
        ((ALMATY, KZ_EXIT, DUSHANBE), "odd number of offices"),
        ((ALMATY, KZ_EXIT, UZ_ENTRY, ALMATY), "repeats"),
        (tuple(f"KZ-OFFICE-{i}" for i in range(42)), "too long"),
    ],
)
def test_an_itinerary_of_the_wrong_shape_is_refused(offices: tuple[str, ...], field: str) -> None:
    with pytest.raises(IncoherentItinerary) as caught:
        Itinerary(offices=offices)

    assert caught.value.fields == {"itinerary": field}


def test_an_itinerary_of_forty_offices_has_an_acceptable_shape() -> None:
    assert len(Itinerary(offices=tuple(f"KZ-OFFICE-{i}" for i in range(40))).offices) == 40


# --- declaration limits -----------------------------------------------------------------------------


def test_999_goods_items_are_accepted() -> None:
    goods = (a_goods_item(),) * MAX_GOODS_ITEMS

    assert len(a_declaration(goods=goods).goods) == 999


def test_1000_goods_items_are_refused() -> None:
    with pytest.raises(InvalidDeclaration, match="at most 999 goods items") as caught:
        a_declaration(goods=(a_goods_item(),) * 1000)

    assert caught.value.fields == {"goods": "too many"}


def test_a_declaration_without_goods_is_refused() -> None:
    with pytest.raises(InvalidDeclaration) as caught:
        a_declaration(goods=())

    assert caught.value.fields == {"goods": "empty"}


def test_100_containers_are_refused() -> None:
    with pytest.raises(InvalidDeclaration) as caught:
        a_declaration(containers=(Container(number="CSQU3054383"),) * 100)

    assert caught.value.fields == {"containers": "too many"}


def test_total_mass_adds_up_the_goods() -> None:
    declaration = a_declaration(goods=(a_goods_item(gross_mass_kg="320.5"), a_goods_item(gross_mass_kg="79.5")))

    assert declaration.total_mass_kg == Decimal("400.0")


# --- against the reference data ---------------------------------------------------------------------


def test_the_default_declaration_crosses_two_real_borders(places: TransitPlaces) -> None:
    assert check_declaration(a_declaration(), places) == (
        BorderCrossing(exit_office=KZ_EXIT, entry_office=UZ_ENTRY, crossing="KZUZ-ZHIBEKZHOLY"),
        BorderCrossing(exit_office=UZ_EXIT, entry_office=TJ_ENTRY, crossing="UZTJ-OYBEK"),
    )


def test_an_unknown_office_is_named_by_its_position(places: TransitPlaces) -> None:
    declaration = a_declaration(offices=(ALMATY, KZ_EXIT, UZ_ENTRY, UZ_EXIT, TJ_ENTRY, "TJ-NOWHERE"))

    with pytest.raises(InvalidDeclaration) as caught:
        check_declaration(declaration, places)

    assert type(caught.value) is InvalidDeclaration
    assert caught.value.fields == {"itinerary[5]": "unknown office TJ-NOWHERE"}


def test_an_office_outside_the_member_states_is_refused(places: TransitPlaces) -> None:
    declaration = a_declaration(offices=(ALMATY, KZ_EXIT, UZ_ENTRY, UZ_EXIT, TJ_ENTRY, "CN-KHORGOS"))

    with pytest.raises(InvalidDeclaration) as caught:
        check_declaration(declaration, places)

    assert type(caught.value) is InvalidDeclaration
    assert caught.value.fields == {"itinerary[5]": "CN-KHORGOS is in CN, which is not a member state"}


def test_a_crossing_that_does_not_exist_makes_the_route_incoherent(places: TransitPlaces) -> None:
    declaration = a_declaration(offices=(ALMATY, KZ_EXIT, TJ_ENTRY, DUSHANBE))

    with pytest.raises(IncoherentItinerary) as caught:
        check_declaration(declaration, places)

    assert caught.value.fields == {"itinerary[1]": f"no crossing point joins {KZ_EXIT} and {TJ_ENTRY}"}


def test_leaving_a_country_the_route_has_not_reached_is_incoherent(places: TransitPlaces) -> None:
    # UZ-OYBEK and TJ-FOTEHOBOD are a real crossing, but the vehicle is still in KZ after departure
    declaration = a_declaration(offices=(ALMATY, UZ_EXIT, TJ_ENTRY, DUSHANBE))

    with pytest.raises(IncoherentItinerary) as caught:
        check_declaration(declaration, places)

    assert caught.value.fields == {"itinerary[1]": f"the route reaches KZ at {ALMATY} but leaves UZ at {UZ_EXIT}"}


def test_a_destination_in_another_country_than_the_last_entry_is_incoherent(places: TransitPlaces) -> None:
    declaration = a_declaration(offices=(ALMATY, KZ_EXIT, UZ_ENTRY, DUSHANBE))

    with pytest.raises(IncoherentItinerary) as caught:
        check_declaration(declaration, places)

    assert list(caught.value.fields) == ["itinerary[3]"]
    assert "the route ends in UZ" in caught.value.fields["itinerary[3]"]


def test_the_hs_codes_used_as_unknown_are_really_absent_from_hs_2022(reference: ReferenceData) -> None:
    assert not reference.is_hs6("999999")
    assert not reference.is_hs6("847100")
    assert reference.is_hs6("847130")


@pytest.mark.parametrize("hs_code", ["999999", "847100"])
def test_an_hs_code_not_in_hs_2022_is_named_by_its_goods_item(places: TransitPlaces, hs_code: str) -> None:
    declaration = a_declaration(goods=(a_goods_item(), a_goods_item(hs_code=hs_code)))

    with pytest.raises(InvalidDeclaration) as caught:
        check_declaration(declaration, places)

    assert caught.value.fields == {"goods[1].hs_code": f"{hs_code} is not a subheading of HS 2022"}


def test_an_unknown_currency_is_named_wherever_it_appears(places: TransitPlaces) -> None:
    declaration = a_declaration(goods=(a_goods_item(currency="XYZ"),), currency="XYZ")

    with pytest.raises(InvalidDeclaration) as caught:
        check_declaration(declaration, places)

    assert caught.value.fields == {
        "goods[0].value.currency": "unknown currency XYZ",
        "guarantee.currency": "unknown currency XYZ",
    }


def test_every_unknown_thing_is_reported_at_once(places: TransitPlaces) -> None:
    declaration = a_declaration(
        offices=("KZ-NOWHERE", KZ_EXIT, UZ_ENTRY, UZ_EXIT, TJ_ENTRY, DUSHANBE),
        goods=(a_goods_item(hs_code="999999"),),
    )

    with pytest.raises(InvalidDeclaration) as caught:
        check_declaration(declaration, places)

    assert set(caught.value.fields) == {"itinerary[0]", "goods[0].hs_code"}
    assert "itinerary[0]: unknown office KZ-NOWHERE" in caught.value.detail

"""The reference data shipped in `silkway.places`: its integrity, its lookups and its refusals."""

from __future__ import annotations

import csv
import dataclasses
import io
import time
from importlib import resources

import pytest

from silkway.places import (
    MEMBER_STATES,
    CrossingPoint,
    Office,
    OfficeKind,
    ReferenceData,
    ReferenceDataError,
    UnknownHsCode,
    UnknownOffice,
)
from silkway.shared.errors import DomainError, NotFound

# Counted in the data package's harmonized-system.csv (HS 2022): 5,613 six-digit codes, less
# Comtrade's "999999 Commodities not specified according to kind", which is not HS nomenclature.
HS6_COUNT = 5612
HS4_COUNT = 1228
HS2_COUNT = 96


@pytest.fixture(scope="module")
def ref() -> ReferenceData:
    return ReferenceData.load()


def package_rows(name: str) -> list[dict[str, str]]:
    text = resources.files("silkway.places").joinpath("reference", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def rebuild(
    ref: ReferenceData,
    *,
    offices: list[Office] | None = None,
    crossings: list[CrossingPoint] | None = None,
) -> ReferenceData:
    return ReferenceData.from_records(
        member_states=ref.member_states.values(),
        offices=list(ref.offices.values()) if offices is None else offices,
        crossings=list(ref.crossings.values()) if crossings is None else crossings,
        headings=ref.hs_headings.values(),
        sections=ref.hs_sections,
    )


# --- integrity of the shipped data --------------------------------------------------------------


def test_load_is_fast() -> None:
    best = min(_timed_load() for _ in range(3))
    # The promise is < 0.3 s; the margin keeps a busy CI machine from failing the build.
    assert best < 0.6


def _timed_load() -> float:
    start = time.perf_counter()
    ReferenceData.load()
    return time.perf_counter() - start


def test_every_crossing_joins_two_existing_offices_in_different_countries(ref: ReferenceData) -> None:
    assert len(ref.crossings) == 38
    for crossing in ref.crossings.values():
        a, b = ref.office(crossing.office_a), ref.office(crossing.office_b)
        assert a.country != b.country, crossing.code
        assert ref.is_member(a.country) or ref.is_member(b.country), crossing.code
        assert crossing.code in a.crossings
        assert crossing.code in b.crossings
        assert crossing.code.startswith(f"{a.country}{b.country}-")


def test_every_member_state_has_inland_and_frontier_offices(ref: ReferenceData) -> None:
    for country in MEMBER_STATES:
        kinds = {office.kind for office in ref.offices_of(country)}
        assert OfficeKind.INLAND in kinds, country
        assert kinds & {OfficeKind.BORDER, OfficeKind.SEAPORT}, country


def test_office_codes_are_unique_and_prefixed_by_their_country(ref: ReferenceData) -> None:
    rows = package_rows("offices.csv")
    assert len({row["code"] for row in rows}) == len(rows) == len(ref.offices) == 88
    for code, office in ref.offices.items():
        assert office.code == code
        assert code.startswith(f"{office.country}-")


def test_crossing_codes_are_unique(ref: ReferenceData) -> None:
    rows = package_rows("crossings.csv")
    assert len({row["code"] for row in rows}) == len(rows) == len(ref.crossings)


def test_border_offices_sit_at_their_crossing(ref: ReferenceData) -> None:
    zhibek = ref.office("KZ-ZHIBEKZHOLY")
    assert zhibek.kind is OfficeKind.BORDER
    assert zhibek.mode == "road"
    assert (zhibek.lat, zhibek.lon) == (41.4772, 69.3667)
    assert zhibek.crossings == ("KZUZ-ZHIBEKZHOLY",)
    kazygurt = ref.office("KZ-KAZYGURT")
    assert (kazygurt.lat, kazygurt.lon) == (None, None)


def test_inland_offices_are_sides_of_nothing(ref: ReferenceData) -> None:
    almaty = ref.office("KZ-ALA-ZHETYSU")
    assert almaty.kind is OfficeKind.INLAND
    assert almaty.crossings == ()
    assert almaty.mode == ""
    assert ref.office("UZ-NAVOI-AIRPORT").kind is OfficeKind.INLAND
    assert ref.office("KZ-KHORGOS-DRYPORT").kind is OfficeKind.INLAND


def test_sea_crossings_use_the_port_offices(ref: ReferenceData) -> None:
    alat = ref.office("AZ-ALAT-PORT")
    assert alat.kind is OfficeKind.SEAPORT
    assert alat.mode == "sea"
    assert alat.crossings == ("KZAZ-AKTAU-ALAT-SEA", "KZAZ-KURYK-ALAT-SEA", "TMAZ-TURKMENBASHI-ALAT-SEA")
    ferry = ref.crossing_between("TM-TURKMENBASHI-PORT", "AZ-ALAT-PORT")
    assert ferry is not None
    assert ferry.mode == "sea"


def test_rail_sides_carry_a_rail_suffix(ref: ReferenceData) -> None:
    crossing = ref.crossings["KZUZ-SARYAGASH-RAIL"]
    assert crossing.offices == ("KZ-SARYAGASH-RAIL", "UZ-KELES-RAIL")
    assert all(ref.office(code).mode == "rail" for code in crossing.offices)


def test_neighbours_sides_are_offices_of_their_own_country(ref: ReferenceData) -> None:
    khorgos = ref.office("CN-KHORGOS")
    assert khorgos.country == "CN"
    assert not ref.is_member("CN")
    assert [o.code for o in ref.offices_of("GE")] == ["GE-REDBRIDGE"]
    assert {o.code for o in ref.offices_of("RU")} == {
        "RU-SAGARCHIN",
        "RU-ISILKUL",
        "RU-MASHTAKOVO",
        "RU-ORSK",
        "RU-KARAUZEK",
    }


def test_offices_of_filters_and_sorts(ref: ReferenceData) -> None:
    seaports = ref.offices_of(kind=OfficeKind.SEAPORT)
    assert [o.code for o in seaports] == [
        "AZ-ALAT-PORT",
        "KZ-AKTAU-PORT",
        "KZ-KURYK-PORT",
        "TM-TURKMENBASHI-PORT",
    ]
    kz_inland = ref.offices_of("KZ", OfficeKind.INLAND)
    assert [o.code for o in kz_inland] == sorted(o.code for o in kz_inland)
    assert {o.code for o in kz_inland} == {
        "KZ-ALA-ZHETYSU",
        "KZ-AST-CUSTOMS",
        "KZ-DOSTYK-TERMINAL",
        "KZ-KHORGOS-DRYPORT",
    }
    everything = ref.offices_of()
    assert [o.code for o in everything] == sorted(ref.offices)
    assert ref.offices_of("XX") == []


# --- offices and crossings -------------------------------------------------------------------------


def test_crossing_between_answers_in_both_directions(ref: ReferenceData) -> None:
    out = ref.crossing_between("KZ-ZHIBEKZHOLY", "UZ-GISHTKUPRIK")
    back = ref.crossing_between("UZ-GISHTKUPRIK", "KZ-ZHIBEKZHOLY")
    assert out is not None
    assert out.code == "KZUZ-ZHIBEKZHOLY"
    assert back is out
    assert out.name == "Zhibek Zholy – Gishtkuprik"


def test_crossing_between_is_none_for_offices_that_do_not_face_each_other(ref: ReferenceData) -> None:
    assert ref.crossing_between("KZ-ZHIBEKZHOLY", "KG-AKJOL") is None
    assert ref.crossing_between("KZ-KORDAY", "KZ-KORDAY") is None
    assert ref.crossing_between("KZ-AKTAU-PORT", "TM-TURKMENBASHI-PORT") is None
    assert ref.crossing_between("KZ-NOWHERE", "UZ-GISHTKUPRIK") is None


def test_other_side(ref: ReferenceData) -> None:
    korday = ref.crossings["KZKG-KORDAY"]
    assert korday.other_side("KZ-KORDAY") == "KG-AKJOL"
    assert korday.other_side("KG-AKJOL") == "KZ-KORDAY"
    with pytest.raises(UnknownOffice):
        korday.other_side("KG-AKTILEK")


def test_unknown_office_is_a_not_found_domain_error(ref: ReferenceData) -> None:
    with pytest.raises(UnknownOffice) as caught:
        ref.office("KZ-NOWHERE")
    assert isinstance(caught.value, NotFound)
    assert isinstance(caught.value, DomainError)
    assert caught.value.code == "unknown_office"
    assert "KZ-NOWHERE" in caught.value.detail


def test_office_codes_are_case_sensitive(ref: ReferenceData) -> None:
    with pytest.raises(UnknownOffice):
        ref.office("kz-korday")


# --- member states and currencies ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "name", "currency", "currency_name"),
    [
        ("KZ", "Kazakhstan", "KZT", "Tenge"),
        ("UZ", "Uzbekistan", "UZS", "Uzbekistan Sum"),
        ("KG", "Kyrgyzstan", "KGS", "Som"),
        ("TJ", "Tajikistan", "TJS", "Somoni"),
        ("TM", "Turkmenistan", "TMT", "Turkmenistan New Manat"),
        ("AZ", "Azerbaijan", "AZN", "Azerbaijan Manat"),
    ],
)
def test_member_states(ref: ReferenceData, code: str, name: str, currency: str, currency_name: str) -> None:
    state = ref.member_states[code]
    assert (state.code, state.name, state.currency, state.currency_name) == (
        code,
        name,
        currency,
        currency_name,
    )
    assert ref.is_member(code)


def test_member_states_are_exactly_the_scheme(ref: ReferenceData) -> None:
    assert set(ref.member_states) == set(MEMBER_STATES)
    assert not ref.is_member("RU")
    assert not ref.is_member("kz")


def test_is_currency(ref: ReferenceData) -> None:
    assert ref.is_currency("KZT")
    assert ref.is_currency("EUR")
    assert not ref.is_currency("XYZ")
    assert not ref.is_currency("kzt")
    assert not ref.is_currency("")


# --- the Harmonized System ------------------------------------------------------------------------


def test_hs_levels_have_the_counted_number_of_codes(ref: ReferenceData) -> None:
    levels = [heading.level for heading in ref.hs_headings.values()]
    assert levels.count(6) == HS6_COUNT
    assert levels.count(4) == HS4_COUNT
    assert levels.count(2) == HS2_COUNT
    assert sum(ref.is_hs6(code) for code in ref.hs_headings) == HS6_COUNT


def test_is_hs6(ref: ReferenceData) -> None:
    assert ref.is_hs6("010121")
    assert ref.is_hs6("8471.30")
    assert not ref.is_hs6("0101")  # a heading, not a subheading
    assert not ref.is_hs6("01")
    assert not ref.is_hs6("010122")  # well-formed, but not in HS 2022
    assert not ref.is_hs6("999999")  # Comtrade's "not specified", dropped from the package


def test_hs_lookup_and_hierarchy(ref: ReferenceData) -> None:
    horses = ref.hs("010121")
    assert horses is not None
    assert horses.description == "Horses; live, pure-bred breeding animals"
    assert (horses.level, horses.parent, horses.section) == (6, "0101", "I")
    chapter = ref.hs("01")
    assert chapter is not None
    assert chapter.parent == ""
    assert ref.hs("9999") is None


def test_hs_search_by_code_prefix_puts_subheadings_first(ref: ReferenceData) -> None:
    found = [h.code for h in ref.hs_search("0101")]
    assert found == ["010121", "010129", "010130", "010190", "0101"]
    assert [h.code for h in ref.hs_search("8471.3")] == ["847130"]


def test_hs_search_by_words_needs_every_word_in_any_case(ref: ReferenceData) -> None:
    found = [h.code for h in ref.hs_search("HORSES live")]
    assert found == ["010121", "010129", "0101"]
    assert ref.hs_search("horses sulphuric") == []


def test_hs_search_mixes_prefixes_and_words(ref: ReferenceData) -> None:
    found = ref.hs_search("01 pure-bred")
    assert found
    assert all(h.code.startswith("01") and "pure-bred" in h.description.casefold() for h in found)
    assert "010121" in [h.code for h in found]


def test_hs_search_respects_the_limit(ref: ReferenceData) -> None:
    assert len(ref.hs_search("84", limit=7)) == 7
    assert len(ref.hs_search("84")) == 20
    assert ref.hs_search("84", limit=0) == []
    assert ref.hs_search("   ") == []


def test_hs_sections(ref: ReferenceData) -> None:
    assert len(ref.hs_sections) == 21
    assert ref.hs_section_of("847130") == "XVI"
    assert ref.hs_section_of("01") == "I"
    assert ref.hs_section_name("I") == "Live animals; animal products"
    assert ref.hs_section_name("XVI").startswith("Machinery and mechanical appliances")


def test_unknown_hs_code_or_section_raises(ref: ReferenceData) -> None:
    with pytest.raises(UnknownHsCode):
        ref.hs_section_of("999999")
    with pytest.raises(UnknownHsCode):
        ref.hs_section_name("XXII")


# --- integrity checks refuse broken data ---------------------------------------------------------


def test_the_shipped_records_pass_the_checks_when_rebuilt(ref: ReferenceData) -> None:
    assert rebuild(ref).offices == ref.offices


def test_a_crossing_to_a_missing_office_is_refused(ref: ReferenceData) -> None:
    offices = [o for o in ref.offices.values() if o.code != "UZ-GISHTKUPRIK"]
    with pytest.raises(ReferenceDataError, match="UZ-GISHTKUPRIK does not exist"):
        rebuild(ref, offices=offices)


def test_a_crossing_within_one_country_is_refused(ref: ReferenceData) -> None:
    korday = ref.crossings["KZKG-KORDAY"]
    offices = [
        dataclasses.replace(o, country="KZ", code="KZ-AKJOL-MOVED") if o.code == "KG-AKJOL" else o
        for o in ref.offices.values()
    ]
    crossings = [
        dataclasses.replace(c, office_b="KZ-AKJOL-MOVED") if c is korday else c for c in ref.crossings.values()
    ]
    with pytest.raises(ReferenceDataError, match="both sides are in KZ"):
        rebuild(ref, offices=offices, crossings=crossings)


def test_duplicate_and_unprefixed_office_codes_are_refused(ref: ReferenceData) -> None:
    almaty = ref.office("KZ-ALA-ZHETYSU")
    with pytest.raises(ReferenceDataError, match="listed twice"):
        rebuild(ref, offices=[*ref.offices.values(), almaty])
    stray = dataclasses.replace(almaty, code="ALMATY-EXTRA")
    with pytest.raises(ReferenceDataError, match="must start with KZ-"):
        rebuild(ref, offices=[*ref.offices.values(), stray])


def test_a_member_state_without_offices_is_refused(ref: ReferenceData) -> None:
    crossings = [c for c in ref.crossings.values() if "TJ" not in c.code[:4]]
    kept = {c.code for c in crossings}
    offices = [
        dataclasses.replace(o, crossings=tuple(x for x in o.crossings if x in kept))
        for o in ref.offices.values()
        if o.country != "TJ" and (o.kind is not OfficeKind.BORDER or set(o.crossings) & kept)
    ]
    # Without TJ and the far sides of its crossings the rest holds together, so the only
    # complaint left is the missing member state.
    with pytest.raises(ReferenceDataError, match=r"^member state TJ has no office$"):
        rebuild(ref, offices=offices, crossings=crossings)

"""Hypothesis strategies for what Silkway takes from outside: MRNs, money, HS and office codes, transit
declarations, MRZ lines and names, visa applications and dates.

Each kind comes twice: values of the right form, drawn from the reference data where it has them (so that a share
of the draws gets past the first check), and `*_text` strategies that mix those with near misses and garbage.
Declarations and applications come as the fields a caller sends (the API's JSON, parsed), well-formed but for at
most one field: building the domain objects from them is part of what is tested.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from silkway.places.model import MEMBER_STATES, OfficeKind
from silkway.places.reference import ReferenceData
from silkway.shared.money import Money
from silkway.shared.mrn import Mrn
from silkway.transit.model import (
    MAX_SEALS,
    Declaration,
    GoodsItem,
    GuaranteeCommitment,
    Itinerary,
    Vehicle,
)
from silkway.visas.model import Entries, Purpose, Sex
from silkway.visas.mrz import MrvA
from silkway.visas.scheme import ALPHA3, SCHEME_STATES

TODAY = date(2026, 11, 21)
REFERENCE = ReferenceData.load()
OFFICES = tuple(sorted(REFERENCE.offices))
HS_CODES = tuple(sorted(REFERENCE.hs_headings))
HS6 = tuple(code for code in HS_CODES if len(code) == 6)
CURRENCIES = ("USD", "EUR", "KZT", "UZS", "KGS", "TJS", "TMT", "AZN", "RUB", "CNY")
# Where a transit may start and end in each member state; each crossing between two member states, both ways
_ENDPOINTS = {
    state: tuple(o.code for o in REFERENCE.offices_of(state) if o.kind in (OfficeKind.INLAND, OfficeKind.SEAPORT))
    for state in MEMBER_STATES
}
_BORDERS = tuple(
    pair
    for crossing in REFERENCE.crossings.values()
    for pair in (crossing.offices, crossing.offices[::-1])
    if all(code[:2] in MEMBER_STATES for code in pair)
)

MRZ_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
# Letters of the region's passports that always have an MRZ form (Ь alone has none: it is dropped).
REGION_LETTERS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "абвгдеёжзийклмнопрстуфхцчшщыэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЫЭЮЯ"
    "әғқңөұүһіӣӯҳҷўєїґЄЇäçňöşüýžəğıİñåæøß"
)

any_text = st.text(max_size=60)
"""Any Unicode text: control characters, other scripts, the digits of other scripts, combining marks."""


def mutated(texts: st.SearchStrategy[str], alphabet: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[str]:
    """`texts` with one character replaced, inserted or deleted (or left alone), the new one from `alphabet`."""
    new = st.characters() if alphabet is None else alphabet

    @st.composite
    def one_edit(draw: st.DrawFn) -> str:
        text = draw(texts)
        at = draw(st.integers(min_value=0, max_value=len(text)))
        edit = draw(st.sampled_from(["keep", "replace", "insert", "delete"]))
        if edit == "insert":
            return text[:at] + draw(new) + text[at:]
        if edit == "keep" or at == len(text):
            return text
        return text[:at] + ("" if edit == "delete" else draw(new)) + text[at + 1 :]

    return one_edit()


# --- dates ---------------------------------------------------------------------------------------------------

dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
"""Days a person is born on or a passport expires on."""

any_dates = st.dates()
"""Every day Python has, years 1 to 9999: the edges of the calendar too."""


# --- transit -------------------------------------------------------------------------------------------------

mrns = st.builds(
    Mrn.issue,
    year=st.integers(min_value=2000, max_value=2099),
    country=st.sampled_from(MEMBER_STATES),
    serial=st.integers(min_value=1, max_value=36**13 - 1),
)
mrn_text = st.one_of(
    mrns.map(str),
    mrns.map(lambda m: f" {m[:9].lower()} {m[9:]} "),  # as typed: lower case, spaces
    mutated(mrns.map(str), st.sampled_from([*MRZ_ALPHABET[:36], "a", " ", "٣"])),
    st.from_regex(r"[0-9]{2}[A-Z]{2}[0-9A-Z]{14}", fullmatch=True),
    any_text,
)

amounts = st.decimals(min_value=0, max_value=Decimal("1e15") - 1, places=2)
money = st.builds(Money, amount=amounts, currency=st.sampled_from(CURRENCIES))
amount_text = st.one_of(
    amounts.map(str),
    st.decimals().map(str),  # NaN, infinities, any number of places
    st.integers().map(str),
    st.floats().map(repr),
    any_text,
)
currency_text = st.one_of(st.sampled_from(CURRENCIES), st.from_regex(r"[A-Z]{3}", fullmatch=True), any_text)

hs_text = st.one_of(
    st.sampled_from(HS_CODES),
    st.sampled_from(HS6).map(lambda code: f"{code[:4]}.{code[4:]}"),
    st.from_regex(r"[0-9]{1,8}", fullmatch=True),
    any_text,
)

office_text = st.one_of(
    st.sampled_from(OFFICES),
    st.sampled_from(OFFICES).map(str.lower),
    st.from_regex(r"[A-Z]{2}-[A-Z0-9-]{1,37}", fullmatch=True),
    any_text,
)
seal_text = st.one_of(st.from_regex(r"[0-9A-Za-z][0-9A-Za-z/.-]{0,34}", fullmatch=True), any_text)
seal_lists = st.lists(seal_text, max_size=MAX_SEALS + 1)


@st.composite
def routes(draw: st.DrawFn) -> tuple[str, ...]:
    """Itineraries over real crossing points between member states: departure, an (exit, entry) pair per border,
    destination, no office twice."""
    country = draw(st.sampled_from([state for state, ends in _ENDPOINTS.items() if ends]))
    offices = [draw(st.sampled_from(_ENDPOINTS[country]))]
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        onward = [
            (exit_, entry)
            for exit_, entry in _BORDERS
            if exit_[:2] == country and _ENDPOINTS[entry[:2]] and not {exit_, entry} & set(offices)
        ]
        if not onward:
            break
        exit_, entry = draw(st.sampled_from(onward))
        offices += [exit_, entry]
        country = entry[:2]
    ends = [code for code in _ENDPOINTS[country] if code not in offices]
    return (*offices, draw(st.sampled_from(ends or _ENDPOINTS[country])))


def one_garbled(
    valid: st.SearchStrategy[dict[str, Any]], garbage: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """Fields drawn from `valid`, with at most one of them replaced by a draw from `garbage`: most draws break one
    rule, and some break none, so that what follows the first check is reached too."""

    @st.composite
    def garble(draw: st.DrawFn) -> dict[str, Any]:
        fields = draw(valid)
        name = draw(st.sampled_from([None, *garbage]))
        return fields if name is None else {**fields, name: draw(garbage[name])}

    return garble()


goods_fields = st.fixed_dictionaries(
    {
        "hs_code": st.sampled_from(HS6),
        "description": st.just("laptops"),
        "packages": st.integers(min_value=1, max_value=1_000_000),
        "gross_mass_kg": st.decimals(min_value=Decimal("0.001"), max_value=1_000_000, places=3),
        "value": st.tuples(amounts.map(str), st.sampled_from(CURRENCIES)),
    }
)
declaration_fields = one_garbled(
    st.fixed_dictionaries(
        {
            "vehicle": st.just(("123 ABC 02", "KZ")),
            "containers": st.sampled_from([[], ["CSQU3054383"]]),
            "itinerary": routes(),
            "goods": st.lists(goods_fields, min_size=1, max_size=3),
            "guarantee": st.tuples(amounts.map(str), st.sampled_from(CURRENCIES)),
        }
    ),
    {
        "vehicle": st.one_of(st.none(), st.tuples(any_text, any_text)),
        "containers": st.lists(any_text, min_size=1, max_size=2),
        "itinerary": st.lists(office_text, max_size=8).map(tuple),
        "goods": st.lists(
            st.fixed_dictionaries(
                {
                    "hs_code": hs_text,
                    "description": any_text,
                    "packages": st.integers(),
                    "gross_mass_kg": st.decimals(),
                    "value": st.tuples(amount_text, currency_text),
                }
            ),
            max_size=2,
        ),
        "guarantee": st.tuples(amount_text, currency_text),
    },
)
"""A transit declaration as its holder sends it: vehicle (plate, country), containers, offices, goods items and the
guarantee's (amount, currency); well-formed but for at most one field."""

declarations = st.builds(
    Declaration,
    holder=st.just("carrier-kz"),
    vehicle=st.just(Vehicle(plate="123 ABC 02", country="KZ")),
    containers=st.just(()),
    itinerary=st.builds(Itinerary, offices=routes()),
    goods=st.lists(
        st.builds(
            GoodsItem,
            hs_code=st.sampled_from(HS6),
            description=st.just("laptops"),
            packages=st.integers(min_value=1, max_value=1_000_000),
            gross_mass_kg=st.decimals(min_value=Decimal("0.001"), max_value=1_000_000, places=3),
            value=money,
        ),
        min_size=1,
        max_size=3,
    ).map(tuple),
    guarantee=st.builds(GuaranteeCommitment, reference=st.sampled_from(["GRN-KZ-0001", "GRN-KZ-0002"]), amount=money),
)
"""Declarations that pass the checks of their parts and of the reference data; a guarantee may still refuse them."""


# --- visas: the MRZ and names --------------------------------------------------------------------------------

names = st.lists(st.text(alphabet=REGION_LETTERS, min_size=1, max_size=14), min_size=1, max_size=4).map(" ".join)
"""Names in the region's scripts, each with an MRZ form."""

name_text = st.one_of(names, st.text(alphabet=REGION_LETTERS + " -'ʻ<.,0Ьь", max_size=40), any_text)

mrz_codes = st.one_of(st.from_regex(r"[A-Z]{3}", fullmatch=True), st.just("D"))
zones = st.builds(
    MrvA,
    issuing_state=mrz_codes,
    surname=names,
    given_names=st.one_of(st.just(""), names),
    visa_number=st.from_regex(r"[A-Z0-9]([A-Z0-9<]{0,7}[A-Z0-9])?", fullmatch=True),
    nationality=mrz_codes,
    date_of_birth=dates,
    sex=st.sampled_from(["M", "F", "X"]),
    valid_until=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    optional_data=st.from_regex(r"([A-Z0-9<]{0,15}[A-Z0-9])?", fullmatch=True),
    document_code=st.sampled_from(["V", "VC", "VD"]),
)
"""MRV-A zones of well-formed data."""

mrz_lines = st.one_of(
    zones.map(MrvA.lines),
    st.tuples(
        mutated(zones.map(lambda zone: zone.lines()[0]), st.sampled_from(MRZ_ALPHABET)),
        mutated(zones.map(lambda zone: zone.lines()[1]), st.sampled_from(MRZ_ALPHABET)),
    ),
    st.tuples(*[st.text(alphabet=MRZ_ALPHABET, min_size=44, max_size=44)] * 2),
    st.tuples(any_text, any_text),
)
"""Pairs of lines: written zones, zones with a character changed, inserted or deleted, and garbage."""


# --- visas: applications -------------------------------------------------------------------------------------

state_codes = st.one_of(st.sampled_from(SCHEME_STATES), st.sampled_from(sorted(ALPHA3)), st.sampled_from(["DE", "kz"]))


@st.composite
def _well_formed_application(draw: st.DrawFn) -> dict[str, Any]:
    states = draw(st.lists(st.sampled_from(SCHEME_STATES), min_size=1, max_size=4, unique=True))
    arrive = draw(st.dates(min_value=TODAY, max_value=TODAY + timedelta(days=180)))
    leave = arrive + timedelta(days=draw(st.integers(min_value=0, max_value=89)))
    return {
        "surname": draw(names),
        "given_names": draw(st.one_of(st.just(""), names)),
        "native_name": draw(st.one_of(st.none(), names)),
        "nationality": draw(st.sampled_from(["IND", "AFG", "IRN", "PAK", "NGA"])),  # need a visa everywhere
        "date_of_birth": draw(st.dates(min_value=date(1930, 1, 1), max_value=date(2008, 12, 31))),
        "sex": draw(st.sampled_from(Sex)),
        "passport_number": draw(st.from_regex(r"[A-Z0-9]{1,9}", fullmatch=True)),
        "passport_expiry": leave + timedelta(days=draw(st.integers(min_value=91, max_value=4000))),
        "states": states,
        "main_destination": draw(st.one_of(st.none(), st.sampled_from(states))),
        "from": arrive,
        "to": leave,
        "purpose": draw(st.sampled_from(Purpose)),
        "entries": draw(st.sampled_from(Entries)),
        "itinerary": draw(
            st.lists(
                st.fixed_dictionaries(
                    {"state": st.sampled_from(states), "from": st.just(arrive), "to": st.just(leave)}
                ),
                max_size=2,
            )
        ),
    }


application_fields = one_garbled(
    _well_formed_application(),
    {
        "surname": name_text,
        "given_names": name_text,
        "native_name": any_text,
        "nationality": st.one_of(st.sampled_from(["DEU", "USA", "CHN", "RUS", "UTO", "ARM"]), any_text),
        "date_of_birth": dates,
        "passport_number": any_text,
        "passport_expiry": dates,
        "states": st.lists(state_codes, max_size=4),
        "main_destination": state_codes,
        "from": dates,
        "to": dates,
        "itinerary": st.lists(st.fixed_dictionaries({"state": state_codes, "from": dates, "to": dates}), max_size=3),
    },
)
"""A visa application as a traveller sends it, lodged on `TODAY`; well-formed but for at most one field."""

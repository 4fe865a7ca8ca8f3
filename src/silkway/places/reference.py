"""The reference data shipped in the package: member states, customs offices, crossings and HS 2022.

`ReferenceData.load()` reads the CSV files in ``silkway/places/reference/``, checks that they hold
together and indexes them in dictionaries. Build it once (in bootstrap) and pass it down: it is
immutable, so one instance can be shared by every thread.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from importlib import resources
from types import MappingProxyType

import pycountry

from silkway.places.errors import ReferenceDataError, UnknownHsCode, UnknownOffice
from silkway.places.model import (
    CROSSING_MODES,
    MEMBER_STATES,
    CrossingPoint,
    HsHeading,
    MemberState,
    Office,
    OfficeKind,
)

_REFERENCE_DIR = "reference"

# The CSV files keep the facility kind of the sources; routing only needs three kinds.
_OFFICE_KINDS: Mapping[str, OfficeKind] = MappingProxyType(
    {
        "inland_customs": OfficeKind.INLAND,
        "dry_port": OfficeKind.INLAND,
        "airport": OfficeKind.INLAND,
        "seaport": OfficeKind.SEAPORT,
        "border": OfficeKind.BORDER,
    }
)
_MODES_OF_KIND: Mapping[OfficeKind, frozenset[str]] = MappingProxyType(
    {
        OfficeKind.INLAND: frozenset({""}),
        OfficeKind.BORDER: frozenset({"road", "rail", "road+rail"}),
        OfficeKind.SEAPORT: frozenset({"sea"}),
    }
)
_HS_ROOT = "TOTAL"  # the data package's parent of every chapter
_HS_LEVELS = frozenset({2, 4, 6})
_ROMAN = re.compile(r"^[IVX]+$")
_MAX_PROBLEMS_SHOWN = 10


@functools.cache
def _iso_countries() -> frozenset[str]:
    return frozenset(str(country.alpha_2) for country in pycountry.countries)


@functools.cache
def _iso_currencies() -> frozenset[str]:
    return frozenset(str(currency.alpha_3) for currency in pycountry.currencies)


def _normalize_hs(code: str) -> str:
    # People write subheadings as "8471.30" or "8471 30"; the nomenclature stores bare digits.
    return code.replace(".", "").replace(" ", "")


class ReferenceData:
    """Member states, customs offices, crossing points and the HS 2022 nomenclature, indexed.

    Invariants: everything stated on `MemberState`, `Office`, `CrossingPoint` and `HsHeading` holds
    for every record; all six `MEMBER_STATES` are present, each with at least one office. The
    mappings are read-only and every lookup is a dictionary access. Codes are compared exactly
    (ISO codes are upper case); only HS lookups ignore dots and spaces in the code.
    """

    __slots__ = (
        "_crossing_by_pair",
        "_crossings",
        "_currencies",
        "_hs",
        "_hs_ranked",
        "_member_states",
        "_offices",
        "_offices_sorted",
        "_sections",
    )

    def __init__(
        self,
        *,
        member_states: Mapping[str, MemberState],
        offices: Mapping[str, Office],
        crossings: Mapping[str, CrossingPoint],
        headings: Mapping[str, HsHeading],
        sections: Mapping[str, str],
    ) -> None:
        # Private: use `load()` or `from_records()`, which check the invariants first.
        self._member_states = MappingProxyType(dict(member_states))
        self._offices = MappingProxyType(dict(offices))
        self._crossings = MappingProxyType(dict(crossings))
        self._hs = MappingProxyType(dict(headings))
        self._sections = MappingProxyType(dict(sections))
        self._currencies = _iso_currencies()
        self._offices_sorted = tuple(sorted(offices.values(), key=lambda office: office.code))
        pairs: dict[tuple[str, str], CrossingPoint] = {}
        for crossing in crossings.values():
            pairs[(crossing.office_a, crossing.office_b)] = crossing
            pairs[(crossing.office_b, crossing.office_a)] = crossing
        self._crossing_by_pair = MappingProxyType(pairs)
        # Search answers subheadings first, then headings, then chapters, each in code order.
        self._hs_ranked = tuple(
            (heading, heading.description.casefold())
            for heading in sorted(headings.values(), key=lambda h: (-h.level, h.code))
        )

    @classmethod
    def load(cls) -> ReferenceData:
        """Read, check and index the CSV files shipped in ``silkway/places/reference/``.

        Member-state and currency names come from pycountry. Takes well under 0.3 s.
        On failure, raises `ReferenceDataError` naming every broken row (a missing file or column,
        a malformed number, a crossing whose office does not exist, sides in one country, ...).
        """
        member_states = _read_member_states()
        crossings = _read_crossings()
        sides: defaultdict[str, list[str]] = defaultdict(list)
        for crossing in crossings:
            sides[crossing.office_a].append(crossing.code)
            sides[crossing.office_b].append(crossing.code)
        offices = _read_offices(sides)
        headings = _read_headings()
        sections = {row["section"]: row["name"] for row in _rows("hs_sections.csv", ("section", "name"))}
        return cls.from_records(
            member_states=member_states,
            offices=offices,
            crossings=crossings,
            headings=headings,
            sections=sections,
        )

    @classmethod
    def from_records(
        cls,
        *,
        member_states: Iterable[MemberState],
        offices: Iterable[Office],
        crossings: Iterable[CrossingPoint],
        headings: Iterable[HsHeading],
        sections: Mapping[str, str],
    ) -> ReferenceData:
        """Check already-built records against every invariant and index them.

        `load()` uses this; tests use it to feed broken data. `Office.crossings` must already list
        the crossings each office is a side of.
        On failure, raises `ReferenceDataError` listing the problems found.
        """
        member_list = list(member_states)
        office_list = list(offices)
        crossing_list = list(crossings)
        heading_list = list(headings)
        problems: list[str] = []
        problems += _check_member_states(member_list)
        problems += _check_offices(office_list, {m.code for m in member_list})
        office_index = {office.code: office for office in office_list}
        problems += _check_crossings(crossing_list, office_index)
        problems += _check_headings(heading_list, sections)
        if problems:
            shown = "; ".join(problems[:_MAX_PROBLEMS_SHOWN])
            more = len(problems) - _MAX_PROBLEMS_SHOWN
            raise ReferenceDataError(f"{shown}; and {more} more" if more > 0 else shown)
        return cls(
            member_states={m.code: m for m in member_list},
            offices=office_index,
            crossings={c.code: c for c in crossing_list},
            headings={h.code: h for h in heading_list},
            sections=sections,
        )

    @property
    def member_states(self) -> Mapping[str, MemberState]:
        """The six member states by ISO alpha-2 code (read-only)."""
        return self._member_states

    @property
    def offices(self) -> Mapping[str, Office]:
        """Every customs office, members' and neighbours', by code (read-only)."""
        return self._offices

    @property
    def crossings(self) -> Mapping[str, CrossingPoint]:
        """Every crossing point by code (read-only)."""
        return self._crossings

    @property
    def hs_headings(self) -> Mapping[str, HsHeading]:
        """Every HS 2022 chapter, heading and subheading by its bare digits (read-only)."""
        return self._hs

    @property
    def hs_sections(self) -> Mapping[str, str]:
        """The 21 HS sections: roman numeral to English name (read-only)."""
        return self._sections

    def office(self, code: str) -> Office:
        """Return the office with this code.

        On failure, raises `UnknownOffice`.
        """
        try:
            return self._offices[code]
        except KeyError:
            raise UnknownOffice(
                f"no customs office has the code {code!r}", fields={"office": "unknown office"}
            ) from None

    def crossing_between(self, exit_office: str, entry_office: str) -> CrossingPoint | None:
        """Return the crossing whose two sides are these offices, in either order.

        Returns `None` when they are not the two sides of one crossing, unknown codes included.
        Raises nothing.
        """
        return self._crossing_by_pair.get((exit_office, entry_office))

    def offices_of(self, country: str | None = None, kind: OfficeKind | None = None) -> list[Office]:
        """Return the offices of `country` and of `kind` (either filter may be left out), sorted by code.

        An unknown country gives an empty list. Raises nothing.
        """
        return [
            office
            for office in self._offices_sorted
            if (country is None or office.country == country) and (kind is None or office.kind == kind)
        ]

    def is_member(self, country: str) -> bool:
        """Tell whether `country` (ISO alpha-2, upper case) is a state of the cargo-transit scheme."""
        return country in self._member_states

    def hs(self, code: str) -> HsHeading | None:
        """Return the HS 2022 chapter, heading or subheading with this code, or `None`.

        Dots and spaces in `code` are ignored (``"8471.30"`` is ``"847130"``). Raises nothing.
        """
        return self._hs.get(_normalize_hs(code))

    def is_hs6(self, code: str) -> bool:
        """Tell whether `code` is a six-digit subheading of HS 2022 (dots and spaces ignored)."""
        heading = self.hs(code)
        return heading is not None and heading.level == 6

    def hs_search(self, text: str, limit: int = 20) -> list[HsHeading]:
        """Find HS headings by code prefix, by words, or both.

        Each whitespace-separated token of `text` that is digits (dots allowed, ``"8471.3"``) is a
        code prefix that the code must start with; every other token is a word that must appear in the
        description, ignoring case (``"horse"`` also finds "Horses"). Results come subheadings first,
        then headings, then chapters, each in code order, at most `limit` of them. Blank `text` or
        a `limit` below 1 gives an empty list. Raises nothing.
        """
        prefixes: list[str] = []
        words: list[str] = []
        for token in text.split():
            digits = token.replace(".", "")
            if digits.isdigit():
                prefixes.append(digits)
            else:
                words.append(token.casefold())
        if limit < 1 or not (prefixes or words):
            return []
        found: list[HsHeading] = []
        for heading, description in self._hs_ranked:
            if all(heading.code.startswith(p) for p in prefixes) and all(w in description for w in words):
                found.append(heading)
                if len(found) == limit:
                    break
        return found

    def hs_section_of(self, code: str) -> str:
        """Return the roman numeral of the HS section that `code` belongs to (dots and spaces ignored).

        On failure, raises `UnknownHsCode`.
        """
        heading = self.hs(code)
        if heading is None:
            raise UnknownHsCode(f"{code!r} is not an HS 2022 code", fields={"hs_code": "unknown HS code"})
        return heading.section

    def hs_section_name(self, section: str) -> str:
        """Return the English name of the HS section with this roman numeral (``"XVI"``).

        On failure, raises `UnknownHsCode`.
        """
        try:
            return self._sections[section]
        except KeyError:
            raise UnknownHsCode(f"{section!r} is not an HS section", fields={"section": "unknown HS section"}) from None

    def is_currency(self, code: str) -> bool:
        """Tell whether `code` is an ISO 4217 alphabetic currency code (upper case, via pycountry)."""
        return code in self._currencies


# --- reading the CSV files ----------------------------------------------------------------------


def _rows(name: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    path = resources.files("silkway.places").joinpath(_REFERENCE_DIR, name)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReferenceDataError(f"cannot read reference file {name}: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if tuple(reader.fieldnames or ()) != columns:
        raise ReferenceDataError(f"{name}: expected columns {columns}, found {reader.fieldnames}")
    rows = list(reader)
    for line, row in enumerate(rows, start=2):
        if None in row or any(value is None for value in row.values()):
            raise ReferenceDataError(f"{name} line {line}: wrong number of fields")
    return rows


def _coordinate(row: Mapping[str, str], where: str) -> tuple[float | None, float | None]:
    lat, lon = row["lat"].strip(), row["lon"].strip()
    if not lat and not lon:
        return None, None
    try:
        return float(lat), float(lon)
    except ValueError:
        raise ReferenceDataError(f"{where}: bad coordinates {lat!r}, {lon!r}") from None


def _read_member_states() -> list[MemberState]:
    states = []
    for row in _rows("member_states.csv", ("code", "currency")):
        country = pycountry.countries.get(alpha_2=row["code"])
        currency = pycountry.currencies.get(alpha_3=row["currency"])
        if country is None or currency is None:
            raise ReferenceDataError(f"member_states.csv: {row['code']!r} or {row['currency']!r} is not an ISO code")
        states.append(
            MemberState(
                code=row["code"],
                name=str(country.name),
                currency=row["currency"],
                currency_name=str(currency.name),
            )
        )
    return states


def _read_offices(sides: Mapping[str, list[str]]) -> list[Office]:
    columns = ("code", "country", "kind", "name_en", "name_local", "lat", "lon", "mode", "source")
    offices = []
    for row in _rows("offices.csv", columns):
        where = f"offices.csv {row['code']}"
        kind = _OFFICE_KINDS.get(row["kind"])
        if kind is None:
            raise ReferenceDataError(f"{where}: unknown kind {row['kind']!r}")
        lat, lon = _coordinate(row, where)
        offices.append(
            Office(
                code=row["code"],
                country=row["country"],
                kind=kind,
                name=row["name_en"],
                name_local=row["name_local"],
                lat=lat,
                lon=lon,
                crossings=tuple(sorted(sides.get(row["code"], ()))),
                mode=row["mode"],
            )
        )
    return offices


def _read_crossings() -> list[CrossingPoint]:
    columns = ("code", "office_a", "office_b", "mode", "lat", "lon", "name", "notes", "source")
    crossings = []
    for row in _rows("crossings.csv", columns):
        lat, lon = _coordinate(row, f"crossings.csv {row['code']}")
        crossings.append(
            CrossingPoint(
                code=row["code"],
                office_a=row["office_a"],
                office_b=row["office_b"],
                mode=row["mode"],
                lat=lat,
                lon=lon,
                name=row["name"],
            )
        )
    return crossings


def _read_headings() -> list[HsHeading]:
    headings = []
    for row in _rows("hs2022.csv", ("section", "hscode", "description", "parent", "level")):
        try:
            level = int(row["level"])
        except ValueError:
            raise ReferenceDataError(f"hs2022.csv {row['hscode']}: bad level {row['level']!r}") from None
        headings.append(
            HsHeading(
                code=row["hscode"],
                description=row["description"],
                level=level,
                section=row["section"],
                parent="" if row["parent"] == _HS_ROOT else row["parent"],
            )
        )
    return headings


# --- checking the invariants --------------------------------------------------------------------


def _duplicates(codes: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    repeated: list[str] = []
    for code in codes:
        if code in seen:
            repeated.append(code)
        seen.add(code)
    return repeated


def _coordinates_problem(lat: float | None, lon: float | None) -> str | None:
    if (lat is None) != (lon is None):
        return "only one of lat and lon is set"
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return f"coordinates out of range ({lat}, {lon})"
    return None


def _check_member_states(states: list[MemberState]) -> list[str]:
    problems = [f"member state {code} listed twice" for code in _duplicates(s.code for s in states)]
    codes = {s.code for s in states}
    if codes != set(MEMBER_STATES):
        problems.append(f"member states are {sorted(codes)}, expected {sorted(MEMBER_STATES)}")
    currencies = _iso_currencies()
    problems += [
        f"member state {s.code}: {s.currency!r} is not ISO 4217" for s in states if s.currency not in currencies
    ]
    return problems


def _check_offices(offices: list[Office], members: set[str]) -> list[str]:
    problems = [f"office {code} listed twice" for code in _duplicates(o.code for o in offices)]
    countries = _iso_countries()
    for office in offices:
        where = f"office {office.code}"
        if office.country not in countries:
            problems.append(f"{where}: {office.country!r} is not an ISO 3166 alpha-2 code")
        if not office.code.startswith(f"{office.country}-") or office.code == f"{office.country}-":
            problems.append(f"{where}: code must start with {office.country}- and go on")
        if not office.name.strip():
            problems.append(f"{where}: no English name")
        if office.mode not in _MODES_OF_KIND[office.kind]:
            problems.append(f"{where}: mode {office.mode!r} does not fit kind {office.kind}")
        if office.kind is OfficeKind.BORDER and not office.crossings:
            problems.append(f"{where}: a border office must be a side of a crossing")
        if office.kind is OfficeKind.INLAND and office.crossings:
            problems.append(f"{where}: an inland office cannot be a side of a crossing")
        coordinates = _coordinates_problem(office.lat, office.lon)
        if coordinates:
            problems.append(f"{where}: {coordinates}")
    with_offices = {office.country for office in offices}
    problems += [f"member state {code} has no office" for code in sorted(members - with_offices)]
    return problems


def _check_crossings(crossings: list[CrossingPoint], offices: Mapping[str, Office]) -> list[str]:
    problems = [f"crossing {code} listed twice" for code in _duplicates(c.code for c in crossings)]
    pairs = [frozenset(crossing.offices) for crossing in crossings]
    problems += [
        f"crossings {a.code} and {b.code} join the same offices"
        for i, a in enumerate(crossings)
        for b in crossings[i + 1 :]
        if pairs[i] == frozenset(b.offices)
    ]
    sides: defaultdict[str, list[str]] = defaultdict(list)
    for crossing in crossings:
        where = f"crossing {crossing.code}"
        if crossing.mode not in CROSSING_MODES:
            problems.append(f"{where}: unknown mode {crossing.mode!r}")
        if not crossing.name.strip():
            problems.append(f"{where}: no name")
        coordinates = _coordinates_problem(crossing.lat, crossing.lon)
        if coordinates:
            problems.append(f"{where}: {coordinates}")
        ends = [offices.get(code) for code in crossing.offices]
        for code, end in zip(crossing.offices, ends, strict=True):
            sides[code].append(crossing.code)
            if end is None:
                problems.append(f"{where}: office {code} does not exist")
            else:
                problems += _side_problems(crossing, end)
        a, b = ends
        if a is None or b is None:
            continue
        if a.country == b.country:
            problems.append(f"{where}: both sides are in {a.country}")
        if a.country not in MEMBER_STATES and b.country not in MEMBER_STATES:
            problems.append(f"{where}: neither side is a member state")
        if not crossing.code.startswith(f"{a.country}{b.country}-"):
            problems.append(f"{where}: code must start with {a.country}{b.country}-")
    for office in offices.values():
        expected = tuple(sorted(sides.get(office.code, ())))
        if office.crossings != expected:
            problems.append(f"office {office.code}: crossings {office.crossings}, expected {expected}")
    return problems


def _side_problems(crossing: CrossingPoint, side: Office) -> list[str]:
    where = f"crossing {crossing.code}, side {side.code}"
    problems = []
    wanted = OfficeKind.SEAPORT if crossing.mode == "sea" else OfficeKind.BORDER
    if side.kind is not wanted:
        problems.append(f"{where}: a {crossing.mode} crossing needs a {wanted} office, not {side.kind}")
    if side.mode != crossing.mode:
        problems.append(f"{where}: office mode {side.mode!r} differs from the crossing's")
    if side.kind is OfficeKind.BORDER and (side.lat, side.lon) != (crossing.lat, crossing.lon):
        problems.append(f"{where}: a border office takes its crossing's coordinates")
    return problems


def _check_headings(headings: list[HsHeading], sections: Mapping[str, str]) -> list[str]:
    problems = [f"section {s!r} is not a roman numeral" for s in sections if not _ROMAN.fullmatch(s)]
    problems += [f"section {s} has no name" for s, name in sections.items() if not name.strip()]
    problems += [f"HS code {code} listed twice" for code in _duplicates(h.code for h in headings)]
    index = {heading.code: heading for heading in headings}
    for heading in headings:
        where = f"HS code {heading.code!r}"
        if heading.level not in _HS_LEVELS or len(heading.code) != heading.level or not heading.code.isdigit():
            problems.append(f"{where}: not {heading.level} digits at level 2, 4 or 6")
            continue
        if heading.section not in sections:
            problems.append(f"{where}: unknown section {heading.section!r}")
        if not heading.description.strip():
            problems.append(f"{where}: no description")
        if heading.level == 2:
            if heading.parent:
                problems.append(f"{where}: a chapter has no parent")
            continue
        parent = index.get(heading.parent)
        if parent is None or parent.level != heading.level - 2 or not heading.code.startswith(parent.code):
            problems.append(f"{where}: parent {heading.parent!r} is not the enclosing heading")
        elif parent.section != heading.section:
            problems.append(f"{where}: section {heading.section} differs from its parent's")
    return problems

"""Checks of a declaration against the reference data: offices, crossings, HS codes, currencies."""

from __future__ import annotations

from silkway.transit.errors import IncoherentItinerary, InvalidDeclaration
from silkway.transit.model import BorderCrossing, Declaration
from silkway.transit.ports import Places


def check_declaration(declaration: Declaration, places: Places) -> tuple[BorderCrossing, ...]:
    """Check everything the declaration names exists and the route is coherent; return its borders.

    Reports every failing field at once. Raises `IncoherentItinerary` when the offices exist but do not
    form a route over real crossing points, `InvalidDeclaration` for any other unknown thing.
    """
    problems: dict[str, str] = {}
    offices = declaration.itinerary.offices
    countries: list[str | None] = []
    for i, code in enumerate(offices):
        country = places.office_country(code)
        countries.append(country)
        if country is None:
            problems[f"itinerary[{i}]"] = f"unknown office {code}"
        elif not places.is_member(country):
            problems[f"itinerary[{i}]"] = f"{code} is in {country}, which is not a member state"
    for i, item in enumerate(declaration.goods):
        if not places.is_hs6(item.hs_code):
            problems[f"goods[{i}].hs_code"] = f"{item.hs_code} is not a subheading of HS 2022"
        if not places.is_currency(item.value.currency):
            problems[f"goods[{i}].value.currency"] = f"unknown currency {item.value.currency}"
    if not places.is_currency(declaration.guarantee.amount.currency):
        problems["guarantee.currency"] = f"unknown currency {declaration.guarantee.amount.currency}"
    if problems:
        raise InvalidDeclaration(_summary(problems), fields=problems)

    borders: list[BorderCrossing] = []
    for i in range(1, len(offices) - 1, 2):
        exit_office, entry_office = offices[i], offices[i + 1]
        crossing = places.crossing_code(exit_office, entry_office)
        if crossing is None:
            problems[f"itinerary[{i}]"] = f"no crossing point joins {exit_office} and {entry_office}"
            continue
        if countries[i] != countries[i - 1]:
            problems[f"itinerary[{i}]"] = (
                f"the route reaches {countries[i - 1]} at {offices[i - 1]} but leaves {countries[i]} at {exit_office}"
            )
        borders.append(BorderCrossing(exit_office=exit_office, entry_office=entry_office, crossing=crossing))
    if countries[-1] != countries[-2]:
        problems[f"itinerary[{len(offices) - 1}]"] = (
            f"the destination {offices[-1]} is in {countries[-1]}, but the route ends in {countries[-2]}"
        )
    if problems:
        raise IncoherentItinerary(_summary(problems), fields=problems)
    return tuple(borders)


def _summary(problems: dict[str, str]) -> str:
    return "; ".join(f"{path}: {what}" for path, what in problems.items())

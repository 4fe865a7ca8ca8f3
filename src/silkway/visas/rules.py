"""The rules an application must meet before a consul sees it (Visa Code Arts. 9-12, the scheme's lists)."""

from __future__ import annotations

from datetime import date, timedelta

from silkway.visas.errors import InvalidApplication
from silkway.visas.model import Applicant, TravelPlan
from silkway.visas.mrz import name_field
from silkway.visas.ports import Countries
from silkway.visas.scheme import Scheme


def check_application(
    applicant: Applicant, plan: TravelPlan, *, scheme: Scheme, countries: Countries, today: date
) -> None:
    """Refuse an application that cannot be examined, naming every failing field at once.

    Raises `NoMrzForm` for a name with no MRZ form, and `InvalidApplication` for: an unknown nationality, a
    state outside the scheme, dates reversed or in the past, a trip lodged too early, a stay over the
    scheme's maximum, a passport expiring less than three months after the stay (or already expired), a
    birth date in the future, a nationality that needs no visa for any state visited, or one not eligible.
    """
    name_field(applicant.surname, applicant.given_names)
    problems: dict[str, str] = {}
    if not countries.is_nationality(applicant.nationality):
        problems["nationality"] = f"{applicant.nationality} is not an ISO 3166 alpha-3 nationality"
    for i, state in enumerate(plan.states):
        if scheme.policy(state) is None:
            problems[f"states[{i}]"] = f"{state} does not take part in the Commonwealth Visa"
    if plan.leave < plan.arrive:
        problems["to"] = "the stay ends before it starts"
    elif plan.arrive < today:
        problems["from"] = f"the stay starts in the past (today is {today.isoformat()})"
    elif plan.arrive > today + timedelta(days=scheme.max_lodging_days_ahead):
        problems["from"] = f"applications are lodged at most {scheme.max_lodging_days_ahead} days before the trip"
    if plan.leave >= plan.arrive and plan.days > scheme.max_stay_days:
        problems["to"] = f"the stay is {plan.days} days; a short stay is at most {scheme.max_stay_days} days"
    if applicant.date_of_birth > today:
        problems["date_of_birth"] = "the date of birth is in the future"
    if applicant.passport_expiry < today:
        problems["passport_expiry"] = "the passport has expired"
    elif applicant.passport_expiry < _plus_days(plan.leave, scheme.min_passport_validity_days):
        problems["passport_expiry"] = (
            f"the passport must be valid at least {scheme.min_passport_validity_days} days after the stay ends "
            f"(until {_plus_days(plan.leave, scheme.min_passport_validity_days).isoformat()})"
        )
    if problems:
        raise InvalidApplication(_summary(problems), fields=problems)
    policies = [scheme.states[s] for s in plan.states]
    if not any(p.needs_visa(applicant.nationality) for p in policies):
        raise InvalidApplication(
            f"holders of {applicant.nationality} passports need no visa for {', '.join(plan.states)}",
            fields={"nationality": "needs no visa for these states"},
        )
    refusing = [p.state for p in policies if not p.is_eligible(applicant.nationality)]
    if refusing:
        raise InvalidApplication(
            f"{applicant.nationality} passports are not eligible for the Commonwealth Visa in {', '.join(refusing)}",
            fields={"states": f"not eligible in {', '.join(refusing)}"},
        )


def _summary(problems: dict[str, str]) -> str:
    first = next(iter(problems.values()))
    more = len(problems) - 1
    return first if not more else f"{first} (and {more} more problem{'s' if more > 1 else ''})"


def _plus_days(day: date, days: int) -> date:
    """`day` plus `days`, or the last day of the calendar when that is beyond it (a stay ending in 9999)."""
    return day + timedelta(days=days) if day < date.max - timedelta(days=days) else date.max

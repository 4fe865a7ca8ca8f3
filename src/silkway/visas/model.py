"""The value objects of the Commonwealth Visa: the applicant, the travel plan, decisions, the visa, alerts.

Built from the caller's input; each checks its own shape on construction and raises `InvalidInput`
naming the field. Rules that need the scheme or the date (competence, eligibility, dates in the past)
live in `rules`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from silkway.shared.errors import InvalidInput


class Sex(StrEnum):
    """As ICAO 9303 writes it: male, female, or unspecified (X)."""

    MALE = "M"
    FEMALE = "F"
    UNSPECIFIED = "X"


class Entries(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"


class Purpose(StrEnum):
    """The main purpose of the journey, as the Visa Code's harmonised application form lists them."""

    TOURISM = "tourism"
    BUSINESS = "business"
    VISITING_FAMILY = "visiting_family"
    CULTURE = "culture"
    SPORTS = "sports"
    OFFICIAL_VISIT = "official_visit"
    MEDICAL = "medical"
    STUDY = "study"
    TRANSIT = "transit"
    OTHER = "other"


class ApplicationStatus(StrEnum):
    LODGED = "lodged"  # waiting for the consul; prior consultation may be running
    ISSUED = "issued"
    ISSUED_LTV = "issued_ltv"
    REFUSED = "refused"


class VisaStatus(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"  # conditions no longer met (Visa Code Art. 34(2))
    ANNULLED = "annulled"  # conditions were not met when it was issued (Art. 34(1))


class Direction(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


_PASSPORT = re.compile(r"[A-Z0-9]{1,9}")
_ALPHA2 = re.compile(r"[A-Z]{2}")
_ALPHA3 = re.compile(r"[A-Z]{3}")


def check_passport_number(value: str, field: str = "passport_number") -> str:
    """The number as the MRZ writes it (capitals and digits, at most 9); raises `InvalidInput` otherwise."""
    number = value.strip().upper().replace(" ", "")
    if not _PASSPORT.fullmatch(number):
        raise InvalidInput(
            "a passport number is 1 to 9 Latin letters and digits, as in the passport's machine-readable zone",
            fields={field: "malformed"},
        )
    return number


@dataclass(frozen=True, slots=True, kw_only=True)
class Applicant:
    """The traveller, as the passport's data page states.

    Invariants: `surname` and `given_names` are as written in the MRZ or in a form that has one (checked by
    the rules with `mrz.name_field`); `nationality` is alpha-3; `passport_number` is 1-9 capitals/digits.
    """

    surname: str
    given_names: str
    native_name: str | None
    nationality: str
    date_of_birth: date
    sex: Sex
    passport_number: str
    passport_expiry: date

    def __post_init__(self) -> None:
        if not self.surname.strip():
            raise InvalidInput("the surname is required", fields={"surname": "empty"})
        if len(self.surname) > 100 or len(self.given_names) > 100:
            raise InvalidInput("names are at most 100 characters", fields={"surname": "too long"})
        if self.native_name is not None and len(self.native_name) > 200:
            raise InvalidInput("the native name is at most 200 characters", fields={"native_name": "too long"})
        if not _ALPHA3.fullmatch(self.nationality):
            raise InvalidInput(
                "nationality is an ISO 3166 alpha-3 code such as DEU", fields={"nationality": "malformed"}
            )
        object.__setattr__(self, "passport_number", check_passport_number(self.passport_number))

    @property
    def full_name(self) -> str:
        return f"{self.surname} {self.given_names}".strip()


@dataclass(frozen=True, slots=True, kw_only=True)
class StatePlan:
    """Days planned in one state, when the applicant gives them."""

    state: str
    arrive: date
    leave: date

    @property
    def days(self) -> int:
        return (self.leave - self.arrive).days + 1


@dataclass(frozen=True, slots=True, kw_only=True)
class TravelPlan:
    """Where and when: the states in the order of travel (the first is the state of first entry).

    Invariants: `states` are distinct alpha-2 codes; `main_destination`, when given, is one of them;
    `itinerary`, when given, names only those states.
    """

    states: tuple[str, ...]
    arrive: date
    leave: date
    main_destination: str | None
    purpose: Purpose
    entries: Entries
    itinerary: tuple[StatePlan, ...] = ()

    def __post_init__(self) -> None:
        if not self.states:
            raise InvalidInput("name at least one state to visit", fields={"states": "empty"})
        for i, state in enumerate(self.states):
            if not _ALPHA2.fullmatch(state):
                raise InvalidInput("states are ISO 3166 alpha-2 codes", fields={f"states[{i}]": "malformed"})
        if len(set(self.states)) != len(self.states):
            raise InvalidInput("each state is named once", fields={"states": "duplicates"})
        if self.main_destination is not None and self.main_destination not in self.states:
            raise InvalidInput(
                "the main destination must be one of the states to visit", fields={"main_destination": "not listed"}
            )
        for i, leg in enumerate(self.itinerary):
            if leg.state not in self.states:
                raise InvalidInput(
                    "the itinerary names a state not listed", fields={f"itinerary[{i}].state": "unlisted"}
                )
            if leg.leave < leg.arrive or leg.arrive < self.arrive or leg.leave > self.leave:
                raise InvalidInput(
                    "each leg of the itinerary lies within the stay, arrival first",
                    fields={f"itinerary[{i}]": "outside the stay or reversed"},
                )

    @property
    def days(self) -> int:
        return (self.leave - self.arrive).days + 1

    def days_by_state(self) -> dict[str, int]:
        """Days planned per state: from the itinerary, else every day in the state of first entry."""
        if not self.itinerary:
            return {self.states[0]: self.days}
        days: dict[str, int] = {}
        for leg in self.itinerary:
            days[leg.state] = days.get(leg.state, 0) + leg.days
        return days

    def competent_state(self) -> str:
        """The state that examines the application, by the Visa Code's Art. 5 rule.

        (a) the sole destination; (b) else the main destination — the one the applicant names as the main
        purpose's, or the one with the most planned days when that is a single state; (c) else the state
        of first entry.
        """
        if len(self.states) == 1:
            return self.states[0]
        if self.main_destination is not None:
            return self.main_destination
        if self.itinerary:
            days = self.days_by_state()
            most = max(days.values())
            leaders = [s for s in self.states if days.get(s) == most]
            if len(leaders) == 1:
                return leaders[0]
        return self.states[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class RefusalGround:
    """A coded ground for refusing (Visa Code Art. 32(1) and the standard refusal form, Annex VI)."""

    code: str
    article: str
    text: str
    remedy: str | None  # what the applicant could fix in a new application; None when nothing can be


REFUSAL_GROUNDS: dict[str, RefusalGround] = {
    g.code: g
    for g in (
        RefusalGround(
            code="false_document",
            article="32(1)(a)(i)",
            text="A false, counterfeit or forged travel document was presented.",
            remedy=None,
        ),
        RefusalGround(
            code="purpose_not_justified",
            article="32(1)(a)(ii)",
            text="The purpose and conditions of the intended stay were not justified.",
            remedy="Add documents that show the purpose of the journey: an invitation, a booking, a programme.",
        ),
        RefusalGround(
            code="insufficient_means",
            article="32(1)(a)(iii)",
            text="Sufficient means of subsistence for the stay and the return were not shown.",
            remedy="Add bank statements, a sponsor's guarantee or prepaid accommodation and tickets.",
        ),
        RefusalGround(
            code="stay_exhausted",
            article="32(1)(a)(iv)",
            text="You have already stayed 90 days in the current 180-day period.",
            remedy="Apply again for dates when the 180-day window holds fewer than 90 days of presence.",
        ),
        RefusalGround(
            code="alert_refusal",
            article="32(1)(a)(v)",
            text="An alert for the purpose of refusing entry was entered in the shared alert list.",
            remedy=None,
        ),
        RefusalGround(
            code="threat",
            article="32(1)(a)(vi)",
            text="One or more states consider you a threat to public policy, internal security or public health.",
            remedy=None,
        ),
        RefusalGround(
            code="no_medical_insurance",
            article="32(1)(a)(vii)",
            text="Proof of adequate and valid travel medical insurance was not provided.",
            remedy="Add a travel medical insurance covering the whole stay in every state, at least 30,000 EUR.",
        ),
        RefusalGround(
            code="unreliable_information",
            article="32(1)(b)",
            text="The information on the purpose and conditions of the stay, or the documents, were not reliable.",
            remedy="Apply again with accurate information and authentic supporting documents.",
        ),
        RefusalGround(
            code="return_not_ascertained",
            article="32(1)(b)",
            text="Your intention to leave before the visa expires could not be ascertained.",
            remedy="Add proof of ties to your country of residence: employment, studies, family, a return ticket.",
        ),
    )
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    """A refusal: its grounds (codes of `REFUSAL_GROUNDS`) and the last day to appeal."""

    grounds: tuple[str, ...]
    appeal_until: date

    def __post_init__(self) -> None:
        if not self.grounds:
            raise InvalidInput("a refusal states at least one ground", fields={"grounds": "empty"})
        unknown = [g for g in self.grounds if g not in REFUSAL_GROUNDS]
        if unknown:
            raise InvalidInput(
                f"unknown refusal grounds: {', '.join(unknown)}; use one of {', '.join(REFUSAL_GROUNDS)}",
                fields={"grounds": "unknown code"},
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class VisaTerms:
    """What a visa allows: where, when, how often and how long.

    Invariants: `valid_from` <= `valid_until`; 1 <= `duration_of_stay_days` <= 90 and not more than the days
    of validity; `states` are where it is valid (all participating states for a uniform visa) and
    `excluded_states` those a visa with limited territorial validity leaves out.
    """

    valid_from: date
    valid_until: date
    duration_of_stay_days: int
    entries: Entries
    states: tuple[str, ...]
    excluded_states: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.valid_until < self.valid_from:
            raise InvalidInput("valid_until is before valid_from", fields={"valid_until": "before valid_from"})
        validity = (self.valid_until - self.valid_from).days + 1
        if not 1 <= self.duration_of_stay_days <= 90:
            raise InvalidInput("the duration of stay is 1 to 90 days", fields={"duration_of_stay_days": "out of range"})
        if self.duration_of_stay_days > validity:
            raise InvalidInput(
                f"the duration of stay ({self.duration_of_stay_days} days) exceeds the validity ({validity} days)",
                fields={"duration_of_stay_days": "longer than the validity"},
            )
        if not self.states:
            raise InvalidInput("a visa is valid in at least one state", fields={"excluded_states": "excludes all"})

    @property
    def limited(self) -> bool:
        return bool(self.excluded_states)


@dataclass(frozen=True, slots=True, kw_only=True)
class Visa:
    """An issued visa and what happened to it since."""

    number: str
    issuing_state: str
    issuing_office: str
    issued_at: datetime
    terms: VisaTerms
    mrz: tuple[str, str]
    status: VisaStatus = VisaStatus.VALID
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revocation_grounds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """An entry of the shared alert list (as the SIS's alerts for refusal of entry, Reg. 2018/1861 Art. 24).

    Invariants: `name` is non-empty, in any script; `state` is the state that entered it and answers for it.
    """

    id: str
    state: str
    name: str
    date_of_birth: date | None
    nationality: str | None
    reason: str
    entered_at: datetime
    entered_by: str
    expires_on: date | None = None

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > 200:
            raise InvalidInput("an alert names a person (1 to 200 characters)", fields={"name": "empty or too long"})
        if not self.reason.strip() or len(self.reason) > 500:
            raise InvalidInput("an alert states its reason (1 to 500 characters)", fields={"reason": "empty"})
        if self.nationality is not None and not _ALPHA3.fullmatch(self.nationality):
            raise InvalidInput("nationality is an ISO 3166 alpha-3 code", fields={"nationality": "malformed"})

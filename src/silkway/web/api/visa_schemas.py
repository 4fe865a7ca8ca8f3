"""Wire schemas of the visa API. Field names follow the published contract; extra fields are refused."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from silkway.web.api.schemas import Strict

Alpha2 = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$", to_upper=True)]
Alpha3 = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$", to_upper=True)]
Ground = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Passport = Annotated[str, StringConstraints(min_length=1, max_length=20)]
PURPOSES = Literal[
    "tourism",
    "business",
    "visiting_family",
    "culture",
    "sports",
    "official_visit",
    "medical",
    "study",
    "transit",
    "other",
]


class LegIn(Strict):
    state: Alpha2
    from_: date = Field(alias="from")
    to: date


class ApplicationIn(Strict):
    surname: str = Field(min_length=1, max_length=100, examples=["MUELLER"])
    given_names: str = Field("", max_length=100, examples=["ANNA MARIA"])
    native_name: str | None = Field(None, max_length=200, examples=["Müller Anna Maria"])
    nationality: Alpha3 = Field(examples=["DEU"])
    date_of_birth: date
    sex: Literal["M", "F", "X"]
    passport_number: Passport = Field(examples=["C01X00T47"])
    passport_expiry: date
    states: Annotated[list[Alpha2], Field(min_length=1, max_length=10)]
    main_destination: Alpha2 | None = None
    from_: date = Field(alias="from")
    to: date
    entries: Literal["single", "multiple"]
    purpose: PURPOSES
    itinerary: Annotated[list[LegIn], Field(max_length=30)] = Field(
        default_factory=list, description="Optional: days per state, to find the main destination by days"
    )


class DecisionIn(Strict):
    decision: Literal["issue", "issue_ltv", "refuse"]
    grounds: Annotated[list[Ground], Field(max_length=10)] = Field(default_factory=list)
    excluded_states: Annotated[list[Alpha2], Field(max_length=10)] = Field(default_factory=list)
    valid_from: date | None = None
    valid_until: date | None = None
    duration_of_stay_days: int | None = Field(None, ge=1, le=90)
    entries: Literal["single", "multiple"] | None = None
    note: str = Field("", max_length=2000)


class ConsultationReplyIn(Strict):
    objection: bool
    grounds: Annotated[list[Ground], Field(max_length=10)] = Field(default_factory=list)
    reason: str = Field("", max_length=2000)


class RevocationIn(Strict):
    grounds: Annotated[list[Ground], Field(min_length=1, max_length=10)]
    reason: str = Field(min_length=1, max_length=2000)
    annul: bool = Field(False, description="Annul (conditions were never met) rather than revoke")


class BorderCheckIn(Strict):
    office: str = Field(min_length=3, max_length=40, examples=["KZ-KORDAY"])
    direction: Literal["entry", "exit"]
    seal: str | None = Field(None, max_length=2000)
    visa_number: str | None = Field(None, max_length=20)
    passport_number: Passport
    record: bool = Field(True, description="Record the crossing (false: only check)")


class AlertIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    date_of_birth: date | None = None
    nationality: Alpha3 | None = None
    reason: str = Field(min_length=1, max_length=500)
    expires_on: date | None = None

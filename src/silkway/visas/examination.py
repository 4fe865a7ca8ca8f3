"""What a consul sees beside an application: hits on the shared alert list, and the applicant's stay so far."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from silkway.visas.border import history_of
from silkway.visas.model import Alert, Applicant
from silkway.visas.names import match_person
from silkway.visas.ports import CrossingFact
from silkway.visas.scheme import Scheme
from silkway.visas.stay import StayStatus, stay_status


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertHit:
    alert: Alert
    score: float
    matched_on: str


def alert_hits(applicant: Applicant, alerts: Sequence[Alert]) -> list[AlertHit]:
    """The alerts that may be this applicant: a similar name (across scripts and transliterations, in the MRZ
    or the native spelling) and a compatible date of birth; best first. A hit is for the consul to weigh,
    never a refusal by itself."""
    names = [applicant.full_name] + ([applicant.native_name] if applicant.native_name else [])
    hits = []
    for alert in alerts:
        # nationality is not compared: people hold several passports; the consul sees the alert's and weighs it
        match = match_person(
            candidate_names=names,
            candidate_birth=applicant.date_of_birth,
            alert_name=alert.name,
            alert_birth=alert.date_of_birth,
        )
        if match is not None:
            hits.append(AlertHit(alert=alert, score=match.score, matched_on=match.matched_on))
    return sorted(hits, key=lambda h: -h.score)


def stay_of(
    crossings: Sequence[CrossingFact],
    *,
    now: datetime,
    valid_from: date,
    valid_until: date,
    duration_of_stay_days: int,
    scheme: Scheme,
) -> StayStatus:
    """The traveller's count at `now`: days used in the 180-day window, days remaining, latest exit date — where
    they are now if present, else as if entering the state they last left (or the first participating state).
    The day counted is that state's calendar day, as its border posts date the crossings."""
    history = history_of(crossings)
    state = history.open_state or (crossings[-1].state if crossings else scheme.participating[0])
    return stay_status(
        history.stays,
        on=scheme.states[state].local_day(now),
        valid_from=valid_from,
        valid_until=valid_until,
        duration_of_stay_days=duration_of_stay_days,
        state=state,
        national_limits=scheme.national_limits(),
    )

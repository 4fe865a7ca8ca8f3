"""The stay rule: 90 days in any 180-day period, the visa's validity and duration, and national limits.

Three kinds of test. Worked examples published by authorities, with their dates and answers, each citing
where it comes from. Edge cases built from the text of the rule (Regulation (EU) No 610/2013 and the
Commission's "How to read the visa sticker"), labelled as such. And property tests against a reference
written the slow, obvious way: a set of dates, every window recounted from scratch, one day at a time.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from silkway.shared.errors import InvalidInput
from silkway.visas.stay import (
    RULE_90_IN_180,
    RULE_VISA_DURATION,
    RULE_VISA_VALIDITY,
    Stay,
    StayStatus,
    TravelHistory,
    days_in_window,
    excess_days,
    national_limit_rule,
    presence_days,
    stay_status,
)

ONE_DAY = timedelta(days=1)
STATES = ("KZ", "KG", "UZ", "TJ")


def d(text: str) -> date:
    return date.fromisoformat(text)


def a_stay(entry: str, exit: str | None = None, *, state: str = "KZ") -> Stay:
    return Stay(state=state, entry=d(entry), exit=None if exit is None else d(exit))


def status(
    stays: Iterable[Stay],
    on: str,
    *,
    valid_from: str | None = None,
    valid_until: str | None = None,
    duration: int = 90,
    state: str = "KZ",
    national_limits: Mapping[str, int] | None = None,
) -> StayStatus:
    """The status on `on`; by default under a visa first valid on `on` for a year, 90 days of stay.

    A visa first valid on `on` counts only the days of the stay being planned, so neither its validity nor
    its duration can stop that stay before the 90/180 rule does: what is left is the area rule alone.
    """
    first = d(valid_from) if valid_from is not None else d(on)
    last = d(valid_until) if valid_until is not None else first + timedelta(days=365)
    return stay_status(
        stays,
        on=d(on),
        valid_from=first,
        valid_until=last,
        duration_of_stay_days=duration,
        state=state,
        national_limits=national_limits or {},
    )


# --- Worked examples published by the Swiss State Secretariat for Migration (SEM) -------------------------
#
# Source: SEM, "Short-stay calculator" instructions for the European Commission's calculator, pages
# "Example 1" to "Example 6" (sem.admin.ch/sem/en/home/themen/einreise/aufenthaltsrechner/bsp-N.html,
# last modified 01.12.2014). Switzerland applies the Schengen rule of Regulation 610/2013; the examples are
# about the 90/180 rule alone, so each runs under a visa that cannot bind first (see `status`).
# Example 3 is left out: its table of dates is garbled in the copy consulted (entries dated after their
# exits), and the legible dates do not give its stated answer.


def test_sem_example_1_an_absence_of_90_days_gives_a_new_stay_of_90_days() -> None:
    # Example 1: entry stamp 15.08.2014, checked on departure on 30.09.2014, "47 days" used; on re-entry on
    # 01.01.2015 the person "may remain for 90 more days".
    history = [a_stay("2014-08-15", "2014-09-30")]

    assert days_in_window(history, d("2014-09-30")) == 47
    result = status(history, "2015-01-01")
    assert result.days_remaining == 90
    assert result.latest_exit == d("2015-03-31")


@pytest.mark.parametrize("recorded_exit", [None, "2014-11-30"], ids=["still-open", "exit-stamped"])
def test_sem_example_2_legal_stay_could_have_lasted_until_13_december(recorded_exit: str | None) -> None:
    # Example 2: stamps 15.08.2014-30.09.2014 and 01.11.2014-30.11.2014, control on departure 30.11.2014:
    # the maximum has not been exceeded; she "would be able to remain ... without interruption until
    # 13 December 2014". The exit day is a day of presence, so the exit stamp does not change the answer.
    history = [a_stay("2014-08-15", "2014-09-30"), a_stay("2014-11-01", recorded_exit)]

    result = status(history, "2014-11-30", valid_from="2014-11-01")

    assert result.present
    assert result.overstay_days == 0
    assert result.latest_exit == d("2014-12-13")
    assert result.limiting_rule == RULE_90_IN_180


def test_sem_example_4_old_stays_leave_the_reference_period() -> None:
    # Example 4: stamps 01.06.2013-13.07.2013, 15.08.2013-30.09.2013, 01.01.2014-30.01.2014, checked on
    # departure 30.01.2014. "The stay from June to July does not fall within the 180-day period of
    # reference"; the January stay was legal and "the person could have remained ... until 31 March 2014".
    history = [
        a_stay("2013-06-01", "2013-07-13"),
        a_stay("2013-08-15", "2013-09-30"),
        a_stay("2014-01-01", "2014-01-30"),
    ]

    result = status(history, "2014-01-30", valid_from="2014-01-01")

    assert result.days_used == 47 + 30  # August-September and January: not June-July
    assert (
        excess_days(
            history,
            on=d("2014-01-30"),
            valid_from=d("2014-01-01"),
            valid_until=d("2014-12-31"),
            duration_of_stay_days=90,
            state="KZ",
        )
        == 0
    )
    assert result.latest_exit == d("2014-03-31")


SEM_EXAMPLE_5 = [
    a_stay("2013-09-01", "2013-09-30"),
    a_stay("2014-02-21", "2014-04-20"),
    a_stay("2014-05-01", "2014-06-09"),
]


def test_sem_example_5_shorter_overstay_of_9_days() -> None:
    # Example 5: stamps 01.09.2013-30.09.2013, 21.02.2014-20.04.2014, 01.05.2014-09.06.2014: "the person
    # departing on 09 June 2014 has over-extended his stay by 9 days".
    result = status(SEM_EXAMPLE_5, "2014-06-09", valid_from="2014-05-01")

    assert result.overstay_days == 9
    assert result.limiting_rule == RULE_90_IN_180
    assert result.latest_exit is None
    assert result.days_remaining == 0


def test_sem_example_5_return_after_an_overstay_for_up_to_50_days() -> None:
    # Example 5, continued: the period of reference for a return on 30.08.2014 starts on 04.03.2014, and "a
    # return ... would be possible on 30 August 2014 and the person would be able to remain for a period of
    # up to 50 days". (The calculator needs the older stays left out; this rule takes the whole history.)
    result = status(SEM_EXAMPLE_5, "2014-08-30")

    assert d("2014-08-30") - timedelta(days=179) == d("2014-03-04")
    assert not result.present
    assert result.days_remaining == 50


def test_sem_example_6_longer_overstay_of_74_days() -> None:
    # Example 6: a visa-exempt traveller with stamps 28.06.2013-09.08.2013 and an entry on 19.09.2013 (the
    # second row is legible only in the German page, "Beispiel 6"), checked on departure 01.03.2014: an
    # "overstay" of 74 days within the 180-day period 03.09.2013-01.03.2014.
    history = [a_stay("2013-06-28", "2013-08-09"), a_stay("2013-09-19")]

    result = status(history, "2014-03-01", valid_from="2013-09-19")

    assert result.overstay_days == 74
    assert result.limiting_rule == RULE_90_IN_180


def test_the_handbook_example_of_3_and_86_days_reported_second_hand() -> None:
    # Reported second-hand, not read in the original: the dev.to article "An entry-day count is not a
    # whole-trip answer" (why180) quotes "an official EU decision" (the Practical Handbook for Border Guards)
    # as stays of 19-21 April 2014 (3 days) and 18 June-11 September 2014 (86 days), 89 days on 11 September.
    history = [a_stay("2014-04-19", "2014-04-21"), a_stay("2014-06-18", "2014-09-11")]

    assert days_in_window(history, d("2014-09-11")) == 89


# --- Edge cases, built from the text of the rule (not published examples) ------------------------------


def test_entry_and_exit_on_the_same_day_count_one_day() -> None:
    history = [a_stay("2025-03-10", "2025-03-10")]

    assert days_in_window(history, d("2025-03-10")) == 1
    assert presence_days(history, through=d("2025-12-31")) == {d("2025-03-10")}


def test_a_changeover_between_member_states_counts_once() -> None:
    # Leaving KZ and entering KG on 10 March is one day in the area, not two.
    history = [a_stay("2025-03-01", "2025-03-10", state="KZ"), a_stay("2025-03-10", "2025-03-12", state="KG")]

    assert days_in_window(history, d("2025-03-12")) == 12
    assert len(presence_days(history, through=d("2025-03-31"))) == 12


def test_presence_in_any_member_state_counts_towards_the_90_days() -> None:
    history = [a_stay("2025-01-01", "2025-02-14", state="UZ"), a_stay("2025-02-20", "2025-03-31", state="KG")]

    assert days_in_window(history, d("2025-03-31")) == 45 + 40


def test_exactly_90_days_are_allowed_and_the_91st_is_refused() -> None:
    fresh = status([], "2025-01-01")
    assert fresh.days_remaining == 90
    assert fresh.latest_exit == d("2025-03-31")  # 1 January + 89 days
    assert fresh.limiting_rule == RULE_90_IN_180

    on_day_90 = status([a_stay("2025-01-01")], "2025-03-31", valid_from="2025-01-01")
    assert (on_day_90.days_used, on_day_90.days_remaining, on_day_90.overstay_days) == (90, 0, 0)
    assert on_day_90.latest_exit == d("2025-03-31")

    on_day_91 = status([a_stay("2025-01-01")], "2025-04-01", valid_from="2025-01-01")
    assert (on_day_91.days_used, on_day_91.overstay_days, on_day_91.days_remaining) == (91, 1, 0)
    assert on_day_91.latest_exit is None


def test_window_boundary_day_180_still_counts_day_181_does_not() -> None:
    # Built from the rule's text: 90 days from 1 January 2025 (to 31 March). The window ending 29 June runs
    # from 1 January: the first day of the stay is its day 180, so entering that day would make 91. On
    # 30 June the first day is 181 days back and has left the window.
    history = [a_stay("2025-01-01", "2025-03-31")]

    assert days_in_window(history, d("2025-06-29")) == 90
    assert days_in_window(history, d("2025-06-30")) == 89
    assert status(history, "2025-06-29").latest_exit is None


def test_an_absence_of_90_days_allows_a_new_stay_of_90_days() -> None:
    # User manual for the short-stay "Schengen" calculator (European Commission), 1. Introduction: "an
    # absence for an uninterrupted period of 90 days allows for a new stay for up to 90 days". Absent from
    # 1 April to 29 June 2025 (90 days), back on 30 June: each day of the old stay leaves the window as a
    # day of the new one joins it.
    history = [a_stay("2025-01-01", "2025-03-31")]

    back = status(history, "2025-06-30")

    assert back.days_remaining == 90
    assert back.latest_exit == d("2025-09-27")


def test_the_visa_validity_ends_the_stay_before_90_180_would() -> None:
    result = status([], "2025-05-01", valid_until="2025-05-10")

    assert result.latest_exit == d("2025-05-10")
    assert result.days_remaining == 10
    assert result.limiting_rule == RULE_VISA_VALIDITY


def test_no_entry_before_the_visa_is_valid() -> None:
    result = status([], "2025-05-01", valid_from="2025-05-02")

    assert result.latest_exit is None
    assert result.days_remaining == 0
    assert result.limiting_rule == RULE_VISA_VALIDITY


def test_the_duration_of_stay_counts_only_days_within_the_validity() -> None:
    # 20 days in March before the visa, 10 in May on it: 5 of 15 days are left, though 90/180 allows 60.
    history = [a_stay("2025-03-01", "2025-03-20"), a_stay("2025-05-01", "2025-05-10")]

    result = status(history, "2025-06-01", valid_from="2025-04-01", valid_until="2025-09-30", duration=15)

    assert result.days_used_on_visa == 10
    assert result.days_used == 30
    assert result.days_remaining == 5
    assert result.limiting_rule == RULE_VISA_DURATION


def test_a_national_limit_of_30_days_binds_while_90_180_still_allows_more() -> None:
    kg_30 = {"KG": 30}

    fresh = status([], "2025-05-01", state="KG", national_limits=kg_30)
    assert fresh.latest_exit == d("2025-05-30")
    assert fresh.limiting_rule == national_limit_rule("KG")

    # 20 days into a stay in KG, 10 more are left there.
    in_kg = status([a_stay("2025-05-01", state="KG")], "2025-05-20", state="KG", national_limits=kg_30)
    assert in_kg.state_consecutive_days == 20
    assert in_kg.days_remaining == 10

    # Another state's limit does not apply, and moving on to UZ starts the count of days there afresh.
    moving_on = status(
        [a_stay("2025-05-01", "2025-05-20", state="KG")], "2025-05-20", state="UZ", national_limits=kg_30
    )
    assert moving_on.latest_exit == d("2025-05-01") + timedelta(days=89)
    assert moving_on.limiting_rule == RULE_90_IN_180


def test_leaving_and_coming_back_the_next_day_does_not_restart_the_national_count() -> None:
    history = [a_stay("2025-05-01", "2025-05-20", state="KG")]

    result = status(history, "2025-05-21", state="KG", national_limits={"KG": 30})

    assert not result.present
    assert result.days_remaining == 10


def test_a_present_traveller_over_the_national_limit_has_overstayed() -> None:
    history = [a_stay("2025-05-01", state="KG")]

    result = status(history, "2025-06-04", valid_from="2025-05-01", state="KG", national_limits={"KG": 30})

    assert result.overstay_days == 5  # 35 consecutive days against 30
    assert result.latest_exit is None
    assert result.days_remaining == 0


def test_a_present_traveller_past_the_visa_has_overstayed_by_the_days_since() -> None:
    history = [a_stay("2025-05-01")]

    result = status(history, "2025-05-25", valid_from="2025-04-01", valid_until="2025-05-20")

    assert result.overstay_days == 5
    assert result.limiting_rule == RULE_VISA_VALIDITY
    assert result.latest_exit is None


def test_a_traveller_not_present_has_no_overstay() -> None:
    history = [a_stay("2025-01-01", "2025-04-30")]  # 120 days: over on leaving, but not here today

    assert status(history, "2025-05-02").overstay_days == 0
    assert (
        excess_days(
            history,
            on=d("2025-04-30"),
            valid_from=d("2025-01-01"),
            valid_until=d("2025-12-31"),
            duration_of_stay_days=90,
            state="KZ",
        )
        == 30
    )


def test_stays_in_any_order_and_a_reused_history_give_the_same_answer() -> None:
    history = [a_stay("2025-03-10", "2025-03-12", state="KG"), a_stay("2025-03-01", "2025-03-10")]
    indexed = TravelHistory(history)

    assert [stay.entry for stay in indexed.stays] == [d("2025-03-01"), d("2025-03-10")]
    assert status(indexed, "2025-04-01") == status(reversed(history), "2025-04-01")


# --- Refusals ---------------------------------------------------------------------------------------------


def test_an_exit_before_the_entry_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        a_stay("2025-03-10", "2025-03-09")
    assert refused.value.fields == {"exit": "before the entry"}


@pytest.mark.parametrize("state", ["kz", "KAZ", "K1", ""])
def test_a_state_that_is_not_alpha_2_is_refused(state: str) -> None:
    with pytest.raises(InvalidInput):
        Stay(state=state, entry=d("2025-03-01"), exit=None)
    with pytest.raises(InvalidInput):
        status([], "2025-03-01", state=state)


def test_datetimes_are_refused() -> None:
    with pytest.raises(InvalidInput):
        Stay(state="KZ", entry=datetime(2025, 3, 1, 12, 0), exit=None)  # noqa: DTZ001 - the point is refusal


@pytest.mark.parametrize(
    "history",
    [
        [a_stay("2025-03-01", "2025-03-10", state="KZ"), a_stay("2025-03-09", "2025-03-12", state="KG")],
        [a_stay("2025-03-01", "2025-03-10", state="KZ"), a_stay("2025-03-04", "2025-03-05", state="KG")],
        [a_stay("2025-03-01", "2025-03-10", state="KZ"), a_stay("2025-03-01", "2025-03-10", state="KG")],
        [a_stay("2025-03-01", state="KZ"), a_stay("2025-03-05", "2025-03-06", state="KG")],
        [a_stay("2025-03-01", state="KZ"), a_stay("2025-03-01", state="KG")],
    ],
    ids=["two-days-shared", "inside-another", "same-days", "after-an-open-stay", "two-open"],
)
def test_stays_overlapping_beyond_a_changeover_day_are_refused(history: list[Stay]) -> None:
    with pytest.raises(InvalidInput):
        TravelHistory(history)
    with pytest.raises(InvalidInput):
        days_in_window(history, d("2025-03-20"))


@pytest.mark.parametrize("duration", [0, 91, -5])
def test_a_duration_of_stay_outside_1_to_90_is_refused(duration: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        status([], "2025-03-01", duration=duration)
    assert "duration_of_stay_days" in refused.value.fields


def test_a_visa_valid_until_before_valid_from_is_refused() -> None:
    with pytest.raises(InvalidInput):
        status([], "2025-03-01", valid_from="2025-03-01", valid_until="2025-02-28")


@pytest.mark.parametrize("limits", [{"KG": 0}, {"kg": 30}, {"KG": True}])
def test_bad_national_limits_are_refused(limits: Mapping[str, int]) -> None:
    with pytest.raises(InvalidInput):
        status([], "2025-03-01", state="KG", national_limits=limits)


# --- A reference, the slow way ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    present: bool
    days_used: int
    days_used_on_visa: int
    state_consecutive_days: int
    days_remaining: int
    latest_exit: date | None
    limiting_rule: str
    overstay_days: int


def days_from(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def count_back(days: set[date], last: date) -> int:
    count = 0
    while last - timedelta(days=count) in days:
        count += 1
    return count


def reference_status(
    stays: Sequence[Stay],
    *,
    on: date,
    valid_from: date,
    valid_until: date,
    duration: int,
    state: str,
    limits: Mapping[str, int],
) -> Expected:
    """Every rule read off its text: sets of dates, each window counted afresh, one day at a time."""
    recorded: set[date] = set()
    in_state: set[date] = set()
    for stay in stays:
        for day in days_from(stay.entry, stay.exit if stay.exit is not None else on):
            recorded.add(day)
            if stay.state == state:
                in_state.add(day)
    present = on in recorded
    visa_days = set(days_from(valid_from, valid_until))

    def broken(day: date, area: set[date], state_days: set[date]) -> str | None:
        if len([x for x in days_from(day - timedelta(days=179), day) if x in area]) > 90:
            return RULE_90_IN_180
        if day not in visa_days:
            return RULE_VISA_VALIDITY
        if len([x for x in area if x in visa_days and x <= day]) > duration:
            return RULE_VISA_DURATION
        if state in limits and count_back(state_days, day) > limits[state]:
            return national_limit_rule(state)
        return None

    before = {x for x in recorded if x < on}
    before_in_state = {x for x in in_state if x < on}
    latest = None
    day = on
    while True:
        assumed = set(days_from(on, day))
        rule = broken(day, before | assumed, before_in_state | assumed)
        if rule is not None:
            break
        latest = day
        day += ONE_DAY
        assert day <= on + timedelta(days=200), "the reference never stopped"

    overstay = 0
    if present:
        run = {on - timedelta(days=n) for n in range(count_back(recorded, on))}
        if on > valid_until:
            outside = len([x for x in run if x > valid_until])
        elif on < valid_from:
            outside = len(run)
        else:
            outside = 0
        overstay = max(
            0,
            len([x for x in days_from(on - timedelta(days=179), on) if x in recorded]) - 90,
            len([x for x in recorded if x in visa_days and x <= on]) - duration,
            count_back(before_in_state | {on}, on) - limits[state] if state in limits else 0,
            outside,
        )
    return Expected(
        present=present,
        days_used=len([x for x in days_from(on - timedelta(days=179), on) if x in recorded]),
        days_used_on_visa=len([x for x in recorded if x in visa_days and x <= on]),
        state_consecutive_days=count_back(in_state, on),
        days_remaining=0 if latest is None else (latest - on).days + (0 if present else 1),
        latest_exit=latest,
        limiting_rule=rule,
        overstay_days=overstay,
    )


START = date(2023, 1, 1)


@st.composite
def histories(draw: st.DrawFn) -> list[Stay]:
    """Up to 14 stays over about two years: back to back (a changeover), a day apart, or further."""
    day = START + timedelta(days=draw(st.integers(0, 60)))
    stays: list[Stay] = []
    for _ in range(draw(st.integers(0, 14))):
        exit = day + timedelta(days=draw(st.integers(1, 70)) - 1)
        stays.append(Stay(state=draw(st.sampled_from(STATES)), entry=day, exit=exit))
        day = exit + timedelta(days=draw(st.one_of(st.just(0), st.just(1), st.integers(0, 100))))
    if stays and draw(st.booleans()):
        stays[-1] = replace(stays[-1], exit=None)
    return list(draw(st.permutations(stays)))


@st.composite
def days_to_check(draw: st.DrawFn, stays: Sequence[Stay]) -> date:
    """Half the time a day inside some stay, so that travellers present (and over) are well explored."""
    if stays and draw(st.booleans()):
        stay = draw(st.sampled_from(stays))
        last = stay.exit if stay.exit is not None else stay.entry + timedelta(days=150)
        return stay.entry + timedelta(days=draw(st.integers(0, (last - stay.entry).days)))
    return START + timedelta(days=draw(st.integers(-20, 900)))


@given(data=st.data(), stays=histories())
@settings(max_examples=300, deadline=None)
def test_status_matches_the_reference(data: st.DataObject, stays: list[Stay]) -> None:
    on = data.draw(days_to_check(stays))
    valid_from = on + timedelta(days=data.draw(st.integers(-250, 20)))
    valid_until = valid_from + timedelta(days=data.draw(st.integers(0, 400)))
    duration = data.draw(st.integers(1, 90))
    state = data.draw(st.sampled_from(STATES))
    limits = data.draw(st.dictionaries(st.sampled_from(STATES), st.integers(1, 60), max_size=3))

    got = stay_status(
        stays,
        on=on,
        valid_from=valid_from,
        valid_until=valid_until,
        duration_of_stay_days=duration,
        state=state,
        national_limits=limits,
    )
    expected = reference_status(
        stays, on=on, valid_from=valid_from, valid_until=valid_until, duration=duration, state=state, limits=limits
    )

    assert (
        Expected(
            present=got.present,
            days_used=got.days_used,
            days_used_on_visa=got.days_used_on_visa,
            state_consecutive_days=got.state_consecutive_days,
            days_remaining=got.days_remaining,
            latest_exit=got.latest_exit,
            limiting_rule=got.limiting_rule,
            overstay_days=got.overstay_days,
        )
        == expected
    )
    assert (got.overstay_days > 0) == (got.present and got.latest_exit is None)


@given(data=st.data(), stays=histories())
@settings(max_examples=200, deadline=None)
def test_window_counts_and_presence_match_the_reference(data: st.DataObject, stays: list[Stay]) -> None:
    day = START + timedelta(days=data.draw(st.integers(-20, 1000)))
    recorded = {x for stay in stays for x in days_from(stay.entry, stay.exit if stay.exit is not None else day)}
    recorded = {x for x in recorded if x <= day}

    assert presence_days(stays, through=day) == recorded
    assert days_in_window(stays, day) == len([x for x in days_from(day - timedelta(days=179), day) if x in recorded])


def test_a_frequent_traveller_with_500_stays_is_answered_quickly() -> None:
    # Three days in, two out, 500 times over. The bound is loose on purpose (it is about 0.4 ms here): it
    # catches a count over every stay for every day stepped, or a check of every pair of stays.
    stays = []
    entry = date(2018, 1, 1)
    for n in range(500):
        stays.append(Stay(state=STATES[n % len(STATES)], entry=entry, exit=entry + timedelta(days=2)))
        entry += timedelta(days=5)
    on = entry - timedelta(days=2)

    runs = 20
    started = time.perf_counter()
    for _ in range(runs):
        result = stay_status(
            stays,
            on=on,
            valid_from=on - timedelta(days=100),
            valid_until=on + timedelta(days=100),
            duration_of_stay_days=90,
            state="KZ",
            national_limits={"KZ": 30},
        )
    elapsed = (time.perf_counter() - started) / runs

    assert result.days_used == 108  # 36 stays of 3 days in the window
    assert elapsed < 0.01

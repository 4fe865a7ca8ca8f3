"""The stay rule of the Commonwealth Visa: 90 days in any 180-day period, the visa's own limits and the states' limits.

The area rule is the Schengen one, worded as Regulation (EU) No 610/2013 words it: "90 days in any 180-day
period, which entails considering the 180-day period preceding each day of stay". So on every day of presence
the 180 days ending that day (that day and the 179 before it) may hold at most 90 days of presence. The entry
day and the exit day are both days of presence, and presence in any member state counts: the area is one.
A day on which the traveller leaves one member state and enters another is one day of presence, not two.

On top of the area rule, a stay must keep to:

- the visa's validity: no day of presence before ``valid_from`` or after ``valid_until``;
- the visa's duration of stay: at most ``duration_of_stay_days`` days of presence within the validity;
- each member state's own limit, where it sets one: at most so many consecutive calendar days of presence
  in that state.

`stay_status` answers the questions a border guard asks on a day: how many days are used, may the traveller
enter (or stay on), until when, and by how many days a traveller already present has overstayed. History is
indexed once as merged periods of presence (`TravelHistory`), so counting the days in any window is a pair of
binary searches however many stays a frequent traveller has made.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from types import MappingProxyType

from silkway.shared.errors import InvalidInput

WINDOW_DAYS = 180
MAX_DAYS_IN_WINDOW = 90

RULE_90_IN_180 = "90_in_180"
RULE_VISA_VALIDITY = "visa_validity"
RULE_VISA_DURATION = "visa_duration"
NATIONAL_LIMIT = "national_limit"

_ALPHA2 = re.compile(r"[A-Z]{2}")
# An open stay runs on with no end we know of; an ordinal past every real date stands for it.
_OPEN = date.max.toordinal() + 1
_NO_LIMITS: Mapping[str, int] = MappingProxyType({})


def national_limit_rule(state: str) -> str:
    """The `StayStatus.limiting_rule` naming the consecutive-day limit of `state`: ``"national_limit:KG"``."""
    return f"{NATIONAL_LIMIT}:{state}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Stay:
    """One stay in one member state, from the entry stamp to the exit stamp, both days included.

    `state` is the ISO 3166-1 alpha-2 code of the member state; `exit` is None while the traveller is still
    there. Invariant: ``exit is None or exit >= entry``. On construction, raises `InvalidInput` if the state
    is not two capital letters, if a date is a datetime, or if the exit is before the entry.
    """

    state: str
    entry: date
    exit: date | None

    def __post_init__(self) -> None:
        if not _ALPHA2.fullmatch(self.state):
            raise InvalidInput(
                f"{self.state!r} is not an alpha-2 country code", fields={"state": "two capital letters"}
            )
        if isinstance(self.entry, datetime) or isinstance(self.exit, datetime):
            raise InvalidInput("Stays are counted in calendar days: give dates, not datetimes")
        if self.exit is not None and self.exit < self.entry:
            raise InvalidInput(
                f"The stay in {self.state} ends on {self.exit} before it starts on {self.entry}",
                fields={"exit": "before the entry"},
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class StayStatus:
    """Where a traveller stands on day `on`, for entering or staying in `state` on the given visa.

    - `present`: a recorded stay covers `on` (an open stay covers every day from its entry; a closed one its
      entry day to its exit day, both included).
    - `days_used`: days of recorded presence in the 180-day window ending `on` (counting `on` only if present).
    - `days_used_on_visa`: days of recorded presence from the visa's first valid day to `on` (or to its last
      valid day, if earlier).
    - `state_consecutive_days`: consecutive days of recorded presence in `state` ending `on` (0 if not in
      `state` that day).
    - `latest_exit`: the last day of one continuous stay in `state` starting on `on` (or, when present,
      going on from it) on which every rule still holds; None when not even `on` is allowed.
    - `days_remaining`: the days that stay may still add: ``(latest_exit - on).days + 1`` when not present
      (`on` would be the first), ``(latest_exit - on).days`` when present (`on` is used already), 0 when
      `latest_exit` is None.
    - `limiting_rule`: the rule that stops the stay the day after `latest_exit` (on `on` itself when
      `latest_exit` is None): ``"90_in_180"``, ``"visa_validity"``, ``"visa_duration"`` or
      ``"national_limit:<state>"``; when several stop it the same day, the first in that order.
    - `overstay_days`: for a present traveller, by how many days the stay breaks the rule it breaks most on
      `on` (for the 90/180 rule: days used beyond 90; for the visa's duration: days on the visa beyond it;
      for a national limit: consecutive days beyond it; for the validity: days of the current stay outside
      it). 0 when not present.

    Invariants: ``overstay_days > 0`` exactly when present and `latest_exit` is None; ``days_remaining == 0``
    exactly when `latest_exit` is None or (present and ``latest_exit == on``).
    """

    on: date
    state: str
    present: bool
    days_used: int
    days_used_on_visa: int
    state_consecutive_days: int
    days_remaining: int
    latest_exit: date | None
    limiting_rule: str
    overstay_days: int


class TravelHistory:
    """A traveller's stays, checked for coherence and indexed for counting days of presence.

    Invariants: two stays share at most one day, and only as the exit day of one and the entry day of the
    other (a changeover: leaving KZ and entering KG the same day, or leaving and coming back); a stay still
    open is the latest one. Presence is kept as sorted, disjoint, non-adjacent periods (so a day covered by
    two stays counts once), with running totals, so each count is two binary searches.

    On construction, raises `InvalidInput` if two stays overlap by more than a changeover day, or a stay
    follows one that is still open.
    """

    __slots__ = ("_before", "_by_state", "_ends", "_starts", "stays")

    def __init__(self, stays: Iterable[Stay]) -> None:
        ordered = sorted(enumerate(stays), key=lambda item: (item[1].entry, _last(item[1]), item[0]))
        for (i, earlier), (j, later) in pairwise(ordered):
            if earlier.exit is None:
                raise InvalidInput(
                    f"The stay in {earlier.state} entered on {earlier.entry} is still open, "
                    f"yet a stay in {later.state} starts on {later.entry}",
                    fields={f"stays[{i}].exit": "open, but another stay follows", f"stays[{j}].entry": "overlaps"},
                )
            if earlier.exit > later.entry:
                raise InvalidInput(
                    f"The stay in {earlier.state} ({earlier.entry} to {earlier.exit}) overlaps the stay in "
                    f"{later.state} from {later.entry}; stays may share only the changeover day",
                    fields={f"stays[{j}].entry": f"before the exit of stays[{i}]"},
                )
        self.stays: tuple[Stay, ...] = tuple(stay for _, stay in ordered)
        self._starts, self._ends = _merge(self.stays)
        self._before = [0]
        for first, last in zip(self._starts, self._ends, strict=True):
            self._before.append(self._before[-1] + last - first + 1)
        self._by_state: dict[str, tuple[list[int], list[int]]] = {
            state: _merge([stay for stay in self.stays if stay.state == state])
            for state in {stay.state for stay in self.stays}
        }

    def is_present(self, day: date) -> bool:
        """Whether some stay covers `day`."""
        return self._contains(day.toordinal())

    def days_present(self, first: date, last: date) -> int:
        """Days of presence from `first` to `last`, both included; 0 if `last` is before `first`."""
        return self._count(first.toordinal(), last.toordinal())

    def days_in_window(self, day: date) -> int:
        """Days of presence in the 180-day window ending `day`: `day` and the 179 days before it."""
        end = day.toordinal()
        return self._count(end - WINDOW_DAYS + 1, end)

    def consecutive_days_in(self, state: str, day: date) -> int:
        """Consecutive calendar days of presence in `state` ending `day`; 0 if the traveller is not there."""
        return self._consecutive(state, day.toordinal())

    def presence_days(self, *, through: date) -> frozenset[date]:
        """Every day of presence up to and including `through`."""
        end = through.toordinal()
        return frozenset(
            date.fromordinal(day)
            for first, last in zip(self._starts, self._ends, strict=True)
            if first <= end
            for day in range(first, min(last, end) + 1)
        )

    def _through(self, day: int) -> int:
        i = bisect_right(self._starts, day)
        if i == 0:
            return 0
        return self._before[i - 1] + min(self._ends[i - 1], day) - self._starts[i - 1] + 1

    def _count(self, first: int, last: int) -> int:
        if last < first:
            return 0
        return self._through(last) - self._through(first - 1)

    def _contains(self, day: int) -> bool:
        i = bisect_right(self._starts, day) - 1
        return i >= 0 and self._ends[i] >= day

    def _run_start(self, day: int) -> int:
        """The first day of the unbroken presence that covers `day`, which must be a day of presence."""
        return self._starts[bisect_right(self._starts, day) - 1]

    def _consecutive(self, state: str, day: int) -> int:
        starts, ends = self._by_state.get(state, ([], []))
        i = bisect_right(starts, day) - 1
        if i < 0 or ends[i] < day:
            return 0
        return day - starts[i] + 1


def presence_days(stays: Iterable[Stay] | TravelHistory, *, through: date) -> frozenset[date]:
    """Every day on which the traveller was present in some member state, up to and including `through`.

    A day covered by two stays (a changeover) appears once. Raises `InvalidInput` as `TravelHistory` does.
    """
    return _history(stays).presence_days(through=through)


def days_in_window(stays: Iterable[Stay] | TravelHistory, day: date) -> int:
    """Days of presence in the 180-day window ending `day`, from ``day - 179`` to `day`, both included.

    Presence in any member state counts, each day once; an open stay counts every day from its entry.
    Raises `InvalidInput` as `TravelHistory` does.
    """
    return _history(stays).days_in_window(day)


def stay_status(
    stays: Iterable[Stay] | TravelHistory,
    *,
    on: date,
    valid_from: date,
    valid_until: date,
    duration_of_stay_days: int,
    state: str,
    national_limits: Mapping[str, int] = _NO_LIMITS,
) -> StayStatus:
    """Where the traveller stands on `on` under a visa valid `valid_from` to `valid_until` (both included).

    `state` is the member state the traveller is in on `on`, or would enter that day; from `on` onwards the
    answer assumes continuous presence in `state`. `national_limits` maps a state to the most consecutive
    days of presence it allows (only the limit of `state` applies). Stays recorded after `on` change nothing:
    the days after `on` are taken as days of presence anyway.

    The latest exit is found by stepping from `on` one day at a time while every rule holds that day: the
    90/180 rule, the validity, the duration of stay and the national limit of `state` (its consecutive days
    counted back through any presence in `state` up to the day before `on`). The counts slide with the
    step, and a stay can grow by at most 90 days, so a status costs a few binary searches to start and at
    most 91 steps of one each, whatever the length of the history (indexing a plain sequence of stays costs
    a sort; pass a `TravelHistory` to index once and ask many times). See `StayStatus` for each field.

    Raises `InvalidInput` if `duration_of_stay_days` is not 1 to 90, `valid_until` is before `valid_from`, a
    state code is not alpha-2, a national limit is not a positive number of days, or the stays are
    incoherent (see `TravelHistory`).
    """
    _check_visa(valid_from, valid_until, duration_of_stay_days)
    _check_state(state, field="state")
    for limited, days in national_limits.items():
        _check_state(limited, field=f"national_limits[{limited!r}]")
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise InvalidInput(
                f"The national limit of {limited} must be a positive number of days, not {days!r}",
                fields={f"national_limits[{limited!r}]": "a positive number of days"},
            )
    history = _history(stays)
    today = on.toordinal()
    first_valid, last_valid = valid_from.toordinal(), valid_until.toordinal()
    limit = national_limits.get(state)

    present = history._contains(today)
    days_used = history._count(today - WINDOW_DAYS + 1, today)
    days_used_on_visa = history._count(first_valid, min(today, last_valid))

    # Counts on each day of the assumed stay: recorded presence before `on`, and every day from `on`.
    window = history._count(today - WINDOW_DAYS + 1, today - 1) + 1
    on_visa = history._count(first_valid, min(today - 1, last_valid)) + int(first_valid <= today <= last_valid)
    consecutive = history._consecutive(state, today - 1) + 1
    window_on, on_visa_on, consecutive_on = window, on_visa, consecutive

    day = today
    latest: int | None = None
    while (
        broken := _broken_rule(
            day,
            window=window,
            on_visa=on_visa,
            consecutive=consecutive,
            first_valid=first_valid,
            last_valid=last_valid,
            duration=duration_of_stay_days,
            state=state,
            limit=limit,
        )
    ) is None:
        # The 90/180 rule held today, so `window` is at most 90, and it never shrinks while `day` moves on
        # (one day joins, at most one leaves): the loop stops within 91 days. So the day leaving the window
        # is always before `on`, a recorded day or none. And a day outside the validity stops the loop
        # before its `on_visa` is looked at, so every day stepped onto may count as a day on the visa.
        latest = day
        if history._contains(day - WINDOW_DAYS + 1):
            window -= 1
        window += 1
        day += 1
        on_visa += 1
        consecutive += 1

    overstay = 0
    if present:
        run = today - history._run_start(today) + 1
        if today > last_valid:
            outside_validity = min(run, today - last_valid)
        elif today < first_valid:
            outside_validity = run
        else:
            outside_validity = 0
        overstay = max(
            0,
            window_on - MAX_DAYS_IN_WINDOW,
            outside_validity,
            on_visa_on - duration_of_stay_days,
            consecutive_on - limit if limit is not None else 0,
        )

    # When present, `on` is used already; otherwise it would be the first day of the stay.
    remaining = 0 if latest is None else latest - today + (0 if present else 1)
    return StayStatus(
        on=on,
        state=state,
        present=present,
        days_used=days_used,
        days_used_on_visa=days_used_on_visa,
        state_consecutive_days=history._consecutive(state, today),
        days_remaining=remaining,
        latest_exit=None if latest is None else date.fromordinal(latest),
        limiting_rule=broken,
        overstay_days=overstay,
    )


def excess_days(
    stays: Iterable[Stay] | TravelHistory,
    *,
    on: date,
    valid_from: date,
    valid_until: date,
    duration_of_stay_days: int,
    state: str,
    national_limits: Mapping[str, int] = _NO_LIMITS,
) -> int:
    """The days by which a traveller present on `on` has overstayed; the exit check flags any value above 0.

    For an exit on day X, pass the history with the stay open or closed on X, and ``on=X``. 0 when the
    traveller is not present on `on`. The same as ``stay_status(...).overstay_days``, and raises the same.
    """
    return stay_status(
        stays,
        on=on,
        valid_from=valid_from,
        valid_until=valid_until,
        duration_of_stay_days=duration_of_stay_days,
        state=state,
        national_limits=national_limits,
    ).overstay_days


def _broken_rule(
    day: int,
    *,
    window: int,
    on_visa: int,
    consecutive: int,
    first_valid: int,
    last_valid: int,
    duration: int,
    state: str,
    limit: int | None,
) -> str | None:
    if window > MAX_DAYS_IN_WINDOW:
        return RULE_90_IN_180
    if not first_valid <= day <= last_valid:
        return RULE_VISA_VALIDITY
    if on_visa > duration:
        return RULE_VISA_DURATION
    if limit is not None and consecutive > limit:
        return national_limit_rule(state)
    return None


def _history(stays: Iterable[Stay] | TravelHistory) -> TravelHistory:
    return stays if isinstance(stays, TravelHistory) else TravelHistory(stays)


def _last(stay: Stay) -> int:
    return _OPEN if stay.exit is None else stay.exit.toordinal()


def _merge(stays: Iterable[Stay]) -> tuple[list[int], list[int]]:
    """Sorted stays as maximal periods of consecutive days: overlapping and adjacent stays join."""
    starts: list[int] = []
    ends: list[int] = []
    for stay in stays:
        first, last = stay.entry.toordinal(), _last(stay)
        if ends and first <= ends[-1] + 1:
            ends[-1] = max(ends[-1], last)
        else:
            starts.append(first)
            ends.append(last)
    return starts, ends


def _check_state(state: str, *, field: str) -> None:
    if not _ALPHA2.fullmatch(state):
        raise InvalidInput(f"{state!r} is not an alpha-2 country code", fields={field: "two capital letters"})


def _check_visa(valid_from: date, valid_until: date, duration_of_stay_days: int) -> None:
    if valid_until < valid_from:
        raise InvalidInput(
            f"The visa is valid until {valid_until}, before it is valid from {valid_from}",
            fields={"valid_until": "before valid_from"},
        )
    if (
        isinstance(duration_of_stay_days, bool)
        or not isinstance(duration_of_stay_days, int)
        or not 1 <= duration_of_stay_days <= MAX_DAYS_IN_WINDOW
    ):
        raise InvalidInput(
            f"A duration of stay is 1 to {MAX_DAYS_IN_WINDOW} days, not {duration_of_stay_days!r}",
            fields={"duration_of_stay_days": f"1 to {MAX_DAYS_IN_WINDOW}"},
        )

"""The scheme as data: participating states, who needs a visa, who may have one, the fee and its sharing.

`Scheme.load()` reads ``scheme.toml`` shipped with the package; a node may switch states off. The scheme
is immutable and shared by every thread, like the reference data.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from silkway.shared.money import Money

SCHEME_STATES: tuple[str, ...] = ("KZ", "UZ", "KG", "TJ", "TM", "AZ", "AM", "BY", "MD", "RU")
"""The states of the 2019 proposal: the six of the cargo scheme and the other CIS states named at the summit."""

ALPHA3 = {
    "KZ": "KAZ", "UZ": "UZB", "KG": "KGZ", "TJ": "TJK", "TM": "TKM",
    "AZ": "AZE", "AM": "ARM", "BY": "BLR", "MD": "MDA", "RU": "RUS",
}  # fmt: skip
"""ICAO codes of the scheme's states, as the visa's MRZ writes the issuing state."""

ANY = "*"
_ALPHA3 = re.compile(r"[A-Z]{3}")


def consular_office(state: str) -> str:
    """The code of a state's consular service, whose key signs its visas, consultations and alerts."""
    return f"{state}-CONSULAR"


class SchemeError(ValueError):
    """The scheme file contradicts itself or names impossible things."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StatePolicy:
    """One state's rules in the scheme.

    Invariants: nationalities are ISO 3166 alpha-3; `eligible` is either explicit nationalities or `{"*"}`
    (every nationality that needs a visa, except `not_eligible`); `max_consecutive_days` (a national extra
    limit on top of 90/180) is None or 1..90.
    """

    state: str
    participating: bool
    visa_free: frozenset[str]
    eligible: frozenset[str]
    not_eligible: frozenset[str]
    max_consecutive_days: int | None
    consulted_nationalities: frozenset[str]
    timezone: str

    def local_day(self, instant: datetime) -> date:
        """The calendar day at this state's borders at `instant` (an aware datetime)."""
        return instant.astimezone(ZoneInfo(self.timezone)).date()

    @property
    def consular_office(self) -> str:
        """The code of the state's consular service, whose key signs its visas."""
        return consular_office(self.state)

    def needs_visa(self, nationality: str) -> bool:
        return nationality not in self.visa_free and nationality != ALPHA3.get(self.state)

    def is_eligible(self, nationality: str) -> bool:
        if nationality in self.not_eligible:
            return False
        return ANY in self.eligible or nationality in self.eligible


@dataclass(frozen=True, slots=True, kw_only=True)
class Airport:
    """An international airport designated as a border crossing point for travellers.

    Invariants: `code` is ``"<state>-<IATA code>"`` and `state` is a state of the scheme.
    """

    code: str
    name: str
    lat: float
    lon: float

    @property
    def state(self) -> str:
        return self.code[:2]


@dataclass(frozen=True, slots=True, kw_only=True)
class Retention:
    """Days after a record's last relevant date before its personal data is erased."""

    application_refused: int
    visa: int
    crossing: int
    alert: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Scheme:
    """The whole scheme. `states` holds every state of the file, participating or not."""

    states: Mapping[str, StatePolicy]
    fee: Money
    competent_share: Decimal
    consultation_days: int
    appeal_days: int
    max_stay_days: int
    window_days: int
    min_passport_validity_days: int
    max_lodging_days_ahead: int
    retention: Retention
    airports: Mapping[str, Airport]

    @classmethod
    def load(cls, switched_off: Iterable[str] = ()) -> Scheme:
        """The packaged scheme, with the states in `switched_off` not participating.

        On a malformed file or an unknown state to switch off, raises `SchemeError`.
        """
        text = resources.files(__package__).joinpath("scheme.toml").read_text(encoding="utf-8")
        return cls.parse(tomllib.loads(text), switched_off=switched_off)

    @classmethod
    def parse(cls, data: Mapping[str, object], *, switched_off: Iterable[str] = ()) -> Scheme:
        off = {s.strip().upper() for s in switched_off if s.strip()}
        try:
            general = _table(data, "scheme")
            retention = _table(data, "retention")
            raw_states = _table(data, "states")
            unknown = off - set(raw_states)
            if unknown:
                raise SchemeError(f"cannot switch off {', '.join(sorted(unknown))}: not in the scheme")
            states = {code: _policy(code, _table(raw_states, code), code in off) for code in raw_states}
            currency = str(general["currency"])
            scheme = cls(
                states=MappingProxyType(states),
                fee=Money.of(str(general["fee"]), currency),
                competent_share=Decimal(str(general["competent_share"])),
                consultation_days=int(str(general["consultation_days"])),
                appeal_days=int(str(general["appeal_days"])),
                max_stay_days=int(str(general["max_stay_days"])),
                window_days=int(str(general["window_days"])),
                min_passport_validity_days=int(str(general["min_passport_validity_days"])),
                max_lodging_days_ahead=int(str(general["max_lodging_days_ahead"])),
                retention=Retention(**{k: int(str(v)) for k, v in retention.items()}),
                airports=MappingProxyType(_airports(data.get("airports", []))),
            )
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            if isinstance(exc, SchemeError):
                raise
            raise SchemeError(f"the visa scheme is malformed: {exc!r}") from exc
        if not Decimal(0) <= scheme.competent_share <= Decimal(1):
            raise SchemeError("competent_share is a fraction between 0 and 1")
        if not scheme.participating:
            raise SchemeError("no state participates in the scheme")
        return scheme

    @property
    def participating(self) -> tuple[str, ...]:
        """The participating states, in the scheme's order."""
        return tuple(code for code, policy in self.states.items() if policy.participating)

    def policy(self, state: str) -> StatePolicy | None:
        """The rules of a participating state, or None for any other code."""
        found = self.states.get(state)
        return found if found is not None and found.participating else None

    def national_limits(self) -> dict[str, int]:
        """State → the most consecutive days allowed there, for the states that set a limit."""
        return {
            code: p.max_consecutive_days
            for code, p in self.states.items()
            if p.participating and p.max_consecutive_days is not None
        }

    def consulting_states(self, nationality: str, *, competent: str) -> tuple[str, ...]:
        """The states that asked to be consulted on `nationality` (Visa Code Art. 22), except the competent one."""
        return tuple(
            code
            for code in self.participating
            if code != competent and nationality in self.states[code].consulted_nationalities
        )

    def fee_shares(self, competent: str, days_by_state: Mapping[str, int]) -> dict[str, Money]:
        """How the fee is split: the competent state's share, the rest by planned days (cents to the competent).

        The shares always add up to the fee exactly.
        """
        fee = self.fee.amount
        cent = Decimal("0.01")
        shares: dict[str, Decimal] = {competent: (fee * self.competent_share).quantize(cent, ROUND_HALF_EVEN)}
        others = {s: d for s, d in days_by_state.items() if s != competent and d > 0}
        rest = fee - shares[competent]
        total_days = sum(others.values())
        if total_days == 0:
            shares[competent] = fee
        else:
            for state, days in sorted(others.items()):
                shares[state] = (rest * days / total_days).quantize(cent, rounding="ROUND_DOWN")
            shares[competent] += fee - sum(shares.values())
        return {s: Money(amount=a, currency=self.fee.currency) for s, a in shares.items()}

    def appeal_deadline(self, decided_on: date) -> date:
        """The last day to appeal a refusal decided on `decided_on`."""
        return decided_on + timedelta(days=self.appeal_days)


def _airports(raw: object) -> dict[str, Airport]:
    if not isinstance(raw, Sequence):
        raise SchemeError("[[airports]] must be an array of tables")
    airports: dict[str, Airport] = {}
    for entry in raw:
        if not isinstance(entry, Mapping):
            raise SchemeError("each [[airports]] entry is a table")
        airport = Airport(
            code=str(entry["code"]), name=str(entry["name"]), lat=float(entry["lat"]), lon=float(entry["lon"])
        )
        if not re.fullmatch(r"[A-Z]{2}-[A-Z]{3}", airport.code) or airport.state not in ALPHA3:
            raise SchemeError(f"airport code {airport.code!r} is not <state>-<IATA> for a state of the scheme")
        if airport.code in airports:
            raise SchemeError(f"airport {airport.code} is listed twice")
        airports[airport.code] = airport
    return airports


def _table(data: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = data[key]
    if not isinstance(value, Mapping):
        raise SchemeError(f"[{key}] must be a table")
    return value


def _codes(value: object, name: str, state: str) -> frozenset[str]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise SchemeError(f"{state}.{name} must be a list of alpha-3 codes")
    codes = frozenset(str(v) for v in value)
    bad = sorted(c for c in codes if c != ANY and not _ALPHA3.fullmatch(c))
    if bad:
        raise SchemeError(f"{state}.{name} holds codes that are not alpha-3: {', '.join(bad)}")
    return codes


def _policy(code: str, raw: Mapping[str, object], off: bool) -> StatePolicy:
    if code not in ALPHA3:
        raise SchemeError(f"{code} is not a state of the scheme ({', '.join(SCHEME_STATES)})")
    limit = raw.get("max_consecutive_days")
    if limit is not None and not (isinstance(limit, int) and 1 <= limit <= 90):
        raise SchemeError(f"{code}.max_consecutive_days must be 1..90")
    policy = StatePolicy(
        state=code,
        participating=bool(raw.get("participating", True)) and not off,
        visa_free=_codes(raw.get("visa_free", []), "visa_free", code),
        eligible=_codes(raw.get("eligible", [ANY]), "eligible", code),
        not_eligible=_codes(raw.get("not_eligible", []), "not_eligible", code),
        max_consecutive_days=limit,
        consulted_nationalities=_codes(raw.get("consulted_nationalities", []), "consulted_nationalities", code),
        timezone=str(raw.get("timezone", "UTC")),
    )
    try:
        ZoneInfo(policy.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SchemeError(f"{code}.timezone {policy.timezone!r} is not a known time zone") from exc
    if policy.visa_free & policy.eligible:
        raise SchemeError(f"{code} lists nationalities both as visa-free and as eligible")
    return policy

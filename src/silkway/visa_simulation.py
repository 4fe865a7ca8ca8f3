"""Simulated travellers of the Commonwealth Visa, driven through the visa handlers, for demos.

Each traveller lodges an application with the consular service of its main destination (prior
consultation running where a state asked for it on the nationality), is refused now and then, or gets a
visa, then is checked in and out at the scheme's airports and land posts through `check_at_border` — some
moving on to a second state the same day, a few staying past their last day, a few still in the area
after it, some never using the visa. Now and then a visa is revoked before its holder travels, who is
then refused entry. Nothing is written to the database but by the handlers.

The travellers' journeys run on the transit simulation's discrete-event loop (`simulation.drive`), alone
or together with transits, with one `FixedClock` moved to each step. All chance comes from one
`random.Random(seed)`; application ids and status tokens are the handlers' own random secrets.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from rich.table import Table

from silkway.places.model import OfficeKind
from silkway.services import Services
from silkway.shared.actors import Actor, Role
from silkway.shared.clock import FixedClock
from silkway.simulation import Journey, drive
from silkway.visas import handlers
from silkway.visas.commands import (
    CheckAtBorder,
    DecideApplication,
    LodgeApplication,
    ReplyToConsultation,
    RevokeVisa,
)
from silkway.visas.model import Applicant, Direction, Entries, Purpose, Sex, TravelPlan

log = logging.getLogger(__name__)

ARRIVALS_EVERY: tuple[float, float] = (60, 240)
"""Minutes between two travellers lodging their applications."""
REFUSAL_RATE = 0.12
REVOCATION_RATE = 0.03
"""Share of visas revoked before use (at least one per run)."""
OVERSTAY_RATE = 0.06
"""Share of travellers who leave days after their last allowed day (at least one per run)."""
STAY_ON_RATE = 0.03
"""Share of travellers who do not leave at all (at least one per run)."""
NO_SHOW_RATE = 0.05
"""Share of visa holders who never travel."""
SECOND_STATE_RATE = 0.30
REFUSAL_GROUNDS = ("purpose_not_justified", "insufficient_means", "return_not_ascertained", "no_medical_insurance")
AIRPORT_WEIGHT = 4.0
"""Most travellers fly; an airport is this many times as likely as one land or sea post."""

NATIONALITIES: tuple[tuple[str, float, tuple[str, ...], tuple[str, ...]], ...] = (
    # (ICAO code, weight, surnames, given names) — names as the passport's machine-readable zone writes them
    ("IND", 5.0, ("SHARMA", "PATEL", "SINGH", "KUMAR", "REDDY", "NAIR"), ("PRIYA", "RAHUL", "ANIL", "DEEPA", "ARJUN")),
    ("CHN", 4.0, ("WANG", "LI", "ZHANG", "LIU", "CHEN", "ZHAO"), ("WEI", "FANG", "JING", "LEI", "MIN", "YAN")),
    ("PAK", 2.0, ("KHAN", "AHMED", "QURESHI", "MALIK", "BUTT"), ("IMRAN", "AYESHA", "BILAL", "SANA", "USMAN")),
    ("IRN", 2.0, ("AHMADI", "HOSSEINI", "KARIMI", "MOHAMMADI"), ("ALI", "MARYAM", "REZA", "ZAHRA", "SARA")),
    ("AFG", 1.0, ("STANIKZAI", "AHMADZAI", "POPAL", "WARDAK"), ("AHMAD", "FARIDA", "NAJIB", "MALALAI")),
    ("VNM", 1.5, ("NGUYEN", "TRAN", "LE", "PHAM", "HOANG"), ("MINH", "LAN", "HUNG", "THU", "DUC")),
    ("EGY", 1.0, ("HASSAN", "MAHMOUD", "IBRAHIM", "SAID"), ("MOHAMED", "NOUR", "OMAR", "HEBA", "KARIM")),
    ("IDN", 1.0, ("SANTOSO", "WIJAYA", "HALIM", "SUSANTO"), ("ADI", "DEWI", "BUDI", "SITI", "RINA")),
    ("USA", 1.0, ("SMITH", "JOHNSON", "BROWN", "MILLER"), ("JOHN", "EMILY", "MICHAEL", "SARAH", "DAVID")),
    ("BRA", 0.5, ("SILVA", "SANTOS", "OLIVEIRA", "SOUZA"), ("ANA", "PEDRO", "LUCAS", "JULIA", "RAFAEL")),
)
"""Who applies, and how often: nationalities that need a visa for at least some states of the scheme."""

DESTINATION_WEIGHTS: Mapping[str, float] = {
    "KZ": 3.0, "UZ": 3.0, "KG": 1.5, "TJ": 1.0, "TM": 1.0, "AZ": 1.5,
    "AM": 0.7, "BY": 0.7, "MD": 0.3, "RU": 2.0,
}  # fmt: skip


def _consul(state: str) -> Actor:
    return Actor(username=f"consul-{state.lower()}", role=Role.CONSULAR, country=state)


def _guard(state: str) -> Actor:
    return Actor(username=f"border-{state.lower()}", role=Role.BORDER_GUARD, country=state)


# --- the summary --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class VisaSimulationSummary:
    """What a visa simulation did. `issued + refused + undecided == lodged`."""

    seed: int
    lodged: int
    consulted: int
    """Applications on which another state was consulted first."""
    issued: int
    refused: int
    undecided: int
    """Applications still waiting for a decision when the run stopped."""
    revoked: int
    entries: int
    entries_refused: int
    exits: int
    overstays: int
    """Exits flagged as overstays."""
    staying_on: int
    """Travellers who entered and were never meant to leave (they show as overstayers once their last
    allowed day has passed)."""

    def as_dict(self) -> dict[str, int]:
        return {
            "seed": self.seed,
            "lodged": self.lodged,
            "consulted": self.consulted,
            "issued": self.issued,
            "refused": self.refused,
            "undecided": self.undecided,
            "revoked": self.revoked,
            "entries": self.entries,
            "entries_refused": self.entries_refused,
            "exits": self.exits,
            "overstays": self.overstays,
            "staying_on": self.staying_on,
        }

    def table(self) -> Table:
        table = Table(title=f"Simulated travellers (seed {self.seed})")
        table.add_column("")
        table.add_column("count", justify="right")
        rows = (
            ("Applications lodged", self.lodged),
            ("  with prior consultation", self.consulted),
            ("  visas issued", self.issued),
            ("  refused", self.refused),
            ("  not yet decided", self.undecided),
            ("Visas revoked", self.revoked),
            ("Entries allowed", self.entries),
            ("Entries refused", self.entries_refused),
            ("Exits", self.exits),
            ("  of which overstays", self.overstays),
            ("Travellers staying on", self.staying_on),
        )
        for label, value in rows:
            table.add_row(label, str(value))
        return table


@dataclass(slots=True)
class _Tally:
    lodged: int = 0
    consulted: int = 0
    issued: int = 0
    refused: int = 0
    revoked: int = 0
    entries: int = 0
    entries_refused: int = 0
    exits: int = 0
    overstays: int = 0
    staying_on: int = 0
    passports: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Fate:
    """What becomes of one traveller, drawn when the run is planned."""

    refused: bool
    revoked: bool
    no_show: bool
    overstays: bool
    stays_on: bool


# --- one traveller ------------------------------------------------------------------------------


class _Travel:
    """Everything the simulated travellers share: services, the clock, the dice and the tally."""

    def __init__(self, services: Services, clock: FixedClock, rng: random.Random) -> None:
        self.services = services
        self.scheme = services.scheme
        self.clock = clock
        self.rng = rng
        self.tally = _Tally()
        self.posts: dict[str, list[tuple[str, float]]] = {}
        for state in self.scheme.participating:
            airports = [(code, AIRPORT_WEIGHT) for code, a in self.scheme.airports.items() if a.state == state]
            land = [
                (o.code, 1.0)
                for o in services.reference.offices_of(state)
                if o.kind in (OfficeKind.BORDER, OfficeKind.SEAPORT)
            ]
            if airports or land:
                self.posts[state] = airports + land

    def journey(self, fate: _Fate) -> Journey:
        rng = self.rng
        # those who will stay too long travel soon, briefly, to one state that consults nobody: a run of a
        # few weeks then sees them overstay
        short = fate.overstays or fate.stays_on
        nationality, surnames, given, states = self._traveller(short=short)
        competent = states[0]
        policy = self.scheme.states[competent]
        consulted = self.scheme.consulting_states(nationality, competent=competent)
        today = policy.local_day(self.clock.now())
        # far enough ahead for the consultation and the decision to come before the journey
        ahead = (3, 5) if short else (12, 18) if consulted else (5, 12)
        arrive = today + timedelta(days=rng.randint(*ahead))
        days = rng.randint(3, 6) if short else rng.randint(4, 16)
        leave = arrive + timedelta(days=days - 1)
        applicant = Applicant(
            surname=rng.choice(surnames),
            given_names=rng.choice(given),
            native_name=None,
            nationality=nationality,
            date_of_birth=date(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28)),
            sex=rng.choice((Sex.MALE, Sex.FEMALE)),
            passport_number=self._passport(),
            passport_expiry=today + timedelta(days=rng.randint(2 * 365, 8 * 365)),
        )
        plan = TravelPlan(
            states=states,
            arrive=arrive,
            leave=leave,
            main_destination=competent if len(states) > 1 else None,
            purpose=rng.choice((Purpose.TOURISM, Purpose.TOURISM, Purpose.BUSINESS, Purpose.VISITING_FAMILY)),
            entries=Entries.MULTIPLE if len(states) > 1 else Entries.SINGLE,
        )
        lodged = handlers.lodge_application(
            LodgeApplication(applicant=applicant, plan=plan),
            uow=self.services.uow(),
            clock=self.clock,
            scheme=self.scheme,
            countries=self.services.countries,
        )
        self.tally.lodged += 1
        if consulted:
            self.tally.consulted += 1
            for state in consulted:  # at most three states, each within 36 hours: inside the seven days
                yield _hours(rng, 6, 36)
                handlers.reply_to_consultation(
                    ReplyToConsultation(actor=_consul(state), application_id=lodged.id, objection=False),
                    uow=self.services.uow(),
                    clock=self.clock,
                    scheme=self.scheme,
                )
        yield _hours(rng, 4, 60)

        if fate.refused:
            handlers.decide_application(
                DecideApplication(
                    actor=_consul(competent),
                    application_id=lodged.id,
                    decision="refuse",
                    grounds=(rng.choice(REFUSAL_GROUNDS),),
                ),
                uow=self.services.uow(),
                clock=self.clock,
                scheme=self.scheme,
            )
            self.tally.refused += 1
            return
        decided_on = policy.local_day(self.clock.now())
        valid_from = max(decided_on, arrive - timedelta(days=rng.randint(0, 2)))
        valid_until = leave + timedelta(days=1 if short else rng.randint(3, 10))
        number = handlers.decide_application(
            DecideApplication(
                actor=_consul(competent),
                application_id=lodged.id,
                decision="issue",
                valid_from=valid_from,
                valid_until=valid_until,
                duration_of_stay_days=min(90, days + rng.randint(0, 3), (valid_until - valid_from).days + 1),
                entries=plan.entries,
            ),
            uow=self.services.uow(),
            clock=self.clock,
            scheme=self.scheme,
        )
        if number is None:  # pragma: no cover - an issue decision always gives a number
            raise RuntimeError("no visa number for an issued visa")
        self.tally.issued += 1

        if fate.revoked:
            yield _hours(rng, 12, 48)
            handlers.revoke_visa(
                RevokeVisa(
                    actor=_consul(competent),
                    number=number,
                    grounds=("unreliable_information",),
                    reason="The invitation presented with the application was withdrawn by the inviting company",
                ),
                uow=self.services.uow(),
                clock=self.clock,
                scheme=self.scheme,
            )
            self.tally.revoked += 1
        if fate.no_show and not fate.revoked:
            return

        yield self._until(arrive)
        first = self._cross(number, applicant.passport_number, states[0], Direction.ENTRY)
        if not first:
            return  # turned back at the border
        last_state = states[0]
        if len(states) > 1:
            move = arrive + timedelta(days=rng.randint(1, max(1, days - 2)))
            yield self._until(move)
            self._cross(number, applicant.passport_number, states[0], Direction.EXIT)
            yield _hours(rng, 1, 5)
            self._cross(number, applicant.passport_number, states[1], Direction.ENTRY)
            last_state = states[1]
        if fate.stays_on:
            self.tally.staying_on += 1
            return
        out = valid_until + timedelta(days=rng.randint(2, 4)) if fate.overstays else leave
        yield self._until(out)
        self._cross(number, applicant.passport_number, last_state, Direction.EXIT)

    def _cross(self, number: str, passport: str, state: str, direction: Direction) -> bool:
        """Check the traveller at one of the state's posts and record the crossing; whether it was allowed."""
        options = self.posts[state]
        office = self.rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]
        check = handlers.check_at_border(
            CheckAtBorder(
                actor=_guard(state), office=office, direction=direction, passport_number=passport, visa_number=number
            ),
            uow=self.services.uow(),
            clock=self.clock,
            scheme=self.scheme,
            countries=self.services.countries,
            seals=self.services.seal_reader,
        )
        verdict = check.verdict
        if direction is Direction.EXIT:
            self.tally.exits += 1
            if verdict.overstay_days > 0:
                self.tally.overstays += 1
        elif verdict.allowed:
            self.tally.entries += 1
        else:
            self.tally.entries_refused += 1
        return verdict.allowed

    def _traveller(self, *, short: bool) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """A nationality, its names, and one or two states with posts to visit, the first (the main
        destination) one that asks this nationality for a visa, every one eligible for it; a `short` trip
        is to one state that consults no other on the nationality."""
        rng = self.rng
        while True:
            code, _, surnames, given = rng.choices(NATIONALITIES, weights=[n[1] for n in NATIONALITIES])[0]
            open_to = [s for s in self.posts if self.scheme.states[s].is_eligible(code)]
            needing = [
                s
                for s in open_to
                if self.scheme.states[s].needs_visa(code)
                and not (short and self.scheme.consulting_states(code, competent=s))
            ]
            if needing:
                break
        main = rng.choices(needing, weights=[DESTINATION_WEIGHTS.get(s, 1.0) for s in needing])[0]
        others = [s for s in open_to if s != main]
        if others and not short and rng.random() < SECOND_STATE_RATE:
            return code, surnames, given, (main, rng.choice(others))
        return code, surnames, given, (main,)

    def _passport(self) -> str:
        while True:
            number = self.rng.choice("CEKLNPRTUZ") + f"{self.rng.randint(0, 99_999_999):08d}"
            if number not in self.tally.passports:
                self.tally.passports.add(number)
                return number

    def _until(self, day: date) -> timedelta:
        """The wait until a time of day on `day` when every post of the scheme has the same calendar day
        (03:00 to 12:00 UTC: morning to evening from Chisinau to Almaty); none if that is already past."""
        at = datetime.combine(day, time(3), tzinfo=UTC) + timedelta(minutes=self.rng.randint(0, 9 * 60))
        return max(timedelta(minutes=1), at - self.clock.now())


def _share(rate: float, travellers: int) -> int:
    """How many travellers of a run meet a fate of this rate: at least one."""
    return max(1, round(rate * travellers))


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=round(rng.uniform(low, high) * 60))


# --- the run ------------------------------------------------------------------------------------


class VisaTravel:
    """Simulated travellers ready to run: their journeys (for `simulation.drive`) and their summary."""

    def __init__(
        self,
        services: Services,
        clock: FixedClock,
        *,
        travellers: int,
        seed: int,
        arrivals_every: tuple[float, float] = ARRIVALS_EVERY,
    ) -> None:
        if travellers < 1:
            raise ValueError("simulate at least one traveller")
        self.seed = seed
        rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not cryptography
        self._travel = _Travel(services, clock, rng)
        # the few whose fate makes the figures are drawn in advance, so every run has some; those who stay too
        # long among the first quarter of travellers, so they have done so before a run of a few weeks ends
        revoked = set(rng.sample(range(travellers), _share(REVOCATION_RATE, travellers)))
        early = [i for i in range(max(1, travellers // 4)) if i not in revoked]
        overstaying = set(rng.sample(early, min(len(early), _share(OVERSTAY_RATE, travellers))))
        early = [i for i in early if i not in overstaying]
        staying_on = set(rng.sample(early, min(len(early), _share(STAY_ON_RATE, travellers))))
        self.journeys: list[tuple[datetime, Journey]] = []
        at = clock.now()
        for index in range(travellers):
            drawn = index in revoked or index in overstaying or index in staying_on
            fate = _Fate(
                refused=not drawn and rng.random() < REFUSAL_RATE,
                revoked=index in revoked,
                no_show=not drawn and rng.random() < NO_SHOW_RATE,
                overstays=index in overstaying,
                stays_on=index in staying_on,
            )
            self.journeys.append((at, self._travel.journey(fate)))
            at += timedelta(minutes=round(rng.uniform(*arrivals_every)))

    def summary(self) -> VisaSimulationSummary:
        tally = self._travel.tally
        return VisaSimulationSummary(
            seed=self.seed,
            lodged=tally.lodged,
            consulted=tally.consulted,
            issued=tally.issued,
            refused=tally.refused,
            undecided=tally.lodged - tally.issued - tally.refused,
            revoked=tally.revoked,
            entries=tally.entries,
            entries_refused=tally.entries_refused,
            exits=tally.exits,
            overstays=tally.overstays,
            staying_on=tally.staying_on,
        )


def simulate_visas(
    services: Services,
    *,
    travellers: int,
    seed: int,
    on_done: Callable[[], None] = lambda: None,
    until: datetime | None = None,
) -> VisaSimulationSummary:
    """Drive `travellers` travellers through the visa handlers from `services.clock.now()` and summarise them.

    The demo consuls and border guards (`load_demo`) act for their states. With `until`, the run stops there
    (see `simulation.drive`). A `DomainError` from a handler is a bug in the simulation and propagates.
    Raises `ValueError` when `travellers` is below 1.
    """
    clock = FixedClock(services.clock.now())
    travel = VisaTravel(services, clock, travellers=travellers, seed=seed)
    drive(clock, travel.journeys, until=until, on_done=on_done)
    log.info("simulated %d visa travellers with seed %d", travellers, seed)
    return travel.summary()

"""A year of Commonwealth Visa files, as the visa handlers would have recorded them, and the frequent drivers.

Each file is driven through the domain's own aggregate (`silkway.visas.application.VisaApplication`) the way
`silkway.visa_simulation` drives the handlers: the application checked by `check_application` and lodged with
its competent state (prior consultation where a state asked for it), refused now and then or issued with its
MRZ, revoked now and then, and used at the scheme's airports and land posts, where every entry and exit is
judged by the border check's own `judge` over the traveller's recorded crossings and recorded with its
verdict. Some travellers move on to a second state, some leave late, some never leave, some never travel.

The frequent drivers are lorry drivers on a shuttle through three states, two days in the area every five to
seven days, for almost three years under successive six-month multiple-entry visas: some five hundred stays
each by the end of the year, the history the stay rule is computed over at their next check.

Every event becomes the record `SqlVisaRepository.save` would write (signed by the acting office, chained,
encrypted at rest by `PersonalData`), with the projections beside it: `visa_applications`,
`visa_consultations`, `visas`, `visa_crossings`.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bench.traffic_records import Recorder, Signer, Table
from silkway.places.model import OfficeKind
from silkway.places.reference import ReferenceData
from silkway.signing.merkle import leaf_hash
from silkway.storage.personal import PersonalData
from silkway.visa_simulation import AIRPORT_WEIGHT, NATIONALITIES, REFUSAL_GROUNDS, SECOND_STATE_RATE
from silkway.visas.application import VisaApplication
from silkway.visas.border import judge
from silkway.visas.events import (
    ApplicationLodged,
    ApplicationRefused,
    BorderCrossed,
    ConsultationReplied,
    VisaIssued,
    VisaRevoked,
)
from silkway.visas.model import Applicant, Direction, Entries, Purpose, Sex, TravelPlan, Visa, VisaTerms
from silkway.visas.mrz import MrvA
from silkway.visas.ports import Countries, CrossingFact
from silkway.visas.rules import check_application
from silkway.visas.scheme import ALPHA3, Scheme

REFUSAL_RATE = 0.10
REVOCATION_RATE = 0.01
NO_SHOW_RATE = 0.05
OVERSTAY_RATE = 0.02
STAY_ON_RATE = 0.005
APPLICANT = "applicant"
DRIVER_VISA_DAYS = 182
"""A frequent driver's visa: six months, multiple entries, 90 days of stay."""
DRIVER_EVERY_DAYS = (5, 7)
HISTORY_WINDOW_DAYS = 370
"""The border check's verdict depends on the crossings of the last 180 days and those within the visa's
validity (at most `DRIVER_VISA_DAYS`); older ones change nothing, so a driver's check reads this much."""

APPLICATION_COLUMNS = (
    ("id", "varchar"),
    ("status", "varchar"),
    ("competent_state", "varchar"),
    ("nationality", "varchar"),
    ("surname", "varchar"),
    ("given_names", "varchar"),
    ("passport_lookup", "varchar"),
    ("token_digest", "varchar"),
    ("arrive", "date"),
    ("leave", "date"),
    ("lodged_at", "timestamptz"),
    ("consultation_until", "timestamptz"),
    ("decided_at", "timestamptz"),
    ("visa_number", "varchar"),
    ("version", "int4"),
    ("purge_after", "date"),
    ("purged_at", "timestamptz"),
)
CONSULTATION_COLUMNS = (
    ("application_id", "varchar"),
    ("state", "varchar"),
    ("objection", "bool"),
    ("until", "timestamptz"),
)
VISA_COLUMNS = (
    ("number", "varchar"),
    ("application_id", "varchar"),
    ("issuing_state", "varchar"),
    ("nationality", "varchar"),
    ("status", "varchar"),
    ("limited", "bool"),
    ("valid_from", "date"),
    ("valid_until", "date"),
    ("issued_at", "timestamptz"),
    ("revoked_at", "timestamptz"),
    ("revoked_by", "varchar"),
)
CROSSING_COLUMNS = (
    ("application_id", "varchar"),
    ("visa_number", "varchar"),
    ("passport_lookup", "varchar"),
    ("state", "varchar"),
    ("office", "varchar"),
    ("direction", "varchar"),
    ("at", "timestamptz"),
    ("day", "date"),
    ("allowed", "bool"),
    ("flags", "varchar"),
    ("overstay_days", "int4"),
    ("latest_exit", "date"),
)
RECORD_COLUMNS = (
    ("subject", "varchar"),
    ("seq", "int4"),
    ("type", "varchar"),
    ("office", "varchar"),
    ("actor", "varchar"),
    ("at", "timestamptz"),
    ("sealed", "bytea"),
    ("signature", "bytea"),
    ("key_id", "varchar"),
    ("hash", "varchar"),
    ("log_index", "int8"),
)


@dataclass(slots=True)
class Traveller:
    """One person's passport and the crossings recorded with it (as `crossings_of` reads them back)."""

    nationality: str
    surname: str
    given_names: str
    date_of_birth: date
    sex: Sex
    passport: str
    passport_expiry: date
    lookup: str
    crossings: list[CrossingFact] = field(default_factory=list)


@dataclass(slots=True)
class Frequent:
    """A frequent driver, for the benchmark to look up: the passport and the visas issued to it."""

    passport: str
    nationality: str
    visas: list[str] = field(default_factory=list)


class VisaTraffic:
    """The journeys of the year's visa files and the frequent drivers, for one worker's event loop."""

    def __init__(
        self,
        *,
        rng: random.Random,
        reference: ReferenceData,
        scheme: Scheme,
        countries: Countries,
        personal: PersonalData,
        signer: Signer,
        tables: dict[str, Table],
        record: Recorder,
    ) -> None:
        self.rng = rng
        self.reference = reference
        self.scheme = scheme
        self.countries = countries
        self.personal = personal
        self.signer = signer
        self.tables = tables
        self.record = record
        self.numbers: dict[str, int] = {}
        self.passports: set[str] = set()
        self.open: dict[str, tuple[VisaApplication, str]] = {}
        self.frequent: list[Frequent] = []
        self.counts: dict[str, int] = {}
        self.limits = scheme.national_limits()
        self._days: dict[tuple[str, int, int, int, int], date] = {}
        # `ZoneInfo` keeps only a few zones alive between calls; holding every state's makes each look-up a hit
        self._zones = [ZoneInfo(policy.timezone) for policy in scheme.states.values()]
        self.posts: dict[str, tuple[list[str], list[float]]] = {}
        self.land: dict[str, list[str]] = {}
        for state in scheme.participating:
            airports = [code for code, a in scheme.airports.items() if a.state == state]
            land = [o.code for o in reference.offices_of(state) if o.kind in (OfficeKind.BORDER, OfficeKind.SEAPORT)]
            if airports or land:
                self.posts[state] = (airports + land, [AIRPORT_WEIGHT] * len(airports) + [1.0] * len(land))
            self.land[state] = [o.code for o in reference.offices_of(state) if o.kind is OfficeKind.BORDER]
        participating = set(scheme.participating)
        self.legs: dict[str, list[tuple[str, str, str]]] = {}
        for crossing in reference.crossings.values():
            a, b = (reference.offices[o] for o in crossing.offices)
            if a.country in participating and b.country in participating and crossing.mode != "sea":
                self.legs.setdefault(a.country, []).append((a.code, b.code, b.country))
                self.legs.setdefault(b.country, []).append((b.code, a.code, a.country))

    # --- a traveller of the year ------------------------------------------------------------------

    def journey(self, start: datetime) -> Iterator[datetime]:
        rng = self.rng
        stays_on = rng.random() < STAY_ON_RATE
        overstays = not stays_on and rng.random() < OVERSTAY_RATE
        short = stays_on or overstays
        nationality, surnames, given, states = self._itinerary(short=short)
        competent = states[0]
        policy = self.scheme.states[competent]
        consulted = self.scheme.consulting_states(nationality, competent=competent)
        today = policy.local_day(start)
        ahead = (3, 5) if short else (12, 18) if consulted else (5, 12)
        arrive = today + timedelta(days=rng.randint(*ahead))
        days = rng.randint(3, 6) if short else rng.randint(4, 16)
        leave = arrive + timedelta(days=days - 1)
        person = self._person(nationality, surnames, given, today)
        plan = TravelPlan(
            states=states,
            arrive=arrive,
            leave=leave,
            main_destination=competent if len(states) > 1 else None,
            purpose=rng.choice((Purpose.TOURISM, Purpose.TOURISM, Purpose.BUSINESS, Purpose.VISITING_FAMILY)),
            entries=Entries.MULTIPLE if len(states) > 1 else Entries.SINGLE,
        )
        file, head = self._lodge(person, plan, start)
        at = start
        for state in file.lodged.consulted_states:
            at += _hours(rng, 6, 36)
            yield at
            file.reply(
                ConsultationReplied(
                    at=at,
                    actor=_consul(state),
                    office=self.scheme.states[state].consular_office,
                    state=state,
                    objection=False,
                    grounds=(),
                    reason="",
                )
            )
            head = self._store(file, head)
        at += _hours(rng, 4, 60)
        yield at
        if not short and rng.random() < REFUSAL_RATE:
            decided = policy.local_day(at)
            file.refuse(
                ApplicationRefused(
                    at=at,
                    actor=_consul(competent),
                    office=policy.consular_office,
                    grounds=(rng.choice(REFUSAL_GROUNDS),),
                    appeal_until=self.scheme.appeal_deadline(decided),
                    note="",
                )
            )
            self._store(file, head)
            self._close(file)
            return
        decided = policy.local_day(at)
        valid_from = max(decided, arrive - timedelta(days=rng.randint(0, 2)))
        valid_until = leave + timedelta(days=1 if short else rng.randint(3, 10))
        duration = min(90, days + rng.randint(0, 3), (valid_until - valid_from).days + 1)
        head = self._issue(file, head, at, valid_from, valid_until, duration, plan.entries)
        if rng.random() < REVOCATION_RATE:
            at += _hours(rng, 12, 48)
            yield at
            file.revoke(
                VisaRevoked(
                    at=at,
                    actor=_consul(competent),
                    office=policy.consular_office,
                    state=competent,
                    annulled=False,
                    grounds=("unreliable_information",),
                    reason="The invitation presented with the application was withdrawn by the inviting company",
                )
            )
            head = self._store(file, head)
        elif not short and rng.random() < NO_SHOW_RATE:
            self._close(file)
            return
        at = self._morning(arrive, at)
        yield at
        allowed, head = self._cross(file, head, person, states[0], Direction.ENTRY, at)
        if not allowed:
            self._close(file)
            return
        last = states[0]
        if len(states) > 1:
            at = self._morning(arrive + timedelta(days=rng.randint(1, max(1, days - 2))), at)
            yield at
            _, head = self._cross(file, head, person, states[0], Direction.EXIT, at)
            at += _hours(rng, 1, 5)
            yield at
            _, head = self._cross(file, head, person, states[1], Direction.ENTRY, at)
            last = states[1]
        if stays_on:
            self._close(file)
            return
        out = _visa_of(file).terms.valid_until + timedelta(days=rng.randint(2, 4)) if overstays else leave
        at = self._morning(out, at)
        yield at
        self._cross(file, head, person, last, Direction.EXIT, at)
        self._close(file)

    # --- a frequent driver ------------------------------------------------------------------------

    def driver(self, start: datetime) -> Iterator[datetime]:
        """A lorry driver on a shuttle A → B → C: enters A and moves on to B on the first day, moves on to C
        and leaves the area on the second; every five to seven days, under successive six-month visas, each
        applied for some three weeks before the one before runs out."""
        rng = self.rng
        route = self._route()
        states = tuple(state for state, _, _ in route)
        nationality, surnames, given = self._driver_nationality(states)
        person = self._person(
            nationality, surnames, given, self.scheme.states[states[0]].local_day(start), passport_years=9
        )
        frequent = Frequent(person.passport, nationality)
        self.frequent.append(frequent)
        valid_from = self.scheme.states[states[0]].local_day(start) + timedelta(days=20)
        file, head, at = yield from self._driver_visa(person, states, valid_from, start)
        frequent.visas.append(_visa_of(file).number)
        trip = valid_from
        renewal: tuple[VisaApplication, str | None] | None = None
        while True:
            valid_until = _visa_of(file).terms.valid_until
            if renewal is None and trip >= valid_until - timedelta(days=25):
                at = max(at, datetime.combine(trip, time(2), tzinfo=UTC))
                next_file, next_head, at = yield from self._driver_visa(
                    person, states, valid_until + timedelta(days=1), at
                )
                frequent.visas.append(_visa_of(next_file).number)
                renewal = (next_file, next_head)
                trip = max(trip, at.date() + timedelta(days=1))
            if trip + timedelta(days=1) > valid_until:
                self._close(file)
                if renewal is None:
                    return
                file, head = renewal
                renewal = None
                trip = max(trip, _visa_of(file).terms.valid_from)
                continue
            (a, a_in, a_out), (b, b_in, b_out), (c, c_in, c_out) = route
            at = datetime.combine(trip, time(3), tzinfo=UTC) + timedelta(minutes=rng.randint(0, 120))
            yield at
            allowed, head = self._cross(file, head, person, a, Direction.ENTRY, at, office=a_in)
            if allowed:
                for state, direction, office, wait in (
                    (a, Direction.EXIT, a_out, (3, 5)),
                    (b, Direction.ENTRY, b_in, (0.5, 1)),
                    (b, Direction.EXIT, b_out, None),
                    (c, Direction.ENTRY, c_in, (0.5, 1)),
                    (c, Direction.EXIT, c_out, (4, 7)),
                ):
                    if wait is None:
                        at = datetime.combine(trip + timedelta(days=1), time(3), tzinfo=UTC)
                        at += timedelta(minutes=rng.randint(0, 90))
                    else:
                        at += _hours(rng, *wait)
                    yield at
                    _, head = self._cross(file, head, person, state, direction, at, office=office)
            trip += timedelta(days=rng.randint(*DRIVER_EVERY_DAYS))

    def _driver_visa(
        self, person: Traveller, states: tuple[str, ...], valid_from: date, at: datetime
    ) -> Generator[datetime, None, tuple[VisaApplication, str | None, datetime]]:
        """Lodge, wait for the consulted states, and issue a driver's visa from `valid_from`; returns
        (file, head of its chain, the time it was issued) to the journey that `yield from`s it."""
        rng = self.rng
        yield at
        plan = TravelPlan(
            states=states,
            arrive=valid_from,
            leave=valid_from + timedelta(days=89),
            main_destination=states[0],
            purpose=Purpose.BUSINESS,
            entries=Entries.MULTIPLE,
        )
        file, head = self._lodge(person, plan, at)
        for state in file.lodged.consulted_states:
            at += _hours(rng, 6, 36)
            yield at
            file.reply(
                ConsultationReplied(
                    at=at,
                    actor=_consul(state),
                    office=self.scheme.states[state].consular_office,
                    state=state,
                    objection=False,
                    grounds=(),
                    reason="",
                )
            )
            head = self._store(file, head)
        at = max(at + _hours(rng, 24, 72), file.lodged.consultation_until or at)
        yield at
        valid_until = valid_from + timedelta(days=DRIVER_VISA_DAYS - 1)
        head = self._issue(file, head, at, valid_from, valid_until, 90, Entries.MULTIPLE)
        return file, head, at

    def _route(self) -> list[tuple[str, str, str]]:
        """Three states and the posts of the shuttle: (state, where it is entered, where it is left)."""
        rng = self.rng
        while True:
            first = rng.choice(sorted(self.legs))
            exit_a, entry_b, second = rng.choice(self.legs[first])
            onward = [leg for leg in self.legs.get(second, []) if leg[2] not in (first, second)]
            if not onward:
                continue
            exit_b, entry_c, third = rng.choice(onward)
            outer_a = [o for o in self.land[first] if o != exit_a]
            outer_c = [o for o in self.land[third] if o != entry_c]
            if outer_a and outer_c:
                return [
                    (first, rng.choice(outer_a), exit_a),
                    (second, entry_b, exit_b),
                    (third, entry_c, rng.choice(outer_c)),
                ]

    def _driver_nationality(self, states: Sequence[str]) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        candidates = [n for n in NATIONALITIES if all(self.scheme.states[s].needs_visa(n[0]) for s in states)] or list(
            NATIONALITIES
        )
        code, _, surnames, given = self.rng.choice(candidates)
        return code, surnames, given

    # --- the file and its records -----------------------------------------------------------------

    def _person(
        self, nationality: str, surnames: Sequence[str], given: Sequence[str], today: date, passport_years: int = 0
    ) -> Traveller:
        rng = self.rng
        while True:
            number = rng.choice("CEKLNPRTUZ") + f"{rng.randint(0, 99_999_999):08d}"
            if number not in self.passports:
                self.passports.add(number)
                break
        expiry = today + timedelta(days=passport_years * 365 or rng.randint(2 * 365, 8 * 365))
        return Traveller(
            nationality=nationality,
            surname=rng.choice(surnames),
            given_names=rng.choice(given),
            date_of_birth=date(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28)),
            sex=rng.choice((Sex.MALE, Sex.FEMALE)),
            passport=number,
            passport_expiry=expiry,
            lookup=self.personal.lookup(number, nationality),
        )

    def _lodge(self, person: Traveller, plan: TravelPlan, at: datetime) -> tuple[VisaApplication, str | None]:
        """`lodge_application`: the rules checked, consultation opened, fee shared, the file lodged."""
        scheme = self.scheme
        competent = plan.competent_state()
        applicant = Applicant(
            surname=person.surname,
            given_names=person.given_names,
            native_name=None,
            nationality=person.nationality,
            date_of_birth=person.date_of_birth,
            sex=person.sex,
            passport_number=person.passport,
            passport_expiry=person.passport_expiry,
        )
        today = self._local_day(competent, at)
        check_application(applicant, plan, scheme=scheme, countries=self.countries, today=today)
        consulted = scheme.consulting_states(applicant.nationality, competent=competent)
        shares = scheme.fee_shares(competent, plan.days_by_state())
        event = ApplicationLodged(
            at=at,
            actor=APPLICANT,
            office=scheme.states[competent].consular_office,
            applicant=applicant,
            plan=plan,
            competent_state=competent,
            consulted_states=consulted,
            consultation_until=at + timedelta(days=scheme.consultation_days) if consulted else None,
            fee_shares={state: str(money.amount) for state, money in shares.items()},
            fee_currency=scheme.fee.currency,
        )
        application_id = self.rng.getrandbits(64).to_bytes(8, "big").hex()
        token = self.rng.getrandbits(192).to_bytes(24, "big").hex()
        file = VisaApplication.lodge(application_id, event)
        self.open[application_id] = (file, hashlib.sha256(token.encode()).hexdigest())
        return file, self._store(file, None)

    def _issue(
        self,
        file: VisaApplication,
        head: str | None,
        at: datetime,
        valid_from: date,
        valid_until: date,
        duration: int,
        entries: Entries,
    ) -> str | None:
        """`decide_application` with decision "issue": the next number of the state, the terms, the MRZ."""
        competent = file.competent_state
        policy = self.scheme.states[competent]
        serial = self.numbers.get(competent, 0) + 1
        self.numbers[competent] = serial
        number = f"{competent}{serial:07d}"
        terms = VisaTerms(
            valid_from=valid_from,
            valid_until=valid_until,
            duration_of_stay_days=duration,
            entries=entries,
            states=self.scheme.participating,
            excluded_states=(),
        )
        a = file.applicant
        mrz = MrvA(
            issuing_state=ALPHA3[competent],
            surname=a.surname,
            given_names=a.given_names,
            visa_number=number,
            nationality=a.nationality,
            date_of_birth=a.date_of_birth,
            sex=a.sex.value,
            valid_until=terms.valid_until,
        ).lines()
        file.issue(
            VisaIssued(
                at=at,
                actor=_consul(competent),
                office=policy.consular_office,
                number=number,
                issuing_state=competent,
                terms=terms,
                mrz=mrz,
            )
        )
        return self._store(file, head)

    def _cross(
        self,
        file: VisaApplication,
        head: str | None,
        person: Traveller,
        state: str,
        direction: Direction,
        at: datetime,
        *,
        office: str | None = None,
    ) -> tuple[bool, str | None]:
        """`check_at_border`: the verdict of `judge` over the person's crossings, recorded as signed."""
        visa = _visa_of(file)
        if office is None:
            posts, weights = self.posts[state]
            office = self.rng.choices(posts, weights=weights)[0]
        day = self._local_day(state, at)
        verdict = judge(
            file=file,
            seal=None,
            visa_number=visa.number,
            passport_number=person.passport,
            state=state,
            direction=direction,
            day=day,
            crossings=_recent(person.crossings, day),
            scheme=self.scheme,
        )
        event = BorderCrossed(
            at=at,
            actor=f"border-{state.lower()}",
            office=office,
            state=state,
            direction=direction,
            day=day,
            allowed=verdict.allowed,
            reasons=tuple(r.code for r in verdict.reasons),
            flags=tuple(f.code for f in verdict.flags),
            days_remaining=verdict.days_remaining,
            latest_exit=verdict.latest_exit,
            overstay_days=verdict.overstay_days,
        )
        file.record_crossing(event)
        self.tables["visa_crossings"].write(
            (
                file.id,
                visa.number,
                person.lookup,
                state,
                office,
                direction.value,
                at,
                day,
                verdict.allowed,
                ",".join(event.flags)[:200],
                verdict.overstay_days,
                verdict.latest_exit,
            )
        )
        if verdict.allowed:
            person.crossings.append(
                CrossingFact(at=at, day=day, state=state, direction=direction, visa_number=visa.number)
            )
        key = f"{direction.value}_{'allowed' if verdict.allowed else 'refused'}"
        self.counts[key] = self.counts.get(key, 0) + 1
        return verdict.allowed, self._store(file, head)

    def _store(self, file: VisaApplication, prev: str | None) -> str | None:
        """Sign, encrypt and queue the file's new records, as `SqlVisaRepository.save` does."""
        subject = f"visa-application:{file.id}"
        for seq, event in enumerate(file.pending_events, start=file.version + 1):
            signed = self.signer.sign(
                type=event.type,
                subject=subject,
                seq=seq,
                prev=prev,
                at=event.at,
                office=event.office,
                actor=event.actor,
                body=event.body(),
            )
            sealed = self.personal.seal(signed.canonical, bound_to=f"{subject}#{seq}")
            self.record(
                event.at,
                leaf_hash(signed.canonical),
                "visa",
                file.id,
                seq,
                "visa_records",
                (
                    subject,
                    seq,
                    event.type,
                    event.office,
                    event.actor,
                    event.at,
                    sealed,
                    signed.signature,
                    signed.key_id,
                    signed.hash,
                ),
            )
            prev = signed.hash
        file.version = len(file.events)
        return prev

    def _close(self, file: VisaApplication) -> None:
        found = self.open.pop(file.id, None)
        if found is not None:
            self._write_file(*found)

    def finish(self) -> None:
        """The year ends: write the projections of every file still open."""
        for file, digest in list(self.open.values()):
            self._write_file(file, digest)
        self.open.clear()

    def _write_file(self, file: VisaApplication, digest: str) -> None:
        """The rows `SqlVisaRepository._insert` and `_project` leave for the file's events."""
        lodged = file.lodged
        a = lodged.applicant
        retention = self.scheme.retention
        decided_at: datetime | None = None
        purge: date | None = None
        for event in file.events:
            if isinstance(event, ApplicationRefused):
                decided_at, purge = event.at, event.at.date() + timedelta(days=retention.application_refused)
            elif isinstance(event, VisaIssued):
                decided_at, purge = event.at, event.terms.valid_until + timedelta(days=retention.visa)
            elif isinstance(event, BorderCrossed):
                crossing_purge = event.day + timedelta(days=retention.crossing)
                if purge is None or purge < crossing_purge:
                    purge = crossing_purge
        self.counts[file.status.value] = self.counts.get(file.status.value, 0) + 1
        visa = file.visa
        self.tables["visa_applications"].write(
            (
                file.id,
                file.status.value,
                lodged.competent_state,
                a.nationality,
                a.surname,
                a.given_names,
                self.personal.lookup(a.passport_number, a.nationality),
                digest,
                lodged.plan.arrive,
                lodged.plan.leave,
                lodged.at,
                lodged.consultation_until,
                decided_at,
                None if visa is None else visa.number,
                len(file.events),
                purge,
                None,
            )
        )
        if lodged.consultation_until is not None:
            for state in lodged.consulted_states:
                answer = file.consultations[state].objection
                self.tables["visa_consultations"].write((file.id, state, answer, lodged.consultation_until))
        if visa is not None:
            self.tables["visas"].write(
                (
                    visa.number,
                    file.id,
                    visa.issuing_state,
                    a.nationality,
                    visa.status.value,
                    visa.terms.limited,
                    visa.terms.valid_from,
                    visa.terms.valid_until,
                    visa.issued_at,
                    visa.revoked_at,
                    visa.revoked_by,
                )
            )

    # --- who travels ------------------------------------------------------------------------------

    def _itinerary(self, *, short: bool) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """As `visa_simulation` draws them: a nationality that needs a visa for the main destination, and
        maybe a second state it is eligible for."""
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
        weights = {"KZ": 3.0, "UZ": 3.0, "KG": 1.5, "TJ": 1.0, "TM": 1.0, "AZ": 1.5, "RU": 2.0}
        main = rng.choices(needing, weights=[weights.get(s, 0.5) for s in needing])[0]
        others = [s for s in open_to if s != main]
        if others and not short and rng.random() < SECOND_STATE_RATE:
            return code, surnames, given, (main, rng.choice(others))
        return code, surnames, given, (main,)

    def _local_day(self, state: str, at: datetime) -> date:
        """`StatePolicy.local_day`, remembered by the hour: every state of the scheme is a whole number of hours
        from UTC, so the calendar day at its borders changes only on the hour."""
        key = (state, at.year, at.month, at.day, at.hour)
        day = self._days.get(key)
        if day is None:
            day = self._days[key] = self.scheme.states[state].local_day(at)
        return day

    def _morning(self, day: date, after: datetime) -> datetime:
        """A time on `day` when every post of the scheme has the same calendar day (03:00 to 12:00 UTC), and
        not before `after`."""
        at = datetime.combine(day, time(3), tzinfo=UTC) + timedelta(minutes=self.rng.randint(0, 9 * 60))
        return max(at, after + timedelta(minutes=1))


def _recent(crossings: list[CrossingFact], day: date) -> list[CrossingFact]:
    """The crossings a verdict on `day` depends on: from the first entry of the last `HISTORY_WINDOW_DAYS`."""
    if len(crossings) < 64:
        return crossings
    since = day - timedelta(days=HISTORY_WINDOW_DAYS)
    start = len(crossings)
    while start > 0 and crossings[start - 1].day >= since:
        start -= 1
    while start < len(crossings) and crossings[start].direction is not Direction.ENTRY:
        start += 1
    return crossings[start:]


def _visa_of(file: VisaApplication) -> Visa:
    if file.visa is None:
        raise RuntimeError(f"application {file.id} has no visa yet")
    return file.visa


def _consul(state: str) -> str:
    return f"consul-{state.lower()}"


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=round(rng.uniform(low, high) * 60))

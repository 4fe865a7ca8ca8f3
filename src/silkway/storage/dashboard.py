"""Read-only figures for the analyst's dashboard: crossing times, inspections, volumes and visas.

Every figure comes from the projections of the signed records (``transit_events``, ``transit_offices``,
``visas``, ``visa_applications``, ``visa_crossings``) in one short read-only transaction per call. Counts
are grouped in SQL; medians and percentiles are taken in Python, so the same code runs on SQLite and
PostgreSQL alike.

A figure for one state (``state="UZ"``) only ever reads what that state is entitled to see: events at its
own offices, goods of transits whose itinerary touches it, visas it issued and travellers at its posts.
The region's figures (``state=None``) are the same sums over every state, never a list of transits.

Crossing time at a border post is the time from the vehicle's first presentation at the post (the signed
``presented`` record) to its recorded passage there (the ``exited`` or ``entered`` record): the time the
vehicle spends in the hands of the post, inspections included and the queue before it excluded.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Engine, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from silkway.places.model import OfficeKind
from silkway.places.reference import ReferenceData
from silkway.storage.tables import (
    TransitEventRow,
    TransitOfficeRow,
    TransitRow,
    VisaApplicationRow,
    VisaCrossingRow,
    VisaRow,
)

RECENT = timedelta(days=7)
"""The window of a post's *current* crossing time, as the map colours it."""
PASSAGES = ("exited", "entered")
DECISIONS = ("presented", "arrived")
_CHUNK = 500
"""MRNs per IN (...) list: well below every backend's limit of bound parameters."""


# --- the figures ------------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float | None:
    """The median (the mean of the two middle values for an even count), or None for no values."""
    return float(statistics.median(values)) if values else None


def percentile_90(values: Sequence[float]) -> float | None:
    """The 90th percentile by the nearest-rank method: the smallest value that at least 90% of the values do
    not exceed (``sorted(values)[ceil(0.9 n) - 1]``), or None for no values. Never interpolated, so it is
    always a crossing that really took that long."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[math.ceil(0.9 * len(ordered)) - 1])


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossingTimes:
    """Crossing times (minutes) at one border post or crossing point; `median` and `p90` are None without
    passages."""

    passages: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, minutes: Sequence[float]) -> CrossingTimes:
        return cls(passages=len(minutes), median=median(minutes), p90=percentile_90(minutes))


@dataclass(frozen=True, slots=True, kw_only=True)
class PostTimes:
    """A border post (an office on a border or a port) and its crossing times over the period."""

    office: str
    country: str
    times: CrossingTimes


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossingPointTimes:
    """A crossing point and its crossing times over the last `RECENT` days (at the sides in scope)."""

    crossing: str
    times: CrossingTimes


@dataclass(frozen=True, slots=True, kw_only=True)
class Inspections:
    """What happened at the offices of one place (an office, or a whole state).

    `presentations` are decisions taken on arrival at an office (presentations at borders and arrivals at
    destination); `inspections_decided` those that said "inspect"; `inspections_avoided` those that said
    "green" because a control made earlier on the route was recognised (inspect-once); `controls_recorded`
    the inspections actually performed en route.
    """

    where: str
    presentations: int
    inspections_decided: int
    inspections_avoided: int
    controls_recorded: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CorridorVolume:
    """Transits that crossed from `from_country` to `to_country` at `crossing` in the period."""

    crossing: str
    from_country: str
    to_country: str
    transits: int
    gross_mass_kg: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class SectionVolume:
    """Goods of one HS section declared in the period: items, transits carrying any, and their gross mass."""

    section: str
    goods_items: int
    transits: int
    gross_mass_kg: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class TransitFigures:
    """The transit side of the dashboard for one state (or the region when `state` is None), over
    [`since`, `until`)."""

    state: str | None
    since: datetime
    until: datetime
    transits_lodged: int
    transits_by_status: dict[str, int]
    overall: CrossingTimes
    posts: list[PostTimes]
    """Every post in scope with at least one passage in the period, the busiest first."""
    recent: dict[str, CrossingPointTimes]
    """Crossing points in scope by code, with their crossing times over the last `RECENT` days."""
    inspections: list[Inspections]
    """By state for the region, by office for one state; only places with a decision or a control."""
    totals: Inspections
    corridors: list[CorridorVolume]
    sections: list[SectionVolume]


@dataclass(frozen=True, slots=True, kw_only=True)
class VisaFigures:
    """The visa side of the dashboard for one state of the scheme (or all of them), over [`since`, `until`)."""

    state: str | None
    applications_lodged: int
    decisions: dict[str, int]
    """Decisions taken in the period by outcome: issued, issued_ltv, refused."""
    by_issuing_state: list[tuple[str, int]]
    """Visas issued in the period by issuing state, most first."""
    by_nationality: list[tuple[str, int]]
    """Visas issued in the period by the holder's nationality (ICAO alpha-3), most first."""
    revoked: int
    """Visas revoked or annulled in the period (by the state, or visas it issued)."""
    entries: int
    exits: int
    entries_refused: int


# --- the queries ------------------------------------------------------------------------------------


class Dashboard:
    """The dashboard's reads; each call is one read-only transaction."""

    def __init__(self, engine: Engine, reference: ReferenceData) -> None:
        self._engine = engine
        self._reference = reference
        self._crossing_of_pair = {
            frozenset(c.offices): c.code for c in reference.crossings.values() if c.office_a != c.office_b
        }

    def _session(self) -> Session:
        return Session(self._engine)

    def has_traffic(self) -> bool:
        """Whether any transit or visa application was ever recorded here."""
        with self._session() as session:
            transit = session.scalar(select(TransitRow.mrn).limit(1))
            application = session.scalar(select(VisaApplicationRow.id).limit(1))
        return transit is not None or application is not None

    # --- transits -------------------------------------------------------------------------------

    def transit_figures(self, *, state: str | None, since: datetime, until: datetime) -> TransitFigures:
        """Crossing times, inspections, corridors and HS sections of `state` (None: the region)."""
        offices = self._offices_in_scope(state)
        crossings = self._crossings_in_scope(state)
        with self._session() as session, session.begin():
            lodged, by_status = self._lodged(session, state, since, until)
            passages = self._passages(session, offices, min(since, until - RECENT), until)
            inspections = self._inspections(session, state, since, until)
            corridors = self._corridors(session, state, since, until)
            sections = self._sections(session, state, since, until)

        in_period: defaultdict[str, list[float]] = defaultdict(list)
        recent: defaultdict[str, list[float]] = defaultdict(list)
        for office, passed, presented in passages:
            minutes = (passed - presented) / timedelta(minutes=1)
            if passed >= since:
                in_period[office].append(minutes)
            if passed >= until - RECENT:
                for crossing in self._reference.offices[office].crossings:
                    recent[crossing].append(minutes)
        posts = sorted(
            (
                PostTimes(office=o, country=self._reference.offices[o].country, times=CrossingTimes.of(m))
                for o, m in in_period.items()
            ),
            key=lambda p: (-p.times.passages, p.office),
        )
        return TransitFigures(
            state=state,
            since=since,
            until=until,
            transits_lodged=lodged,
            transits_by_status=by_status,
            overall=CrossingTimes.of([m for minutes in in_period.values() for m in minutes]),
            posts=posts,
            recent={
                code: CrossingPointTimes(crossing=code, times=CrossingTimes.of(recent.get(code, [])))
                for code in crossings
            },
            inspections=inspections,
            totals=_total(inspections, state or ""),
            corridors=corridors,
            sections=sections,
        )

    def _offices_in_scope(self, state: str | None) -> list[str]:
        """The border posts whose crossing times a view shows: the state's own, or every member's."""
        reference = self._reference
        return [
            o.code
            for o in reference.offices.values()
            if o.kind in (OfficeKind.BORDER, OfficeKind.SEAPORT)
            and o.crossings
            and (o.country == state if state else reference.is_member(o.country))
        ]

    def _crossings_in_scope(self, state: str | None) -> list[str]:
        reference = self._reference
        return sorted(
            c.code
            for c in reference.crossings.values()
            if any(
                (reference.offices[o].country == state) if state else reference.is_member(reference.offices[o].country)
                for o in c.offices
            )
        )

    @staticmethod
    def _touching(state: str) -> ColumnElement[bool]:
        return TransitRow.mrn.in_(select(TransitOfficeRow.mrn).where(TransitOfficeRow.country == state))

    def _lodged(
        self, session: Session, state: str | None, since: datetime, until: datetime
    ) -> tuple[int, dict[str, int]]:
        query = (
            select(TransitRow.status, func.count())
            .where(TransitRow.submitted_at >= since, TransitRow.submitted_at < until)
            .group_by(TransitRow.status)
        )
        if state:
            query = query.where(self._touching(state))
        by_status = {str(status): int(n) for status, n in session.execute(query).all()}
        return sum(by_status.values()), by_status

    @staticmethod
    def _passages(
        session: Session, offices: Sequence[str], since: datetime, until: datetime
    ) -> list[tuple[str, datetime, datetime]]:
        """(office, passed at, first presented at) of every passage at `offices` in [since, until)."""
        if not offices:
            return []
        passage = aliased(TransitEventRow)
        presentation = aliased(TransitEventRow)
        rows = session.execute(
            select(passage.office, passage.at, func.min(presentation.at))
            .join(
                presentation,
                and_(
                    presentation.mrn == passage.mrn,
                    presentation.office == passage.office,
                    presentation.type == "presented",
                ),
            )
            .where(
                passage.type.in_(PASSAGES),
                passage.at >= since,
                passage.at < until,
                passage.office.in_(offices),
            )
            .group_by(passage.id, passage.office, passage.at)
        ).all()
        return [(str(office), passed, presented) for office, passed, presented in rows]

    def _inspections(self, session: Session, state: str | None, since: datetime, until: datetime) -> list[Inspections]:
        """Decisions and controls at every office of the state (border posts and inland offices of destination
        alike), each office apart; or at each member state's offices, each state apart."""
        in_period = and_(TransitEventRow.at >= since, TransitEventRow.at < until)
        scope: list[ColumnElement[bool]] = [in_period]
        if state:
            scope.append(TransitEventRow.office.in_([o.code for o in self._reference.offices_of(state)]))
        decisions = session.execute(
            select(TransitEventRow.office, TransitEventRow.decision, func.count())
            .where(*scope, TransitEventRow.type.in_(DECISIONS), TransitEventRow.decision.is_not(None))
            .group_by(TransitEventRow.office, TransitEventRow.decision)
        ).all()
        controls = session.execute(
            select(TransitEventRow.office, func.count())
            .where(*scope, TransitEventRow.type == "control_recorded")
            .group_by(TransitEventRow.office)
        ).all()
        counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for office, decision, n in decisions:
            place = self._place(str(office), state)
            if place is not None:
                counts[place][str(decision)] += int(n)
        for office, n in controls:
            place = self._place(str(office), state)
            if place is not None:
                counts[place]["controls"] += int(n)
        return [
            Inspections(
                where=place,
                presentations=c["green"] + c["inspect"],
                inspections_decided=c["inspect"],
                inspections_avoided=c["green"],
                controls_recorded=c["controls"],
            )
            for place, c in sorted(counts.items())
        ]

    def _place(self, office: str, state: str | None) -> str | None:
        """Where an office's figures are counted: the office itself in a state's view, its member state in
        the region's (None for an office the reference data no longer knows)."""
        known = self._reference.offices.get(office)
        if known is None:
            return None
        if state:
            return office
        return known.country if self._reference.is_member(known.country) else None

    def _corridors(self, session: Session, state: str | None, since: datetime, until: datetime) -> list[CorridorVolume]:
        """Exits in the period, each with the office that follows it on the itinerary (the entry side)."""
        here = aliased(TransitOfficeRow)
        there = aliased(TransitOfficeRow)
        query = (
            select(TransitEventRow.mrn, here.office, here.country, there.office, there.country)
            .join(here, and_(here.mrn == TransitEventRow.mrn, here.office == TransitEventRow.office))
            .join(there, and_(there.mrn == TransitEventRow.mrn, there.position == here.position + 1))
            .where(TransitEventRow.type == "exited", TransitEventRow.at >= since, TransitEventRow.at < until)
        )
        if state:
            query = query.where(or_(here.country == state, there.country == state))
        rows = session.execute(query).all()
        masses = self._masses(session, {str(r[0]) for r in rows})
        transits: Counter[tuple[str, str, str]] = Counter()
        mass: defaultdict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
        for mrn, exit_office, exit_country, entry_office, entry_country in rows:
            crossing = self._crossing_of_pair.get(frozenset((str(exit_office), str(entry_office))))
            if crossing is None:
                continue
            key = (crossing, str(exit_country), str(entry_country))
            transits[key] += 1
            mass[key] += masses.get(str(mrn), Decimal(0))
        return sorted(
            (
                CorridorVolume(crossing=c, from_country=a, to_country=b, transits=n, gross_mass_kg=mass[(c, a, b)])
                for (c, a, b), n in transits.items()
            ),
            key=lambda v: (-v.transits, v.crossing, v.from_country),
        )

    def _sections(self, session: Session, state: str | None, since: datetime, until: datetime) -> list[SectionVolume]:
        """Goods of the transits lodged in the period (touching `state`), by HS section."""
        query = select(TransitEventRow.canonical).where(
            TransitEventRow.type == "submitted", TransitEventRow.at >= since, TransitEventRow.at < until
        )
        if state:
            query = query.where(
                TransitEventRow.mrn.in_(select(TransitOfficeRow.mrn).where(TransitOfficeRow.country == state))
            )
        items: Counter[str] = Counter()
        transits: Counter[str] = Counter()
        mass: defaultdict[str, Decimal] = defaultdict(Decimal)
        for canonical in session.scalars(query):
            seen: set[str] = set()
            for hs_code, kg in _goods(bytes(canonical)):
                heading = self._reference.hs(hs_code)
                if heading is None:
                    continue
                items[heading.section] += 1
                mass[heading.section] += kg
                seen.add(heading.section)
            transits.update(seen)
        return sorted(
            (
                SectionVolume(section=s, goods_items=n, transits=transits[s], gross_mass_kg=mass[s])
                for s, n in items.items()
            ),
            key=lambda v: (-v.gross_mass_kg, v.section),
        )

    @staticmethod
    def _masses(session: Session, mrns: Iterable[str]) -> dict[str, Decimal]:
        """The declared gross mass of each transit, read from its signed declaration."""
        wanted = sorted(mrns)
        masses: dict[str, Decimal] = {}
        for start in range(0, len(wanted), _CHUNK):
            rows = session.execute(
                select(TransitEventRow.mrn, TransitEventRow.canonical).where(
                    TransitEventRow.type == "submitted", TransitEventRow.mrn.in_(wanted[start : start + _CHUNK])
                )
            ).all()
            for mrn, canonical in rows:
                masses[str(mrn)] = sum((kg for _, kg in _goods(bytes(canonical))), Decimal(0))
        return masses

    # --- visas ----------------------------------------------------------------------------------

    def visa_figures(self, *, state: str | None, since: datetime, until: datetime) -> VisaFigures:
        """Applications, decisions, visas issued and used, of `state` (None: every state of the scheme)."""
        with self._session() as session, session.begin():
            lodged = (
                select(func.count())
                .select_from(VisaApplicationRow)
                .where(VisaApplicationRow.lodged_at >= since, VisaApplicationRow.lodged_at < until)
            )
            decided = (
                select(VisaApplicationRow.status, func.count())
                .where(VisaApplicationRow.decided_at >= since, VisaApplicationRow.decided_at < until)
                .group_by(VisaApplicationRow.status)
            )
            issued_in_period = and_(VisaRow.issued_at >= since, VisaRow.issued_at < until)
            by_state = (
                select(VisaRow.issuing_state, func.count()).where(issued_in_period).group_by(VisaRow.issuing_state)
            )
            by_nationality = (
                select(VisaRow.nationality, func.count()).where(issued_in_period).group_by(VisaRow.nationality)
            )
            revoked = (
                select(func.count()).select_from(VisaRow).where(VisaRow.revoked_at >= since, VisaRow.revoked_at < until)
            )
            crossings = (
                select(VisaCrossingRow.direction, VisaCrossingRow.allowed, func.count())
                .where(VisaCrossingRow.at >= since, VisaCrossingRow.at < until)
                .group_by(VisaCrossingRow.direction, VisaCrossingRow.allowed)
            )
            if state:
                lodged = lodged.where(VisaApplicationRow.competent_state == state)
                decided = decided.where(VisaApplicationRow.competent_state == state)
                by_state = by_state.where(VisaRow.issuing_state == state)
                by_nationality = by_nationality.where(VisaRow.issuing_state == state)
                revoked = revoked.where(or_(VisaRow.issuing_state == state, VisaRow.revoked_by == state))
                crossings = crossings.where(VisaCrossingRow.state == state)
            lodged_n = int(session.scalar(lodged) or 0)
            decisions = {str(s): int(n) for s, n in session.execute(decided).all()}
            states = _ranked(session.execute(by_state).all())
            nationalities = _ranked(session.execute(by_nationality).all())
            revoked_n = int(session.scalar(revoked) or 0)
            moves: Counter[tuple[str, bool]] = Counter()
            for direction, allowed, n in session.execute(crossings).all():
                moves[(str(direction), bool(allowed))] += int(n)
        return VisaFigures(
            state=state,
            applications_lodged=lodged_n,
            decisions=decisions,
            by_issuing_state=states,
            by_nationality=nationalities,
            revoked=revoked_n,
            entries=moves[("entry", True)],
            exits=moves[("exit", True)] + moves[("exit", False)],
            entries_refused=moves[("entry", False)],
        )


def _goods(canonical: bytes) -> list[tuple[str, Decimal]]:
    """(HS code, gross kg) of each goods item of a signed ``submitted`` record."""
    declaration = json.loads(canonical).get("declaration") or {}
    return [(str(g["hs_code"]), Decimal(str(g["gross_mass_kg"]))) for g in declaration.get("goods", [])]


def _ranked(rows: Iterable[Sequence[object]]) -> list[tuple[str, int]]:
    counted = [(str(key), int(str(n))) for key, n in rows]
    return sorted(counted, key=lambda kv: (-kv[1], kv[0]))


def _total(places: Iterable[Inspections], where: str) -> Inspections:
    places = list(places)
    return Inspections(
        where=where,
        presentations=sum(p.presentations for p in places),
        inspections_decided=sum(p.inspections_decided for p in places),
        inspections_avoided=sum(p.inspections_avoided for p in places),
        controls_recorded=sum(p.controls_recorded for p in places),
    )

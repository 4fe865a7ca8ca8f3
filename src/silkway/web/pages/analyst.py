"""The analyst's dashboard of its state and of the region, read from the signed records.

Two views: *my state* shows what the analyst's state is entitled to see (its own border posts and offices,
goods of transits whose route touches it, the visas it issued, travellers at its posts); *the region*
shows the same figures summed over every state, never a transit or a traveller. Every chart is drawn on
the server (`charts`) with a data table beside it, and every number and date is written as the visitor's
language writes them. Administrators see the dashboard of their state too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Annotated

import pycountry
from babel import Locale
from babel.numbers import format_percent
from fastapi import APIRouter, Query
from fastapi.responses import Response
from markupsafe import Markup

from silkway.places.model import Office
from silkway.shared.actors import Role
from silkway.storage.dashboard import CrossingTimes, TransitFigures, VisaFigures
from silkway.storage.visa_queries import Overstayer
from silkway.web.pages.base import N_, Page, signed_in
from silkway.web.pages.charts import (
    CONGESTED_OVER,
    SMOOTH_UNDER,
    Bar,
    MapPlace,
    MapPoint,
    Pace,
    bar_chart,
    crossing_map,
    legend_symbol,
    pace_of,
)

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Page, signed_in(Role.ANALYST, Role.ADMIN)]

PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30
TOP = 12
"""Rows a chart draws; the table beside it lists every row."""

SECTION_NAMES: Mapping[str, str] = {
    "I": N_("Live animals; animal products"),
    "II": N_("Vegetable products"),
    "III": N_("Animal and vegetable fats and oils"),
    "IV": N_("Prepared foodstuffs, beverages and tobacco"),
    "V": N_("Mineral products"),
    "VI": N_("Products of the chemical industries"),
    "VII": N_("Plastics and rubber"),
    "VIII": N_("Hides, skins, leather and travel goods"),
    "IX": N_("Wood, cork and basketware"),
    "X": N_("Pulp, paper and paperboard"),
    "XI": N_("Textiles and textile articles"),
    "XII": N_("Footwear, headgear and umbrellas"),
    "XIII": N_("Articles of stone, ceramics and glass"),
    "XIV": N_("Pearls, precious stones and metals"),
    "XV": N_("Base metals and articles of base metal"),
    "XVI": N_("Machinery and electrical equipment"),
    "XVII": N_("Vehicles, aircraft and vessels"),
    "XVIII": N_("Optical, medical and precision instruments"),
    "XIX": N_("Arms and ammunition"),
    "XX": N_("Miscellaneous manufactured articles"),
    "XXI": N_("Works of art and antiques"),
}
"""The 21 sections of the Harmonized System, in short (the reference data keeps the full English names)."""

MODE_NAMES: Mapping[str, str] = {
    "road": N_("road"),
    "rail": N_("rail"),
    "road+rail": N_("road and rail"),
    "sea": N_("sea ferry"),
}

PACE_WORDS: Mapping[Pace, str] = {
    Pace.SMOOTH: N_("smooth"),
    Pace.SLOW: N_("slow"),
    Pace.CONGESTED: N_("congested"),
    Pace.QUIET: N_("no crossings"),
}


def country_name(code: str, lang: str) -> str:
    """A country (ISO alpha-2, or an ICAO/ISO alpha-3 nationality) in the visitor's language; the code itself
    when the language has no name for it."""
    alpha2 = code
    if len(code) == 3:
        found = pycountry.countries.get(alpha_3=code)
        alpha2 = str(found.alpha_2) if found is not None else ""
    name = Locale.parse(lang).territories.get(alpha2) if alpha2 else None
    return str(name) if name else code


# --- the page -------------------------------------------------------------------------------------


@router.get("/analyst")
def dashboard(
    visit: Viewer,
    view: Annotated[str, Query(max_length=10)] = "state",
    days: Annotated[str, Query(max_length=4)] = str(DEFAULT_DAYS),
) -> Response:
    actor = visit.actor
    if actor is None:  # pragma: no cover - signed_in lets no anonymous visitor through
        raise RuntimeError("the dashboard without a signed-in visitor")
    region = view == "region"
    period = int(days) if days.isdigit() and int(days) in PERIODS else DEFAULT_DAYS
    services = visit.services
    state = None if region else actor.country
    until = services.clock.now()
    since = until - timedelta(days=period)
    transits = services.dashboard.transit_figures(state=state, since=since, until=until)
    in_scheme = region or services.scheme.policy(actor.country) is not None
    visas = services.dashboard.visa_figures(state=state, since=since, until=until) if in_scheme else None
    states = services.scheme.participating if region else ((actor.country,) if in_scheme else ())
    overstayers = [o for s in states for o in services.visa_queries.overstayers(s, until.date())]

    board = _Board(visit, region=region)
    return visit.render(
        "analyst/dashboard.html",
        region=region,
        days=period,
        periods=PERIODS,
        state_name=country_name(actor.country, visit.lang),
        since=visit.date(since),
        until=visit.datetime(until),
        cards=board.cards(transits, visas, overstayers),
        posts=board.posts(transits),
        crossings=board.crossings(transits),
        inspections=board.inspections(transits),
        corridors=board.corridors(transits),
        sections=board.sections(transits),
        visas=None if visas is None else board.visas(visas),
        overstays=board.overstays(overstayers),
    )


# --- what the page shows --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Card:
    label: str
    figure: str
    note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """One part of the dashboard: a chart (None when there is nothing to draw), its table's header and rows
    (each cell already written out; numeric columns are named in `numeric`)."""

    chart: Markup | None
    header: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    numeric: frozenset[int]


@dataclass(frozen=True, slots=True, kw_only=True)
class MapRow:
    number: int
    name: str
    states: str
    mode: str
    pace: Pace
    pace_word: str
    mark: Markup
    passages: str
    median: str
    p90: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossingMap:
    svg: Markup
    rows: list[MapRow]
    legend: list[tuple[Markup, str]]
    not_drawn: int


@dataclass(frozen=True, slots=True, kw_only=True)
class VisaBoard:
    facts: list[tuple[str, str]]
    by_state: Section | None
    """Only in the region's view: one state's view shows its own visas."""
    by_nationality: Section


class _Board:
    """Turns the figures into cards, charts and tables in the visitor's words and numbers."""

    def __init__(self, visit: Page, *, region: bool) -> None:
        self.visit = visit
        self.region = region
        self.reference = visit.services.reference

    # words and numbers

    def _(self, message: str, **values: object) -> str:
        return self.visit._(message, **values)

    def n(self, value: int | Decimal | float) -> str:
        return self.visit.number(value)

    def minutes(self, value: float | None) -> str:
        return "—" if value is None else self._("%(minutes)s min", minutes=self.n(round(value)))

    def tonnes(self, kg: Decimal) -> str:
        return self.n((kg / 1000).quantize(Decimal("0.1")))

    def share(self, part: int, whole: int) -> str:
        return "—" if not whole else str(format_percent(part / whole, "#,##0.0%", locale=self.visit.lang))

    def country(self, code: str) -> str:
        return country_name(code, self.visit.lang)

    def office(self, code: str) -> str:
        found = self.reference.offices.get(code)
        return code if found is None else found.name

    def crossing_name(self, code: str) -> str:
        found = self.reference.crossings.get(code)
        return code if found is None else found.name

    # the parts

    def cards(
        self, transits: TransitFigures, visas: VisaFigures | None, overstayers: Sequence[Overstayer]
    ) -> list[Card]:
        totals = transits.totals
        cards = [
            Card(label=self._("Transits lodged"), figure=self.n(transits.transits_lodged), note=""),
            Card(
                label=self._("Median crossing time"),
                figure=self.minutes(transits.overall.median),
                note=self._(
                    "90th percentile %(p90)s, over %(count)s border crossings",
                    p90=self.minutes(transits.overall.p90),
                    count=self.n(transits.overall.passages),
                ),
            ),
            Card(
                label=self._("Inspections performed"),
                figure=self.n(totals.controls_recorded),
                note=self._("%(count)s decided on presentation", count=self.n(totals.inspections_decided)),
            ),
            Card(
                label=self._("Inspections avoided"),
                figure=self.n(totals.inspections_avoided),
                note=self._(
                    "%(share)s of %(count)s presentations went green on an earlier control",
                    share=self.share(totals.inspections_avoided, totals.presentations),
                    count=self.n(totals.presentations),
                ),
            ),
        ]
        if visas is not None:
            cards.append(
                Card(
                    label=self._("Visas issued"),
                    figure=self.n(sum(n for _, n in visas.by_issuing_state)),
                    note=self._("%(count)s applications refused", count=self.n(visas.decisions.get("refused", 0))),
                )
            )
            cards.append(
                Card(
                    label=self._("Overstays on record"),
                    figure=self.n(len(overstayers)),
                    note=self._(
                        "%(count)s of them still in the area", count=self.n(sum(1 for o in overstayers if not o.left))
                    ),
                )
            )
        return cards

    def posts(self, transits: TransitFigures) -> Section:
        header = (
            self._("Border post"),
            self._("State"),
            self._("Crossings"),
            self._("Median"),
            self._("90th percentile"),
        )
        rows = [
            (
                f"{self.office(p.office)} ({p.office})",
                self.country(p.country),
                self.n(p.times.passages),
                self.minutes(p.times.median),
                self.minutes(p.times.p90),
            )
            for p in transits.posts
        ]
        chart = None
        if transits.posts:
            top = sorted(transits.posts, key=lambda p: (-(p.times.median or 0), p.office))[:TOP]
            chart = bar_chart(
                title=self._("Crossing time per border post"),
                description=self._(
                    "Median and 90th percentile of the crossing time at the %(count)s slowest border posts, "
                    "in minutes; the table below lists every post.",
                    count=self.n(len(top)),
                ),
                series=(self._("Median"), self._("90th percentile")),
                bars=[
                    Bar(
                        label=self.office(p.office),
                        values=(p.times.median or 0.0, p.times.p90 or 0.0),
                        shown=(self.minutes(p.times.median), self.minutes(p.times.p90)),
                    )
                    for p in top
                ],
            )
        return Section(chart=chart, header=header, rows=rows, numeric=frozenset({2, 3, 4}))

    def crossings(self, transits: TransitFigures) -> CrossingMap:
        reference = self.reference
        ordered = sorted(transits.recent.values(), key=lambda c: self.crossing_name(c.crossing))
        points: list[MapPoint] = []
        rows: list[MapRow] = []
        not_drawn = 0
        for number, recent in enumerate(ordered, start=1):
            crossing = reference.crossings[recent.crossing]
            pace = pace_of(recent.times.median)
            name = crossing.name
            sides = [reference.offices[o] for o in crossing.offices]
            rows.append(
                MapRow(
                    number=number,
                    name=name,
                    states=" – ".join(self.country(o.country) for o in sides),
                    mode=self._(MODE_NAMES.get(crossing.mode, crossing.mode)),
                    pace=pace,
                    pace_word=self._(PACE_WORDS[pace]),
                    mark=legend_symbol(pace),
                    passages=self.n(recent.times.passages),
                    median=self.minutes(recent.times.median),
                    p90=self.minutes(recent.times.p90),
                )
            )
            where = _where(crossing.lat, crossing.lon, [(o.lat, o.lon) for o in sides])
            if where is None:
                not_drawn += 1
                continue
            points.append(
                MapPoint(
                    number=number,
                    code=crossing.code,
                    lat=where[0],
                    lon=where[1],
                    pace=pace,
                    title=self._point_title(number, name, recent.times, pace),
                )
            )
        paces = Counter(p.pace for p in points)
        svg = crossing_map(
            title=self._("Map of the crossing points"),
            description=self._(
                "%(count)s crossing points drawn by their median crossing time over the last 7 days: "
                "%(smooth)s smooth, %(slow)s slow, %(congested)s congested, %(quiet)s without crossings. "
                "The table below lists them by number.",
                count=self.n(len(points)),
                smooth=self.n(paces[Pace.SMOOTH]),
                slow=self.n(paces[Pace.SLOW]),
                congested=self.n(paces[Pace.CONGESTED]),
                quiet=self.n(paces[Pace.QUIET]),
            ),
            points=points,
            places=self._places({o.country for c in ordered for o in self._sides(c.crossing)}),
        )
        smooth, congested = self.n(round(SMOOTH_UNDER)), self.n(round(CONGESTED_OVER))
        legend = [
            (legend_symbol(Pace.SMOOTH), self._("Smooth: median under %(minutes)s minutes", minutes=smooth)),
            (
                legend_symbol(Pace.SLOW),
                self._("Slow: median from %(low)s to %(high)s minutes", low=smooth, high=congested),
            ),
            (legend_symbol(Pace.CONGESTED), self._("Congested: median over %(minutes)s minutes", minutes=congested)),
            (legend_symbol(Pace.QUIET), self._("No crossing in the last 7 days")),
        ]
        return CrossingMap(svg=svg, rows=rows, legend=legend, not_drawn=not_drawn)

    def _point_title(self, number: int, name: str, times: CrossingTimes, pace: Pace) -> str:
        if times.median is None:
            return self._("%(number)s. %(name)s: no crossing in the last 7 days", number=number, name=name)
        return self._(
            "%(number)s. %(name)s: %(pace)s, median %(median)s over %(count)s crossings in the last 7 days",
            number=number,
            name=name,
            pace=self._(PACE_WORDS[pace]),
            median=self.minutes(times.median),
            count=self.n(times.passages),
        )

    def _sides(self, crossing: str) -> list[Office]:
        return [self.reference.offices[o] for o in self.reference.crossings[crossing].offices]

    def _places(self, countries: Iterable[str]) -> list[MapPlace]:
        """Member states named at the middle of their inland offices, for orientation."""
        reference = self.reference
        places = []
        for code in sorted(set(countries)):
            if not reference.is_member(code):
                continue
            spots = [
                (o.lat, o.lon)
                for o in reference.offices_of(code)
                if o.lat is not None and o.lon is not None and not o.crossings
            ]
            if spots:
                lat = sum(s[0] for s in spots) / len(spots)
                lon = sum(s[1] for s in spots) / len(spots)
                places.append(MapPlace(name=self.country(code), lat=lat, lon=lon))
        return places

    def inspections(self, transits: TransitFigures) -> Section:
        header = (
            self._("State") if self.region else self._("Office"),
            self._("Presentations"),
            self._("Inspections decided"),
            self._("Inspections performed"),
            self._("Inspections avoided"),
            self._("Share avoided"),
        )
        places = transits.inspections
        label = self.country if self.region else self.office
        rows = [
            (
                label(p.where),
                self.n(p.presentations),
                self.n(p.inspections_decided),
                self.n(p.controls_recorded),
                self.n(p.inspections_avoided),
                self.share(p.inspections_avoided, p.presentations),
            )
            for p in places
        ]
        chart = None
        if places:
            top = sorted(places, key=lambda p: (-p.presentations, p.where))[:TOP]
            chart = bar_chart(
                title=self._("Inspections performed and avoided"),
                description=self._(
                    "Inspections performed and inspections avoided thanks to inspect-once, at the %(count)s "
                    "busiest places; the table below lists every one.",
                    count=self.n(len(top)),
                ),
                series=(self._("Inspections performed"), self._("Inspections avoided")),
                bars=[
                    Bar(
                        label=label(p.where),
                        values=(float(p.controls_recorded), float(p.inspections_avoided)),
                        shown=(self.n(p.controls_recorded), self.n(p.inspections_avoided)),
                    )
                    for p in top
                ],
            )
        return Section(chart=chart, header=header, rows=rows, numeric=frozenset({1, 2, 3, 4, 5}))

    def corridors(self, transits: TransitFigures) -> Section:
        header = (
            self._("Crossing point"),
            self._("From"),
            self._("To"),
            self._("Transits"),
            self._("Gross mass, tonnes"),
        )
        rows = [
            (
                self.crossing_name(c.crossing),
                self.country(c.from_country),
                self.country(c.to_country),
                self.n(c.transits),
                self.tonnes(c.gross_mass_kg),
            )
            for c in transits.corridors
        ]
        pairs: Counter[tuple[str, str]] = Counter()
        for c in transits.corridors:
            pairs[(c.from_country, c.to_country)] += c.transits
        chart = None
        if pairs:
            top = sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
            chart = bar_chart(
                title=self._("Transits by corridor"),
                description=self._(
                    "Transits that crossed from one state into the next, for the %(count)s busiest pairs of "
                    "states; the table below lists every crossing point.",
                    count=self.n(len(top)),
                ),
                series=(self._("Transits"),),
                bars=[
                    Bar(
                        label=self._(
                            "%(origin)s → %(destination)s", origin=self.country(a), destination=self.country(b)
                        ),
                        values=(float(n),),
                        shown=(self.n(n),),
                    )
                    for (a, b), n in top
                ],
            )
        return Section(chart=chart, header=header, rows=rows, numeric=frozenset({3, 4}))

    def sections(self, transits: TransitFigures) -> Section:
        header = (
            self._("HS section"),
            self._("Goods"),
            self._("Goods items"),
            self._("Transits"),
            self._("Gross mass, tonnes"),
        )
        rows = [
            (
                s.section,
                self._(SECTION_NAMES.get(s.section, s.section)),
                self.n(s.goods_items),
                self.n(s.transits),
                self.tonnes(s.gross_mass_kg),
            )
            for s in transits.sections
        ]
        chart = None
        if transits.sections:
            top = transits.sections[:TOP]
            chart = bar_chart(
                title=self._("Goods by HS section"),
                description=self._(
                    "Gross mass in tonnes of the goods declared, for the %(count)s heaviest sections of the "
                    "Harmonized System; the table below lists every section.",
                    count=self.n(len(top)),
                ),
                series=(self._("Gross mass, tonnes"),),
                bars=[
                    Bar(
                        label=f"{s.section}. {self._(SECTION_NAMES.get(s.section, s.section))}",
                        values=(float(s.gross_mass_kg) / 1000,),
                        shown=(self.tonnes(s.gross_mass_kg),),
                    )
                    for s in top
                ],
            )
        return Section(chart=chart, header=header, rows=rows, numeric=frozenset({2, 3, 4}))

    def visas(self, visas: VisaFigures) -> VisaBoard:
        issued = sum(n for _, n in visas.by_issuing_state)
        facts = [
            (self._("Applications lodged"), self.n(visas.applications_lodged)),
            (self._("Visas issued"), self.n(issued)),
            (self._("Applications refused"), self.n(visas.decisions.get("refused", 0))),
            (self._("Visas revoked or annulled"), self.n(visas.revoked)),
            (self._("Entries allowed"), self.n(visas.entries)),
            (self._("Entries refused"), self.n(visas.entries_refused)),
            (self._("Exits recorded"), self.n(visas.exits)),
        ]
        return VisaBoard(
            facts=facts,
            by_state=self._counted(
                visas.by_issuing_state,
                column=self._("Issuing state"),
                title=self._("Visas by issuing state"),
                description=self._("Visas issued in the period by each state's consular service."),
            )
            if self.region
            else None,
            by_nationality=self._counted(
                visas.by_nationality,
                column=self._("Nationality"),
                title=self._("Visas by nationality"),
                description=self._(
                    "Visas issued in the period by the holder's nationality; the table below lists every one."
                ),
            ),
        )

    def _counted(self, counts: Sequence[tuple[str, int]], *, column: str, title: str, description: str) -> Section:
        label = self.country
        header = (column, self._("Visas"))
        rows = [(label(code), self.n(n)) for code, n in counts]
        chart = None
        if counts:
            chart = bar_chart(
                title=title,
                description=description,
                series=(self._("Visas"),),
                bars=[Bar(label=label(code), values=(float(n),), shown=(self.n(n),)) for code, n in counts[:TOP]],
            )
        return Section(chart=chart, header=header, rows=rows, numeric=frozenset({1}))

    def overstays(self, overstayers: Sequence[Overstayer]) -> Section:
        groups: defaultdict[tuple[str, str], list[Overstayer]] = defaultdict(list)
        for o in overstayers:
            groups[(o.state, o.nationality)].append(o)
        header = (
            self._("State"),
            self._("Nationality"),
            self._("Overstays"),
            self._("Left late"),
            self._("Still in the area"),
            self._("Longest, days"),
        )
        rows = [
            (
                self.country(state),
                self.country(nationality),
                self.n(len(found)),
                self.n(sum(1 for o in found if o.left)),
                self.n(sum(1 for o in found if not o.left)),
                self.n(max(o.overstay_days for o in found)),
            )
            for (state, nationality), found in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        ]
        return Section(chart=None, header=header, rows=rows, numeric=frozenset({2, 3, 4, 5}))


def _where(
    lat: float | None, lon: float | None, sides: Sequence[tuple[float | None, float | None]]
) -> tuple[float, float] | None:
    """A crossing point's coordinates, or the middle of its sides' when it has none of its own."""
    if lat is not None and lon is not None:
        return lat, lon
    known = [(a, b) for a, b in sides if a is not None and b is not None]
    if not known:
        return None
    return sum(a for a, _ in known) / len(known), sum(b for _, b in known) / len(known)

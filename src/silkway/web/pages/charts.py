"""Charts and the map of crossing points, drawn on the server as inline SVG: no script, no chart library.

Every drawing is an ``<svg role="img">`` named by its own ``<title>`` and ``<desc>``, each bar and point
carries a ``<title>`` with its figure (a tooltip for the mouse), and the page puts a data table beside it
for screen readers and for copying. Words and numbers arrive already translated and formatted for the
visitor's locale; this module only measures and draws. Text is escaped by `markupsafe`.

The map is an equirectangular projection of latitude and longitude (longitudes shrunk by the cosine of the
middle latitude, so the region is not stretched sideways), drawn from the coordinates of the reference
data: no tiles, no outlines of states, nothing fetched from elsewhere.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from markupsafe import Markup

_ids = itertools.count(1)

SERIES_COLOURS = ("#0b6e4f", "#c77800", "#1f5fd6", "#7a3e9d")
"""Bar colours of the series in order: green, amber, blue, violet (each at least 3:1 against white)."""
WIDTH = 400
LABEL_SIZE = 12
BAR = 11
MAX_LABEL = 60


def _id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def _short(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _num(value: float) -> str:
    """A coordinate as SVG writes it: at most one decimal, no trailing zeros."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


# --- bar charts -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Bar:
    """One row of a chart: its label, one value per series, and those values as the visitor reads them."""

    label: str
    values: tuple[float, ...]
    shown: tuple[str, ...]


def bar_chart(*, title: str, description: str, series: Sequence[str], bars: Sequence[Bar]) -> Markup:
    """A horizontal bar chart, one group of bars per row (one bar per series), each label above its bars.

    `series` names the series (a legend is drawn when there are two or more). Bars are scaled to the
    largest value of the chart; a row's values are written at the end of its bars.
    """
    chart = _id("chart")
    peak = max((v for bar in bars for v in bar.values), default=0.0) or 1.0
    legend = 22 if len(series) > 1 else 0
    row = LABEL_SIZE + 6 + len(series) * (BAR + 3) + 8
    height = legend + max(1, len(bars)) * row + 4
    room = WIDTH * 0.78
    parts = [
        Markup(
            '<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" '
            'aria-labelledby="{c}-title {c}-desc" focusable="false">'
            '<title id="{c}-title">{title}</title><desc id="{c}-desc">{desc}</desc>'
        ).format(w=WIDTH, h=height, c=chart, title=title, desc=description)
    ]
    if legend:
        x = 0.0
        for index, name in enumerate(series):
            parts.append(
                Markup(
                    '<rect x="{x}" y="4" width="12" height="12" fill="{fill}"/>'
                    '<text x="{tx}" y="14" font-size="{size}">{name}</text>'
                ).format(
                    x=_num(x), fill=SERIES_COLOURS[index % 4], tx=_num(x + 16), size=LABEL_SIZE, name=_short(name, 40)
                )
            )
            x += 24 + 7 * len(name)
    y = float(legend)
    for bar in bars:
        parts.append(
            Markup('<text x="0" y="{y}" font-size="{size}" class="bar-label">{label}</text>').format(
                y=_num(y + LABEL_SIZE), size=LABEL_SIZE, label=_short(bar.label)
            )
        )
        y += LABEL_SIZE + 6
        for index, (value, shown) in enumerate(zip(bar.values, bar.shown, strict=True)):
            length = max(0.0, value) / peak * room
            parts.append(
                Markup(
                    '<g class="bar s{index}"><title>{label} — {name}: {shown}</title>'
                    '<rect x="0" y="{y}" width="{w}" height="{h}" fill="{fill}" rx="2"/>'
                    '<text x="{tx}" y="{ty}" font-size="{size}">{shown}</text></g>'
                ).format(
                    index=index,
                    label=bar.label,
                    name=series[index],
                    shown=shown,
                    y=_num(y),
                    w=_num(max(length, 1.0)),
                    h=BAR,
                    fill=SERIES_COLOURS[index % 4],
                    tx=_num(length + 4),
                    ty=_num(y + BAR - 1),
                    size=LABEL_SIZE - 1,
                )
            )
            y += BAR + 3
        y += 8
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


# --- the map --------------------------------------------------------------------------------------


class Pace(StrEnum):
    """How a crossing point is doing now, as the map draws it: a colour and a shape, so it never rests on
    colour alone."""

    SMOOTH = "smooth"
    SLOW = "slow"
    CONGESTED = "congested"
    QUIET = "quiet"


PACE_COLOURS = {Pace.SMOOTH: "#0a7a3a", Pace.SLOW: "#c77800", Pace.CONGESTED: "#b3261e", Pace.QUIET: "#8b959e"}
SMOOTH_UNDER = 30.0
"""Minutes: a median crossing time under this is smooth."""
CONGESTED_OVER = 90.0
"""Minutes: a median crossing time over this is congested; in between, slow."""
DRAWING_ORDER = (Pace.QUIET, Pace.SMOOTH, Pace.SLOW, Pace.CONGESTED)
"""Where points overlap, the slower one is drawn on top: it is the one to see."""


def pace_of(median_minutes: float | None) -> Pace:
    """The pace of a crossing point from the median of its recent crossing times (None: no crossing)."""
    if median_minutes is None:
        return Pace.QUIET
    if median_minutes < SMOOTH_UNDER:
        return Pace.SMOOTH
    if median_minutes <= CONGESTED_OVER:
        return Pace.SLOW
    return Pace.CONGESTED


@dataclass(frozen=True, slots=True, kw_only=True)
class MapPoint:
    """A crossing point on the map: its number (as the table beside lists it), where, its pace, and the
    sentence its tooltip reads."""

    number: int
    code: str
    lat: float
    lon: float
    pace: Pace
    title: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MapPlace:
    """A name written on the map for orientation (a state, at the middle of its offices)."""

    name: str
    lat: float
    lon: float


MAP_WIDTH = 640
MAP_MARGIN_DEGREES = 0.8


def symbol(pace: Pace, x: float, y: float, size: float = 7.0) -> Markup:
    """The mark of a pace at (x, y): a circle (smooth), a diamond (slow), a triangle (congested), or a small
    ring (quiet)."""
    fill = PACE_COLOURS[pace]
    if pace is Pace.SMOOTH:
        return Markup('<circle cx="{x}" cy="{y}" r="{r}" fill="{fill}" stroke="#fff" stroke-width="1.5"/>').format(
            x=_num(x), y=_num(y), r=_num(size), fill=fill
        )
    if pace is Pace.SLOW:
        s = size * 1.25
        points = f"{_num(x)},{_num(y - s)} {_num(x + s)},{_num(y)} {_num(x)},{_num(y + s)} {_num(x - s)},{_num(y)}"
    elif pace is Pace.CONGESTED:
        s = size * 1.35
        points = f"{_num(x)},{_num(y - s)} {_num(x + s)},{_num(y + s * 0.8)} {_num(x - s)},{_num(y + s * 0.8)}"
    else:
        return Markup('<circle cx="{x}" cy="{y}" r="{r}" fill="#fff" stroke="{fill}" stroke-width="2"/>').format(
            x=_num(x), y=_num(y), r=_num(size * 0.7), fill=fill
        )
    return Markup('<polygon points="{p}" fill="{fill}" stroke="#fff" stroke-width="1.5"/>').format(p=points, fill=fill)


def legend_symbol(pace: Pace) -> Markup:
    """A pace's mark alone, to stand before its words in a legend (hidden from screen readers: the words
    say it)."""
    return Markup(
        '<svg class="legend-mark" viewBox="0 0 20 20" width="20" height="20" aria-hidden="true" focusable="false">'
        "{mark}</svg>"
    ).format(mark=symbol(pace, 10, 10, 6))


def crossing_map(
    *, title: str, description: str, points: Sequence[MapPoint], places: Sequence[MapPlace] = ()
) -> Markup:
    """The crossing points on an equirectangular projection, each drawn by its pace and numbered; places
    are written in grey behind them."""
    drawing = _id("map")
    lats = [p.lat for p in points] + [p.lat for p in places]
    lons = [p.lon for p in points] + [p.lon for p in places]
    if not lats:
        lats, lons = [40.0, 45.0], [60.0, 70.0]
    south, north = min(lats) - MAP_MARGIN_DEGREES, max(lats) + MAP_MARGIN_DEGREES
    west, east = min(lons) - MAP_MARGIN_DEGREES, max(lons) + MAP_MARGIN_DEGREES
    shrink = math.cos(math.radians((south + north) / 2))
    scale = MAP_WIDTH / max((east - west) * shrink, 1e-6)
    height = max(120.0, (north - south) * scale)

    def at(lat: float, lon: float) -> tuple[float, float]:
        return (lon - west) * shrink * scale, (north - lat) * scale

    parts = [
        Markup(
            '<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" '
            'aria-labelledby="{m}-title {m}-desc" focusable="false">'
            '<title id="{m}-title">{title}</title><desc id="{m}-desc">{desc}</desc>'
            '<rect class="map-sea" x="0" y="0" width="{w}" height="{h}" fill="#f1f5f3"/>'
        ).format(w=MAP_WIDTH, h=_num(height), m=drawing, title=title, desc=description)
    ]
    for lon in range(math.ceil(west), math.floor(east) + 1):
        if lon % 5 == 0:
            x, _ = at(north, lon)
            parts.append(
                Markup('<line x1="{x}" y1="0" x2="{x}" y2="{h}" stroke="#dde4e0" stroke-width="1"/>').format(
                    x=_num(x), h=_num(height)
                )
            )
    for lat in range(math.ceil(south), math.floor(north) + 1):
        if lat % 5 == 0:
            _, y = at(lat, west)
            parts.append(
                Markup('<line x1="0" y1="{y}" x2="{w}" y2="{y}" stroke="#dde4e0" stroke-width="1"/>').format(
                    y=_num(y), w=MAP_WIDTH
                )
            )
    for place in places:
        x, y = at(place.lat, place.lon)
        x = min(max(x, 11.0 * len(place.name) / 2), MAP_WIDTH - 11.0 * len(place.name) / 2)  # keep it whole
        parts.append(
            Markup(
                '<text class="map-place" x="{x}" y="{y}" font-size="22" fill="#9aa5a0" '
                'text-anchor="middle">{name}</text>'
            ).format(x=_num(x), y=_num(y), name=place.name)
        )
    for point in sorted(points, key=lambda p: DRAWING_ORDER.index(p.pace)):
        x, y = at(point.lat, point.lon)
        parts.append(
            Markup(
                '<g class="post pace-{pace}" data-code="{code}"><title>{title}</title>{mark}'
                '<text x="{tx}" y="{ty}" font-size="13" font-weight="700" fill="#1d2733" '
                'stroke="#fff" stroke-width="3" paint-order="stroke">{number}</text></g>'
            ).format(
                pace=point.pace.value,
                code=point.code,
                title=point.title,
                mark=symbol(point.pace, x, y),
                tx=_num(x + 9),
                ty=_num(y - 6),
                number=point.number,
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)

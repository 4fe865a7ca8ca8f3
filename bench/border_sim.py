"""A discrete-event model of trucks crossing the region's road borders, today and under inspect-once.

The network is a set of posts — a crossing point of silkway's reference data, taken in one direction — and
routes through them. At a post a truck first sits out any non-control delay (transloading, road permits,
an e-queue backlog), then passes the exit side and the entry side. Each side has `lanes` control lanes (a
SimPy resource); a truck holds a lane through all of its controls there:

- border guard and immigration: the driver's passport, the vehicle's papers (both regimes);
- customs papers: today a papers check; under inspect-once, at a member state's side that is not where the
  consignment was declared, a check of the signed control result (a minute);
- phytosanitary or veterinary control on entry, for a share of loads (both regimes);
- a physical inspection for a sampled share: today each side inspects its own share; under inspect-once
  a later member side only re-inspects the small risk-selected share.

Inspect-once changes nothing at the sides of non-member states (China, Georgia), at the side where goods
enter the region (that side is their office of departure: the declaration is lodged and risk-assessed
there), at inland offices of departure (inspection at departure happens in both regimes), in the guard
and SPS controls, in the non-control delay, nor in the queueing for the lanes themselves.

Every truck draws all of its random numbers when it is created, from a stream of its own source, so both
regimes see the same trucks at the same times with the same draws (common random numbers): the difference
between two runs is the regime's alone, and a run is reproducible from its seed. Bad parameters raise
`ValueError` naming what is wrong.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import simpy

from silkway.places import MEMBER_STATES, Office, OfficeKind, ReferenceData, UnknownOffice

Hours = npt.NDArray[np.float64]
ROAD_MODES = frozenset({"road", "road+rail"})
# A truck's draws for its i-th post start at 11*i (normals) and 4*i (uniforms): per side (exit, then entry)
# the normals of guard, papers, verify, SPS and inspection and the uniforms of SPS-or-not and inspected-or-not;
# the 11th normal is the non-control delay's. One last uniform decides its inspection at departure.
_NORMALS_PER_LEG = 11
_UNIFORMS_PER_LEG = 4


class Regime(StrEnum):
    """How borders treat a consignment that is already declared."""

    TODAY = "today"
    INSPECT_ONCE = "inspect-once"


@dataclass(frozen=True, slots=True, kw_only=True)
class Duration:
    """A lognormal duration: its mean in hours and coefficient of variation. A zero mean takes no time."""

    mean_h: float
    cv: float

    def _check(self, what: str) -> None:
        if not (math.isfinite(self.mean_h) and math.isfinite(self.cv)) or self.mean_h < 0 or self.cv < 0:
            raise ValueError(f"{what}: mean and CV must be finite and not negative, got {self.mean_h}, {self.cv}")

    @property
    def variance(self) -> float:
        return (self.cv * self.mean_h) ** 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Controls:
    """What a side does to a truck and how long each step takes.

    `inspection_share` is the share each side inspects today, and the share inspected at departure in both
    regimes; `recheck_share` the share a later side re-inspects under inspect-once; `sps_share` the share of
    loads that also face phytosanitary or veterinary control on entry. On failure, raises `ValueError`."""

    border_guard: Duration
    papers: Duration
    verify: Duration
    sps: Duration
    sps_share: float
    inspection: Duration
    inspection_share: float
    recheck_share: float
    other_delay_cv: float = 1.0

    def __post_init__(self) -> None:
        for name in ("border_guard", "papers", "verify", "sps", "inspection"):
            getattr(self, name)._check(name)
        for name in ("sps_share", "inspection_share", "recheck_share"):
            share = getattr(self, name)
            if not 0 <= share <= 1:
                raise ValueError(f"{name} is a share between 0 and 1, got {share}")
        if not (math.isfinite(self.other_delay_cv) and self.other_delay_cv >= 0):
            raise ValueError(f"other_delay_cv must be finite and not negative, got {self.other_delay_cv}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Post:
    """One crossing point in one direction: trucks leave `exit_country` there.

    `trucks_per_hour` is all traffic through it, the routes' trucks included; `other_delay_h` the mean
    non-control delay each truck sits out before the controls."""

    crossing: str
    exit_country: str
    lanes: int
    trucks_per_hour: float
    other_delay_h: float = 0.0

    @property
    def key(self) -> str:
        return f"{self.crossing}:{self.exit_country}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """A journey: `origin` is the office of departure (an inland office or seaport of a member state) or,
    for goods entering the region, the far-side office of the first crossing; `crossings` in order."""

    name: str
    origin: str
    crossings: tuple[str, ...]
    trucks_per_day: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Leg:
    """A post as the model runs it: its sides' countries and whether inspect-once changes each side."""

    post: Post
    name: str
    exit_country: str
    entry_country: str
    exit_changes: bool
    entry_changes: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Journey:
    """A route resolved against the network: the keys of the posts it passes, and whether it starts at an
    inland office of departure (where, in both regimes, its declaration is checked and a share inspected)."""

    route: Route
    posts: tuple[str, ...]
    departs_inland: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Network:
    """Posts and routes checked against the reference data; build it with `build_network`."""

    controls: Controls
    legs: Mapping[str, Leg]
    journeys: Mapping[str, Journey]

    def other_traffic(self, key: str) -> float:
        """Trucks per hour through post `key` that are on none of the routes."""
        on_routes = sum(j.route.trucks_per_day / 24 for j in self.journeys.values() for k in j.posts if k == key)
        return max(0.0, self.legs[key].post.trucks_per_hour - on_routes)


def build_network(
    reference: ReferenceData, *, posts: Sequence[Post], routes: Sequence[Route], controls: Controls
) -> Network:
    """Check posts and routes against the reference data and resolve the routes' directions.

    On failure, raises `ValueError`: a crossing that is not in the reference data or not a road crossing, a
    post's exit country that is not one of its sides, a negative rate or delay, fewer than one lane, a
    route whose origin is unknown or whose crossings do not follow one another, a route through a post the
    network does not have, or routes carrying more trucks through a post than the post's own rate."""
    legs: dict[str, Leg] = {}
    for post in posts:
        if post.key in legs:
            raise ValueError(f"post {post.key} is listed twice")
        legs[post.key] = _leg(reference, post)
    journeys: dict[str, Journey] = {}
    for route in routes:
        if route.name in journeys:
            raise ValueError(f"route {route.name!r} is listed twice")
        journeys[route.name] = _journey(reference, route, legs)
    for key, leg in legs.items():
        carried = sum(j.route.trucks_per_day / 24 for j in journeys.values() for k in j.posts if k == key)
        if carried > leg.post.trucks_per_hour + 1e-9:
            raise ValueError(
                f"routes carry {carried:.3f} trucks/h through {key}, more than its {leg.post.trucks_per_hour:.3f}"
            )
    return Network(controls=controls, legs=legs, journeys=journeys)


def _leg(reference: ReferenceData, post: Post) -> Leg:
    crossing = reference.crossings.get(post.crossing)
    if crossing is None:
        raise ValueError(f"post {post.key}: {post.crossing!r} is not a crossing point of silkway's reference data")
    if crossing.mode not in ROAD_MODES:
        raise ValueError(f"post {post.key}: {post.crossing} is a {crossing.mode} crossing, not a road one")
    countries = [reference.office(code).country for code in crossing.offices]
    if post.exit_country not in countries:
        raise ValueError(f"post {post.key}: the sides of {post.crossing} are in {' and '.join(countries)}")
    if not (isinstance(post.lanes, int) and post.lanes >= 1):
        raise ValueError(f"post {post.key}: needs at least one lane, got {post.lanes}")
    for what, value in (("trucks_per_hour", post.trucks_per_hour), ("other_delay_h", post.other_delay_h)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"post {post.key}: {what} must be finite and not negative, got {value}")
    entry = countries[1] if countries[0] == post.exit_country else countries[0]
    exit_member, entry_member = post.exit_country in MEMBER_STATES, entry in MEMBER_STATES
    return Leg(
        post=post,
        name=crossing.name,
        exit_country=post.exit_country,
        entry_country=entry,
        exit_changes=exit_member,
        # where goods come in from a non-member state, the entry side is their office of departure
        entry_changes=entry_member and exit_member,
    )


def route_posts(reference: ReferenceData, route: Route) -> tuple[str, ...]:
    """The keys of the posts `route` passes (crossing and exit country), resolved from its origin.

    On failure, raises `ValueError`: a negative rate, no crossings, an unknown origin or one that is neither
    an office of departure in a member state nor the far side of the first crossing, a crossing that is not
    in the reference data, or one whose sides do not include the country the route has reached."""
    where = f"route {route.name!r}"
    if not (math.isfinite(route.trucks_per_day) and route.trucks_per_day >= 0):
        raise ValueError(f"{where}: trucks_per_day must be finite and not negative, got {route.trucks_per_day}")
    if not route.crossings:
        raise ValueError(f"{where}: crosses no border")
    origin = _origin(reference, route)
    country, keys = origin.country, []
    for code in route.crossings:
        crossing = reference.crossings.get(code)
        if crossing is None:
            raise ValueError(f"{where}: {code!r} is not a crossing point of silkway's reference data")
        sides = [reference.office(office).country for office in crossing.offices]
        if country not in sides:
            raise ValueError(f"{where}: cannot cross {code} from {country}; its sides are in {' and '.join(sides)}")
        keys.append(f"{code}:{country}")
        country = sides[1] if sides[0] == country else sides[0]
    return tuple(keys)


def _origin(reference: ReferenceData, route: Route) -> Office:
    where = f"route {route.name!r}"
    try:
        origin = reference.office(route.origin)
    except UnknownOffice:
        raise ValueError(f"{where}: {route.origin!r} is not an office of silkway's reference data") from None
    if origin.kind is not OfficeKind.BORDER and origin.country not in MEMBER_STATES:
        raise ValueError(f"{where}: departs from {origin.code}, which is not in a member state")
    if origin.kind is OfficeKind.BORDER and (
        origin.country in MEMBER_STATES or route.crossings[0] not in origin.crossings
    ):
        raise ValueError(
            f"{where}: a route starts at an office of departure inland, or at the far side of its first crossing "
            f"when goods enter the region; {origin.code} is neither"
        )
    return origin


def _journey(reference: ReferenceData, route: Route, legs: Mapping[str, Leg]) -> Journey:
    keys = route_posts(reference, route)
    for key in keys:
        if key not in legs:
            raise ValueError(
                f"route {route.name!r}: crosses {key.replace(':', ' from ')}, but the network has no post {key}"
            )
    departs_inland = reference.office(route.origin).kind is not OfficeKind.BORDER
    return Journey(route=route, posts=keys, departs_inland=departs_inland)


# --- running it -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """What one regime gave, for the trucks that arrived after the warm-up (every one of them finishes).

    `post_hours` is the time each such truck spent at each post (delay, queues, controls, both sides);
    `route_hours` the time at all borders of each route truck, in order of arrival, so the same index is
    the same truck in another regime's run of the same network and seed; `route_inspections` likewise,
    counting its departure inspection too."""

    regime: Regime
    post_hours: Mapping[str, Hours]
    post_inspections: Mapping[str, int]
    route_hours: Mapping[str, Hours]
    route_inspections: Mapping[str, npt.NDArray[np.int64]]
    departure_inspections: int
    trucks: int

    @property
    def border_inspections(self) -> int:
        return sum(self.post_inspections.values())


@dataclass(frozen=True, slots=True)
class _Step:
    mu: float
    sigma: float

    def draw(self, z: float) -> float:
        return math.exp(self.mu + self.sigma * z) if self.mu > -math.inf else 0.0


def _step(duration: Duration) -> _Step:
    # the lognormal whose mean and CV are the duration's; a zero mean never draws
    sigma2 = math.log1p(duration.cv**2)
    mu = math.log(duration.mean_h) - sigma2 / 2 if duration.mean_h > 0 else -math.inf
    return _Step(mu, math.sqrt(sigma2))


@dataclass(frozen=True, slots=True)
class _Side:
    lanes: Any  # simpy.Resource (simpy has no types)
    entry: bool
    changes: bool


@dataclass(frozen=True, slots=True)
class _Station:
    key: str
    other: _Step
    sides: tuple[_Side, _Side]


class _Model:
    """One run: the SimPy environment, the compiled network and what the measured trucks recorded."""

    def __init__(self, network: Network, regime: Regime, *, until_h: float, warmup_h: float) -> None:
        self.env = simpy.Environment()
        self.regime, self.until_h, self.warmup_h = regime, until_h, warmup_h
        c = network.controls
        self.guard, self.papers, self.verify = _step(c.border_guard), _step(c.papers), _step(c.verify)
        self.sps, self.inspection = _step(c.sps), _step(c.inspection)
        self.sps_share, self.recheck_share = c.sps_share, c.recheck_share
        self.inspection_share = c.inspection_share
        self.stations: dict[str, _Station] = {}
        for key, leg in network.legs.items():
            other = _step(Duration(mean_h=leg.post.other_delay_h, cv=c.other_delay_cv))
            sides = (
                _Side(simpy.Resource(self.env, capacity=leg.post.lanes), False, leg.exit_changes),
                _Side(simpy.Resource(self.env, capacity=leg.post.lanes), True, leg.entry_changes),
            )
            self.stations[key] = _Station(key, other, sides)
        self.post_hours: defaultdict[str, list[float]] = defaultdict(list)
        self.post_inspections: defaultdict[str, int] = defaultdict(int)
        self.route_trips: defaultdict[str, list[tuple[int, float, int]]] = defaultdict(list)
        self.departure_inspections = 0
        self.trucks = 0

    def arrivals(
        self,
        rate_per_h: float,
        stations: tuple[_Station, ...],
        route: str | None,
        departs: bool,
        rng: np.random.Generator,
    ) -> Generator[Any, Any, None]:
        normals, uniforms = _NORMALS_PER_LEG * len(stations), _UNIFORMS_PER_LEG * len(stations) + 1
        seq = 0
        while rate_per_h > 0:
            gap = float(rng.exponential(1 / rate_per_h))
            if self.env.now + gap >= self.until_h:
                return
            yield self.env.timeout(gap)
            z: list[float] = rng.standard_normal(normals).tolist()
            u: list[float] = rng.random(uniforms).tolist()
            self.env.process(self.truck(stations, z, u, route, seq, departs))
            seq += 1

    def truck(
        self, stations: tuple[_Station, ...], z: list[float], u: list[float], route: str | None, seq: int, departs: bool
    ) -> Generator[Any, Any, None]:
        env, measured = self.env, self.env.now >= self.warmup_h
        inspections = int(departs and u[-1] < self.inspection_share)
        total = 0.0
        for i, station in enumerate(stations):
            started, zi, ui = env.now, _NORMALS_PER_LEG * i, _UNIFORMS_PER_LEG * i
            if station.other.mu > -math.inf:
                yield env.timeout(station.other.draw(z[zi + 10]))
            for s, side in enumerate(station.sides):
                service, inspected = self.service(side, z, zi + 5 * s, u, ui + 2 * s)
                with side.lanes.request() as request:
                    yield request
                    yield env.timeout(service)
                if inspected and measured:
                    self.post_inspections[station.key] += 1
                inspections += inspected
            if measured:
                self.post_hours[station.key].append(env.now - started)
            total += env.now - started
        if measured:
            self.trucks += 1
            if route is not None:
                self.route_trips[route].append((seq, total, inspections))
                self.departure_inspections += int(departs and u[-1] < self.inspection_share)

    def service(self, side: _Side, z: list[float], zi: int, u: list[float], ui: int) -> tuple[float, bool]:
        hours = self.guard.draw(z[zi])
        if self.regime is Regime.INSPECT_ONCE and side.changes:
            hours += self.verify.draw(z[zi + 2])
            share = self.recheck_share
        else:
            hours += self.papers.draw(z[zi + 1])
            share = self.inspection_share
        if side.entry and u[ui] < self.sps_share:
            hours += self.sps.draw(z[zi + 3])
        inspected = u[ui + 1] < share
        if inspected:
            hours += self.inspection.draw(z[zi + 4])
        return hours, inspected


def simulate(network: Network, regime: Regime, *, days: float, warmup_days: float, seed: int) -> Run:
    """Run `regime` on `network`: trucks arrive for `days`, those arriving in the first `warmup_days` are
    not measured, and the run goes on until every truck has finished. Deterministic for a given seed.

    On failure, raises `ValueError` when `days` is not greater than `warmup_days` or either is negative."""
    if not (math.isfinite(days) and 0 <= warmup_days < days):
        raise ValueError(f"need 0 <= warmup_days < days, got warmup_days={warmup_days}, days={days}")
    model = _Model(network, regime, until_h=days * 24, warmup_h=warmup_days * 24)
    sources: list[tuple[float, tuple[_Station, ...], str | None, bool]] = []
    for name, journey in network.journeys.items():
        stations = tuple(model.stations[key] for key in journey.posts)
        sources.append((journey.route.trucks_per_day / 24, stations, name, journey.departs_inland))
    for key in network.legs:
        sources.append((network.other_traffic(key), (model.stations[key],), None, False))
    streams = np.random.SeedSequence(seed).spawn(len(sources))
    for (rate, stations, route, departs), stream in zip(sources, streams, strict=True):
        rng = np.random.default_rng(stream)
        model.env.process(model.arrivals(rate, stations, route, departs, rng))
    model.env.run()
    route_hours: dict[str, Hours] = {}
    route_inspections: dict[str, npt.NDArray[np.int64]] = {}
    for name in network.journeys:
        trips = sorted(model.route_trips.get(name, []))
        route_hours[name] = np.array([t[1] for t in trips], dtype=np.float64)
        route_inspections[name] = np.array([t[2] for t in trips], dtype=np.int64)
    return Run(
        regime=regime,
        post_hours={key: np.array(model.post_hours.get(key, []), dtype=np.float64) for key in network.legs},
        post_inspections={key: model.post_inspections.get(key, 0) for key in network.legs},
        route_hours=route_hours,
        route_inspections=route_inspections,
        departure_inspections=model.departure_inspections,
        trucks=model.trucks,
    )


# --- calibration: queueing theory for today's regime -------------------------------------------------


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with `servers` and offered `load` (< servers)."""
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return servers * blocking / (servers - load * (1 - blocking))


def side_service(controls: Controls, *, entry: bool) -> tuple[float, float]:
    """Mean (hours) and squared coefficient of variation of a side's service time today."""
    mean = controls.border_guard.mean_h + controls.papers.mean_h
    variance = controls.border_guard.variance + controls.papers.variance
    optional = [(controls.inspection, controls.inspection_share)]
    if entry:
        optional.append((controls.sps, controls.sps_share))
    for duration, share in optional:
        second = duration.variance + duration.mean_h**2
        mean += share * duration.mean_h
        variance += share * second - (share * duration.mean_h) ** 2
    return mean, (variance / mean**2 if mean > 0 else 0.0)


def side_hours(rate: float, lanes: int, mean: float, scv: float, arrival_scv: float) -> tuple[float, float, float]:
    """Mean time at a side (queue and service), the squared CV of its departures, and its utilisation.

    Allen-Cunneen's approximation of a G/G/c queue and Whitt's departure formula (QNA); infinite time when
    the side is saturated."""
    load = rate * mean
    utilisation = load / lanes
    if utilisation >= 1:
        return math.inf, 1.0, utilisation
    if load == 0:
        return mean, arrival_scv, 0.0
    wait = erlang_c(lanes, load) / (lanes / mean - rate) * (arrival_scv + scv) / 2
    departure_scv = 1 + (1 - utilisation**2) * (arrival_scv - 1) + utilisation**2 * (scv - 1) / math.sqrt(lanes)
    return wait + mean, departure_scv, utilisation


def control_hours(rate: float, controls: Controls, lanes: int) -> tuple[float, float]:
    """Today's mean time at a post's two sides (no non-control delay) for Poisson arrivals, and the busier
    side's utilisation."""
    exit_hours, departures, exit_use = side_hours(rate, lanes, *side_service(controls, entry=False), 1.0)
    entry_hours, _, entry_use = side_hours(rate, lanes, *side_service(controls, entry=True), departures)
    return exit_hours + entry_hours, max(exit_use, entry_use)


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    """A post's traffic and non-control delay that make today's mean time its target."""

    trucks_per_hour: float
    other_delay_h: float
    control_h: float
    utilisation: float


def calibrate(
    target_h: float,
    *,
    controls: Controls,
    lanes: int,
    max_utilisation: float,
    non_control_share: float = 0.0,
    min_trucks_per_hour: float = 0.0,
) -> Calibration:
    """Choose the arrival rate, and if need be a non-control delay, so that today's mean time at a post is
    `target_h`.

    The controls get `target_h` less `non_control_share` of it (but never less than their own service time)
    and the rate is the one that gives them that time, unless it needs a side busier than
    `max_utilisation` (then the rate at that utilisation) or is below `min_trucks_per_hour`, the traffic
    the routes already send through the post (then that rate). Whatever the controls do not take is
    non-control delay. On failure, raises `ValueError`: a target shorter than the controls' own service
    time, a utilisation or share out of range, or a minimum rate the lanes cannot carry."""
    if not 0 < max_utilisation < 1:
        raise ValueError(f"max_utilisation must be between 0 and 1, got {max_utilisation}")
    if not 0 <= non_control_share < 1:
        raise ValueError(f"non_control_share must be in [0, 1), got {non_control_share}")
    busiest = max(side_service(controls, entry=False)[0], side_service(controls, entry=True)[0])
    ceiling = max_utilisation * lanes / busiest
    floor_h, _ = control_hours(0.0, controls, lanes)
    if not (math.isfinite(target_h) and target_h >= floor_h):
        raise ValueError(f"a target of {target_h} h is shorter than the {floor_h:.2f} h the controls take alone")
    if not 0 <= min_trucks_per_hour <= ceiling:
        raise ValueError(
            f"{min_trucks_per_hour} trucks/h is more than {ceiling:.3f}, {max_utilisation:.0%} of the lanes"
        )
    wanted = max(target_h * (1 - non_control_share), floor_h)
    rate = ceiling
    if control_hours(ceiling, controls, lanes)[0] > wanted:
        low, high = 0.0, ceiling
        for _ in range(100):
            middle = (low + high) / 2
            if control_hours(middle, controls, lanes)[0] < wanted:
                low = middle
            else:
                high = middle
        rate = max(low, min_trucks_per_hour)
    hours, use = control_hours(rate, controls, lanes)
    return Calibration(trucks_per_hour=rate, other_delay_h=max(target_h - hours, 0.0), control_h=hours, utilisation=use)


def mean_and_p90(values: Iterable[float] | Hours) -> tuple[float, float]:
    """Mean and 90th percentile, or NaNs for no values."""
    array = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=np.float64)
    if array.size == 0:
        return math.nan, math.nan
    return float(array.mean()), float(np.percentile(array, 90))

"""Simulated traffic: realistic transits driven through the transit handlers, for demos and load checks.

`simulate` lodges transits on real routes (departure, one to three borders through real crossing points
between member states, destination), with realistic HS mixes, and walks each one through release,
presentation at every border office, passage, arrival and discharge, exactly as officers and the carrier
would through the service layer — nothing is written to the database but by the handlers.

Transits overlap as in real traffic: a discrete-event loop (`drive`) keeps every open transit's next step
in a queue ordered by time and moves one `FixedClock` forward to each step in turn; the visa travellers of
`visa_simulation` run on the same loop, alone or together with transits, and a run may stop at a given
moment with journeys still under way. All chance comes from one `random.Random(seed)`, so a seed on a fresh
database always gives the same transits, MRNs and summary.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from rich.table import Table
from stdnum import iso6346

from silkway.places.model import OfficeKind
from silkway.places.reference import ReferenceData
from silkway.services import Services
from silkway.shared.actors import Actor, Role
from silkway.shared.clock import FixedClock
from silkway.shared.money import Money
from silkway.shared.mrn import Mrn
from silkway.transit import handlers
from silkway.transit.commands import (
    ControlReport,
    DischargeTransit,
    PresentVehicle,
    RecordArrival,
    RecordControl,
    RecordPassage,
    RegisterGuarantee,
    ReleaseForTransit,
    ReportIncident,
    SubmitDeclaration,
)
from silkway.transit.model import (
    Container,
    ControlKind,
    ControlOutcome,
    Decision,
    Declaration,
    GoodsItem,
    GuaranteeCommitment,
    IncidentKind,
    Itinerary,
    PresentationDecision,
    Vehicle,
)
from silkway.transit.risk import RiskRule

log = logging.getLogger(__name__)

T = TypeVar("T")

CARRIER = Actor(username="carrier-kz", role=Role.CARRIER, country="KZ")
"""The demo carrier, holder of every simulated declaration."""
GUARANTEE_ADMIN = Actor(username="admin-kz", role=Role.ADMIN, country="KZ")
GUARANTEE_COVER = Money.of("1000000000.00", "USD")
"""Cover of the simulation's own guarantee: enough for a few hundred open transits of smartphones."""
GUARANTEE_VALIDITY = timedelta(days=10 * 365)
GUARANTEE_SHARE = Decimal("0.30")
"""Duties and taxes at risk, as a share of the customs value: what each transit commits of the guarantee."""
GUARANTEE_MINIMUM = Decimal("1000.00")

INCIDENT_SHARE = 0.04
"""Share of transits with a seal incident; exactly `round(INCIDENT_SHARE * transits)` get one."""
REFUSAL_RATE = 0.03
RAIL_SHARE = 0.10
CONTAINER_ON_TRUCK_SHARE = 0.35
NO_CONTROL_SHARE = 0.05
"""Releases without a control (an authorised consignor's simplified procedure): the first office
then sees `no_prior_control`."""

DEPARTURE_CONTROLS: tuple[tuple[ControlKind, float], ...] = (
    (ControlKind.PHYSICAL, 0.30),
    (ControlKind.SCAN, 0.20),
    (ControlKind.DOCUMENTARY, 0.45),
)
DEPARTURE_WEIGHTS: Mapping[str, float] = {"KZ": 3.0, "UZ": 3.0, "KG": 2.0, "TJ": 1.5, "TM": 1.0, "AZ": 1.0}
RELEASE_MINUTES: Mapping[ControlKind | None, tuple[float, float]] = {
    None: (20, 60),
    ControlKind.DOCUMENTARY: (30, 90),
    ControlKind.SCAN: (60, 150),
    ControlKind.PHYSICAL: (90, 240),
}
"""From lodging to release, by the departure control made."""
BORDER_COUNTS: tuple[tuple[int, float], ...] = ((1, 0.50), (2, 0.35), (3, 0.15))
ROAD_MODES: Mapping[str, float] = {"road": 1.0, "road+rail": 1.0, "sea": 0.3}
"""Crossings a lorry uses, by how often: mostly road, now and then the Caspian ro-ro ferry."""
RAIL_MODES: Mapping[str, float] = {"rail": 1.0, "road+rail": 1.0}
TRUCK_CAPACITY_KG = 24_000.0
CONTAINER_CAPACITY_KG = 26_000.0
ROAD_FACTOR = 1.25
"""Road distance over great-circle distance."""
SPEED_KMH = {"road": 45.0, "rail": 35.0}
"""Average speeds over whole days, rests and shunting included."""
CONTAINER_OWNERS = ("MSCU", "CSNU", "TGHU", "FESU", "CMAU", "TCNU")
RISK_PREFIX = "risk_rule:"
DOCUMENTARY_REASONS = frozenset({"overdue", "guarantee_invalid"})
"""Reasons a look at the documents answers; every other reason (seals, incidents, no prior control,
spot checks) needs the load opened."""
MAX_ROUTE_DRAWS = 100
BORDER_PACE: Mapping[str, float] = {
    # the main Shymkent–Tashkent road crossing, both sides under reconstruction 2024-2026
    "KZ-ZHIBEKZHOLY": 6.0,
    "UZ-GISHTKUPRIK": 6.0,
    # the main freight crossing on the Kazakh–Uzbek border, and the Almaty–Bishkek road
    "KZ-BKONYSBAYEV": 2.5,
    "UZ-YALLAMA": 2.5,
    "KZ-KORDAY": 2.5,
    "KG-AKJOL": 2.5,
    # the Kazakh side under reconstruction, lorries by electronic queue
    "KZ-SYRYM": 3.0,
}
"""How much longer than usual a post takes from presentation to passage (usually 5 to 30 minutes), where
crossings are known to be slow; every other post has pace 1."""


# --- the summary --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationSummary:
    """What a simulation did. `discharged + refused + under_way == submitted` (`under_way` is 0 unless the
    run was stopped early), and `inspections_decided + inspections_avoided == presentations`."""

    seed: int
    submitted: int
    released: int
    refused: int
    discharged: int
    under_way: int
    """Transits released and not yet discharged, or not yet released, when the run stopped."""
    controls_at_departure: int
    presentations: int
    """Decisions taken after departure: each presentation at a border office and each arrival."""
    inspections_decided: int
    inspections_by_reason: tuple[tuple[str, int], ...]
    """(reason, how many decisions gave it), sorted by reason; one decision may give several."""
    controls_en_route: int
    inspections_avoided: int
    """Green decisions: the control made earlier on the route was recognised."""
    incidents_reported: int
    """Seal incidents reported by the carrier en route (seal broken, new seals)."""
    wrong_seals_presented: int
    """Presentations where a seal number did not match the record, without any incident reported."""
    simulated_time: timedelta
    mrns: tuple[Mrn, ...]
    """Every transit lodged, in the order lodged."""

    @property
    def risk_rule_hits(self) -> int:
        return sum(n for reason, n in self.inspections_by_reason if reason.startswith(RISK_PREFIX))

    def as_dict(self) -> dict[str, object]:
        """The summary as JSON-ready values."""
        return {
            "seed": self.seed,
            "submitted": self.submitted,
            "released": self.released,
            "refused": self.refused,
            "discharged": self.discharged,
            "under_way": self.under_way,
            "controls_at_departure": self.controls_at_departure,
            "presentations": self.presentations,
            "inspections_decided": self.inspections_decided,
            "inspections_by_reason": dict(self.inspections_by_reason),
            "risk_rule_hits": self.risk_rule_hits,
            "controls_en_route": self.controls_en_route,
            "inspections_avoided": self.inspections_avoided,
            "incidents_reported": self.incidents_reported,
            "wrong_seals_presented": self.wrong_seals_presented,
            "simulated_hours": round(self.simulated_time / timedelta(hours=1), 2),
            "mrns": [str(m) for m in self.mrns],
        }

    def table(self) -> Table:
        table = Table(title=f"Simulated traffic (seed {self.seed})")
        table.add_column("")
        table.add_column("count", justify="right")
        rows: list[tuple[str, object]] = [
            ("Transits submitted", self.submitted),
            ("  released", self.released),
            ("  refused at departure", self.refused),
            ("  discharged", self.discharged),
            ("  still under way", self.under_way),
            ("Controls at departure", self.controls_at_departure),
            ("Presentations after departure", self.presentations),
            ("Inspections performed", self.inspections_decided),
            *((f"  reason: {reason}", n) for reason, n in self.inspections_by_reason),
            ("Controls recorded en route", self.controls_en_route),
            ("Inspections avoided", self.inspections_avoided),
            ("Seal incidents reported", self.incidents_reported),
            ("Wrong seal numbers presented", self.wrong_seals_presented),
            ("Simulated hours", f"{self.simulated_time / timedelta(hours=1):.1f}"),
        ]
        for label, value in rows:
            table.add_row(label, str(value))
        return table


@dataclass(slots=True)
class _Tally:
    released: int = 0
    refused: int = 0
    discharged: int = 0
    controls_at_departure: int = 0
    presentations: int = 0
    inspections: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    controls_en_route: int = 0
    green: int = 0
    incidents: int = 0
    wrong_seals: int = 0
    mrns: list[Mrn] = field(default_factory=list)

    def decided(self, decision: PresentationDecision) -> None:
        self.presentations += 1
        if decision.decision is Decision.INSPECT:
            self.inspections += 1
            self.reasons.update(decision.reasons)
        else:
            self.green += 1


# --- routes -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Leg:
    """One border of a route: leave at `exit_office`, enter `to_country` at `entry_office`."""

    exit_office: str
    entry_office: str
    to_country: str
    mode: str


class RouteNetwork:
    """The crossing points joining two member states, as a graph of countries to walk over."""

    def __init__(self, reference: ReferenceData) -> None:
        self._reference = reference
        legs: defaultdict[str, list[Leg]] = defaultdict(list)
        for code in sorted(reference.crossings):
            crossing = reference.crossings[code]
            a, b = (reference.offices[o] for o in crossing.offices)
            if not (reference.is_member(a.country) and reference.is_member(b.country)):
                continue
            legs[a.country].append(
                Leg(exit_office=a.code, entry_office=b.code, to_country=b.country, mode=crossing.mode)
            )
            legs[b.country].append(
                Leg(exit_office=b.code, entry_office=a.code, to_country=a.country, mode=crossing.mode)
            )
        self._legs = dict(legs)

    def draw(self, rng: random.Random, *, by_rail: bool) -> Itinerary:
        """A random walk over the crossings: a departure office, one to three borders never entering a
        country twice, and an inland office of destination in the last country."""
        modes = RAIL_MODES if by_rail else ROAD_MODES
        countries = [
            cc for cc in self._reference.member_states if any(leg.mode in modes for leg in self._legs.get(cc, ()))
        ]
        kinds = (OfficeKind.INLAND,) if by_rail else (OfficeKind.INLAND, OfficeKind.SEAPORT)
        for _ in range(MAX_ROUTE_DRAWS):
            country = rng.choices(countries, weights=[DEPARTURE_WEIGHTS.get(cc, 1.0) for cc in countries])[0]
            starts = [o.code for o in self._reference.offices_of(country) if o.kind in kinds]
            offices = [rng.choice(starts)]
            visited = {country}
            for _ in range(_weighted(rng, BORDER_COUNTS)):
                options = [
                    leg
                    for leg in self._legs.get(country, ())
                    if leg.mode in modes
                    and leg.to_country not in visited
                    and leg.exit_office not in offices
                    and leg.entry_office not in offices
                ]
                if not options:
                    break
                leg = rng.choices(options, weights=[modes[leg.mode] for leg in options])[0]
                offices += [leg.exit_office, leg.entry_office]
                visited.add(leg.to_country)
                country = leg.to_country
            if len(offices) > 1:
                destination = rng.choice(self._reference.offices_of(country, OfficeKind.INLAND))
                return Itinerary(offices=(*offices, destination.code))
        raise RuntimeError(f"no route found in {MAX_ROUTE_DRAWS} draws")  # pragma: no cover - data holds routes


# --- goods --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Commodity:
    """Goods as traded: HS 2022 subheading, gross kg per package, customs value per kg and usual load."""

    hs_code: str
    description: str
    package_kg: float
    usd_per_kg: tuple[float, float]
    load_kg: tuple[float, float]


def _c(hs: str, description: str, package_kg: float, usd: tuple[float, float], load: tuple[float, float]) -> Commodity:
    return Commodity(hs_code=hs, description=description, package_kg=package_kg, usd_per_kg=usd, load_kg=load)


TRADES: tuple[tuple[str, float, tuple[Commodity, ...]], ...] = (
    (
        "fruit and food",
        3.0,
        (
            _c("080610", "Fresh table grapes in crates", 8, (0.9, 1.6), (2_000, 18_000)),
            _c("081310", "Dried apricots in cartons", 10, (3.0, 6.0), (1_000, 12_000)),
            _c("080620", "Raisins in cartons", 12.5, (1.8, 3.2), (1_000, 15_000)),
            _c("080810", "Fresh apples in crates", 18, (0.5, 0.9), (5_000, 20_000)),
            _c("070200", "Fresh tomatoes in crates", 6, (0.6, 1.2), (3_000, 18_000)),
            _c("090230", "Black tea in retail packs", 12, (4.0, 8.0), (500, 6_000)),
            _c("110100", "Wheat flour in 50 kg bags", 50, (0.28, 0.4), (5_000, 22_000)),
            _c("170199", "White sugar in 50 kg bags", 50, (0.45, 0.65), (5_000, 22_000)),
        ),
    ),
    (
        "cotton and textiles",
        3.0,
        (
            _c("520100", "Raw cotton fibre in pressed bales", 220, (1.6, 2.1), (8_000, 22_000)),
            _c("520512", "Cotton yarn, single, uncombed, on cones", 40, (2.6, 3.4), (3_000, 20_000)),
            _c("520811", "Grey cotton fabric in rolls", 60, (3.5, 5.5), (2_000, 15_000)),
            _c("610910", "Cotton T-shirts in cartons", 12, (14.0, 24.0), (500, 6_000)),
            _c("620342", "Men's cotton trousers in cartons", 15, (16.0, 28.0), (500, 6_000)),
            _c("570110", "Hand-knotted wool carpets", 25, (25.0, 60.0), (200, 2_000)),
        ),
    ),
    (
        "building materials",
        2.0,
        (
            _c("252329", "Portland cement in 50 kg bags", 50, (0.05, 0.09), (10_000, 22_000)),
            _c("721420", "Steel reinforcing bars in bundles", 2_000, (0.55, 0.75), (10_000, 22_000)),
            _c("690721", "Ceramic floor tiles on pallets", 1_200, (0.5, 0.9), (6_000, 20_000)),
            _c("842952", "Tracked excavator, 360 degree", 14_000, (5.0, 8.0), (14_000, 14_000)),
        ),
    ),
    (
        "electronics",
        2.0,
        (
            _c("847130", "Laptop computers, 5 per carton", 12, (140.0, 320.0), (200, 3_000)),
            _c("851713", "Smartphones, 20 per carton", 10, (350.0, 900.0), (100, 1_500)),
            _c("852872", "LED television sets", 18, (12.0, 25.0), (1_000, 8_000)),
            _c("841810", "Refrigerator-freezers", 70, (4.0, 7.0), (2_000, 10_000)),
            _c("854442", "Power and data cables with connectors", 20, (8.0, 20.0), (500, 5_000)),
        ),
    ),
    (
        "tobacco and consumer goods",
        1.2,
        (
            _c("240220", "Cigarettes, 10,000 per case", 12, (18.0, 45.0), (1_000, 12_000)),
            _c("240311", "Water-pipe tobacco in cases", 20, (10.0, 25.0), (300, 3_000)),
            _c("220421", "Still wine in 0.75 l bottles", 9, (2.5, 6.0), (2_000, 15_000)),
            _c("300490", "Medicaments in retail packs", 10, (25.0, 120.0), (200, 3_000)),
        ),
    ),
    (
        "vehicles and parts",
        1.5,
        (
            _c("870323", "New passenger cars, petrol, 1.5 to 3 litres", 1_500, (14.0, 24.0), (1_500, 12_000)),
            _c("870332", "Used passenger cars, diesel, 1.5 to 2.5 litres", 1_700, (6.0, 12.0), (1_700, 12_000)),
            _c("870899", "Vehicle parts on pallets", 400, (5.0, 12.0), (1_000, 10_000)),
            _c("401110", "New car tyres", 9, (3.5, 6.0), (2_000, 9_000)),
        ),
    ),
)
ITEM_COUNTS: tuple[tuple[int, float], ...] = ((1, 0.35), (2, 0.25), (3, 0.20), (4, 0.12), (5, 0.08))


def draw_goods(rng: random.Random, capacity_kg: float) -> tuple[GoodsItem, ...]:
    """One to five goods items of one trade, filling at most `capacity_kg` (the first item always goes)."""
    commodities = rng.choices([t[2] for t in TRADES], weights=[t[1] for t in TRADES])[0]
    chosen = rng.sample(commodities, min(_weighted(rng, ITEM_COUNTS), len(commodities)))
    items: list[GoodsItem] = []
    loaded = 0.0
    for commodity in chosen:
        wanted = rng.uniform(*commodity.load_kg) / len(chosen)
        packages = max(1, round(wanted / commodity.package_kg))
        mass = max(0.1, packages * commodity.package_kg * rng.uniform(0.97, 1.03))
        if items and loaded + mass > capacity_kg:
            break
        loaded += mass
        items.append(
            GoodsItem(
                hs_code=commodity.hs_code,
                description=commodity.description,
                packages=packages,
                gross_mass_kg=Decimal(f"{mass:.1f}"),
                value=Money(amount=Decimal(f"{mass * rng.uniform(*commodity.usd_per_kg):.2f}"), currency="USD"),
            )
        )
    return tuple(items)


def check_catalogue(reference: ReferenceData) -> None:
    """Raise `ValueError` if a commodity's HS code is not a subheading of HS 2022."""
    unknown = [c.hs_code for _, _, trade in TRADES for c in trade if not reference.is_hs6(c.hs_code)]
    if unknown:
        raise ValueError(f"not HS 2022 subheadings: {', '.join(unknown)}")


# --- driving one transit ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Incident:
    position: float
    """Where on the route, in [0, 1): a share of the offices after departure (borders, then destination)."""
    reported: bool
    """True: the carrier reports a broken seal on the way; False: a wrong seal number is presented."""


class _Traffic:
    """Everything the simulated transits share: services, the clock, the dice and the tally."""

    def __init__(self, services: Services, clock: FixedClock, rng: random.Random, guarantee: str) -> None:
        self.services = services
        self.clock = clock
        self.rng = rng
        self.guarantee = guarantee
        self.reference = services.reference
        self.network = RouteNetwork(services.reference)
        self.tally = _Tally()
        self.rules: dict[str, dict[str, RiskRule]] = {
            cc: {rule.id: rule for rule in services.queries.risk_rules(cc)} for cc in services.reference.member_states
        }
        self._seal_serial: dict[str, int] = {}

    def journey(self, incident: _Incident | None) -> Iterator[timedelta]:
        """One transit from lodging to discharge or refusal: each step is one handler call at the
        clock's time, and the generator yields how long to wait before its next step."""
        rng = self.rng
        by_rail = rng.random() < RAIL_SHARE
        itinerary = self.network.draw(rng, by_rail=by_rail)
        declaration = self._declaration(itinerary, by_rail=by_rail)
        mrn = handlers.submit_declaration(
            SubmitDeclaration(actor=CARRIER, declaration=declaration),
            uow=self.services.uow(),
            clock=self.clock,
            places=self.services.places,
        )
        self.tally.mrns.append(mrn)
        kind = self._departure_control()
        yield _minutes(rng, *RELEASE_MINUTES[kind])

        # An incident's transit is never refused, so the incidents planned always happen.
        satisfactory = kind is None or incident is not None or rng.random() >= REFUSAL_RATE
        seals = self._new_seals(self._country(itinerary.departure))
        handlers.release_for_transit(
            ReleaseForTransit(
                actor=self._customs(itinerary.departure),
                mrn=mrn,
                office=itinerary.departure,
                seals=seals,
                control=None if kind is None else _report(kind, satisfactory=satisfactory),
            ),
            uow=self.services.uow(),
            clock=self.clock,
            places=self.services.places,
        )
        if kind is not None:
            self.tally.controls_at_departure += 1
        if not satisfactory:
            self.tally.refused += 1
            return
        self.tally.released += 1

        stops = (*itinerary.border_offices, itinerary.destination)
        incident_at = -1 if incident is None else int(incident.position * len(stops))
        previous = itinerary.departure
        for index, office in enumerate(stops):
            travel = self._travel(previous, office, by_rail=by_rail)
            if incident is not None and incident_at == index and incident.reported:
                share = rng.uniform(0.2, 0.8)
                yield travel * share
                seals = self._report_seal_broken(mrn, seals)
                yield travel * (1 - share)
            else:
                yield travel
            shown = seals
            if incident is not None and incident_at == index and not incident.reported:
                shown = _misread(rng, seals)
                self.tally.wrong_seals += 1
            destination = office == itinerary.destination
            decision = self._present(mrn, office, shown, destination=destination)
            if decision.decision is Decision.INSPECT:
                yield _minutes(rng, 30, 150)
                seals = self._control(mrn, office, decision.reasons, seals)
            if destination:
                yield _minutes(rng, 15, 90)
            else:
                pace = BORDER_PACE.get(office, 1.0)
                yield _minutes(rng, 5 * pace, 30 * pace)
            if destination:
                handlers.discharge_transit(
                    DischargeTransit(actor=self._customs(office), mrn=mrn, office=office),
                    uow=self.services.uow(),
                    clock=self.clock,
                    places=self.services.places,
                )
                self.tally.discharged += 1
            else:
                handlers.record_passage(
                    RecordPassage(actor=self._customs(office), mrn=mrn, office=office),
                    uow=self.services.uow(),
                    clock=self.clock,
                    places=self.services.places,
                )
            previous = office

    def _declaration(self, itinerary: Itinerary, *, by_rail: bool) -> Declaration:
        rng = self.rng
        if by_rail:
            vehicle = None
            containers = tuple(self._container() for _ in range(rng.randint(1, 3)))
        else:
            vehicle = self._lorry()
            containers = (self._container(),) if rng.random() < CONTAINER_ON_TRUCK_SHARE else ()
        capacity = CONTAINER_CAPACITY_KG * len(containers) if by_rail else TRUCK_CAPACITY_KG
        goods = draw_goods(rng, capacity)
        at_risk = sum((g.value.amount for g in goods), Decimal(0)) * GUARANTEE_SHARE
        amount = max(GUARANTEE_MINIMUM, at_risk.quantize(Decimal("0.01")))
        return Declaration(
            holder=CARRIER.username,
            vehicle=vehicle,
            containers=containers,
            itinerary=itinerary,
            goods=goods,
            guarantee=GuaranteeCommitment(reference=self.guarantee, amount=Money(amount=amount, currency="USD")),
        )

    def _lorry(self) -> Vehicle:
        letters = "".join(self.rng.choices("ABCDEFHKLMNPTXYZ", k=3))
        region = self.rng.randint(1, 18)
        return Vehicle(plate=f"{self.rng.randint(100, 999)} {letters} {region:02d}", country=CARRIER.country)

    def _container(self) -> Container:
        body = f"{self.rng.choice(CONTAINER_OWNERS)}{self.rng.randint(0, 999_999):06d}"
        return Container(number=body + str(iso6346.calc_check_digit(body)))

    def _departure_control(self) -> ControlKind | None:
        if self.rng.random() < NO_CONTROL_SHARE:
            return None
        return _weighted(self.rng, DEPARTURE_CONTROLS)

    def _present(self, mrn: Mrn, office: str, seals: tuple[str, ...], *, destination: bool) -> PresentationDecision:
        actor = self._customs(office)
        if destination:
            decision = handlers.record_arrival(
                RecordArrival(actor=actor, mrn=mrn, office=office, seals=seals),
                uow=self.services.uow(),
                clock=self.clock,
                places=self.services.places,
            )
        else:
            decision = handlers.present_vehicle(
                PresentVehicle(actor=actor, mrn=mrn, office=office, seals=seals),
                uow=self.services.uow(),
                clock=self.clock,
                places=self.services.places,
            )
        self.tally.decided(decision)
        return decision

    def _control(self, mrn: Mrn, office: str, reasons: tuple[str, ...], seals: tuple[str, ...]) -> tuple[str, ...]:
        """Answer an inspection with the control its reasons ask for; returns the seals the load now has."""
        kind = self._control_kind(self._country(office), reasons)
        opened = kind is ControlKind.PHYSICAL
        new_seals = self._new_seals(self._country(office)) if opened else ()
        handlers.record_control(
            RecordControl(
                actor=self._customs(office),
                mrn=mrn,
                office=office,
                control=_report(kind, satisfactory=True, note="inspected for: " + ", ".join(reasons)),
                seals=new_seals,
            ),
            uow=self.services.uow(),
            clock=self.clock,
            places=self.services.places,
        )
        self.tally.controls_en_route += 1
        return new_seals or seals

    def _control_kind(self, country: str, reasons: tuple[str, ...]) -> ControlKind:
        """The strongest control any reason asks for: what a rule requires, documents for a late or
        unguaranteed transit, opening the load for anything else."""
        kind = ControlKind.DOCUMENTARY
        for reason in reasons:
            needed = ControlKind.PHYSICAL
            if reason in DOCUMENTARY_REASONS:
                needed = ControlKind.DOCUMENTARY
            elif reason.startswith(RISK_PREFIX):
                rule = self.rules.get(country, {}).get(reason.removeprefix(RISK_PREFIX))
                if rule is not None and rule.required_control is not None:
                    needed = rule.required_control
            kind = max(kind, needed, key=lambda k: k.strength)
        return kind

    def _report_seal_broken(self, mrn: Mrn, seals: tuple[str, ...]) -> tuple[str, ...]:
        new_seals = tuple(f"CR{self._next_serial('CR'):07d}" for _ in seals)
        handlers.report_incident(
            ReportIncident(
                actor=CARRIER,
                mrn=mrn,
                office=None,
                kind=IncidentKind.SEAL_BROKEN,
                description=f"Seal {seals[0]} found broken at a rest stop; load resealed with carrier seals",
                seals=new_seals,
            ),
            uow=self.services.uow(),
            clock=self.clock,
            places=self.services.places,
        )
        self.tally.incidents += 1
        return new_seals

    def _travel(self, origin: str, to: str, *, by_rail: bool) -> timedelta:
        """Time from one office to the next: across a border's neutral strip or the Caspian, or a drive
        estimated from the offices' coordinates (a few hours when they are not known)."""
        rng = self.rng
        crossing = self.reference.crossing_between(origin, to)
        if crossing is not None:
            return _minutes(rng, 14 * 60, 30 * 60) if crossing.mode == "sea" else _minutes(rng, 10, 45)
        a, b = self.reference.offices[origin], self.reference.offices[to]
        if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
            hours = rng.uniform(3, 10)
        else:
            km = _great_circle_km(a.lat, a.lon, b.lat, b.lon) * ROAD_FACTOR
            hours = km / SPEED_KMH["rail" if by_rail else "road"] * rng.uniform(0.9, 1.3)
        queue = rng.uniform(10, 240)  # waiting in line at the office
        return timedelta(minutes=round(max(30.0, hours * 60) + queue))

    def _new_seals(self, country: str) -> tuple[str, ...]:
        return tuple(f"{country}{self._next_serial(country):07d}" for _ in range(self.rng.randint(1, 3)))

    def _next_serial(self, series: str) -> int:
        serial = self._seal_serial.get(series) or self.rng.randint(100_000, 4_000_000)
        self._seal_serial[series] = serial + 1
        return serial

    def _country(self, office: str) -> str:
        return self.reference.offices[office].country

    def _customs(self, office: str) -> Actor:
        country = self._country(office)
        return Actor(username=f"customs-{country.lower()}", role=Role.CUSTOMS, country=country)


# --- the run ------------------------------------------------------------------------------------

Journey = Iterator[timedelta]
"""One simulated party's way through the service: each step is handler calls at the clock's time, and
yields how long to wait before the next step; it ends by returning."""

DEPARTURES_EVERY: tuple[float, float] = (3, 30)
"""Minutes between two departures, drawn uniformly: a busy region's steady flow."""


def drive(
    clock: FixedClock,
    starts: Iterable[tuple[datetime, Journey]],
    *,
    until: datetime | None = None,
    on_done: Callable[[], None] = lambda: None,
) -> datetime:
    """Run journeys together in time order, moving `clock` to each step; returns the time of the last step.

    Steps fall in the order of their times (ties in the order the journeys were given, then scheduled), so
    a run is as reproducible as its journeys. With `until`, no step at or after it runs: journeys then
    stand where they are, as real traffic does at any moment, and those not yet started never start.
    `on_done` is called as each journey ends.
    """
    order = itertools.count()
    queue: list[tuple[datetime, int, Journey]] = [(at, next(order), journey) for at, journey in starts]
    heapq.heapify(queue)
    end = clock.now()
    while queue:
        at, _, journey = heapq.heappop(queue)
        if until is not None and at >= until:
            break
        clock.advance(microseconds=(at - clock.now()) // timedelta(microseconds=1))
        end = at
        wait = next(journey, None)
        if wait is None:
            on_done()
        else:
            heapq.heappush(queue, (at + wait, next(order), journey))
    return end


class TransitTraffic:
    """Simulated transits ready to run: their journeys (for `drive`) and, once run, their summary."""

    def __init__(
        self,
        services: Services,
        clock: FixedClock,
        *,
        transits: int,
        seed: int,
        departures_every: tuple[float, float] = DEPARTURES_EVERY,
    ) -> None:
        if transits < 1:
            raise ValueError("simulate at least one transit")
        check_catalogue(services.reference)
        self.seed = seed
        self.start = clock.now()
        rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not cryptography
        self._traffic = _Traffic(services, clock, rng, _ensure_guarantee(services, clock, seed))
        with_incident = set(rng.sample(range(transits), round(INCIDENT_SHARE * transits)))
        self.journeys: list[tuple[datetime, Journey]] = []
        departure = self.start
        for index in range(transits):
            incident = None
            if index in with_incident:
                incident = _Incident(position=rng.random(), reported=rng.random() < 0.5)
            self.journeys.append((departure, self._traffic.journey(incident)))
            departure += _minutes(rng, *departures_every)

    def summary(self, end: datetime) -> SimulationSummary:
        """What the journeys did up to `end`, the time of the run's last step."""
        tally = self._traffic.tally
        return SimulationSummary(
            seed=self.seed,
            submitted=len(tally.mrns),
            released=tally.released,
            refused=tally.refused,
            discharged=tally.discharged,
            under_way=len(tally.mrns) - tally.discharged - tally.refused,
            controls_at_departure=tally.controls_at_departure,
            presentations=tally.presentations,
            inspections_decided=tally.inspections,
            inspections_by_reason=tuple(sorted(tally.reasons.items())),
            controls_en_route=tally.controls_en_route,
            inspections_avoided=tally.green,
            incidents_reported=tally.incidents,
            wrong_seals_presented=tally.wrong_seals,
            simulated_time=end - self.start,
            mrns=tuple(tally.mrns),
        )


def simulate(
    services: Services,
    *,
    transits: int,
    seed: int,
    on_done: Callable[[], None] = lambda: None,
    departures_every: tuple[float, float] = DEPARTURES_EVERY,
    until: datetime | None = None,
) -> SimulationSummary:
    """Drive `transits` transits through the handlers and summarise them; `on_done` is called as each ends.

    Departures are `departures_every` minutes apart from `services.clock.now()`; the simulation's own
    guarantee ``GRN-SIM-<seed>`` is registered for the demo carrier first if missing (`load_demo` must have
    run). With `until`, the run stops there (see `drive`): transits not yet ended are `under_way`, and those
    not yet departed are never lodged. A `DomainError` from a handler is a bug in the simulation and
    propagates; refusals at departure are modelled as unsatisfactory departure controls. Raises `ValueError`
    when `transits` is below 1.
    """
    clock = FixedClock(services.clock.now())
    traffic = TransitTraffic(services, clock, transits=transits, seed=seed, departures_every=departures_every)
    end = drive(clock, traffic.journeys, until=until, on_done=on_done)
    log.info("simulated %d transits with seed %d", transits, seed)
    return traffic.summary(end)


def _ensure_guarantee(services: Services, clock: FixedClock, seed: int) -> str:
    reference = f"GRN-SIM-{seed}"[:40]
    with services.uow() as uow:
        if uow.guarantees.get(reference) is not None:
            return reference
    handlers.register_guarantee(
        RegisterGuarantee(
            actor=GUARANTEE_ADMIN,
            reference=reference,
            holder=CARRIER.username,
            cover=GUARANTEE_COVER,
            valid_until=clock.now() + GUARANTEE_VALIDITY,
        ),
        uow=services.uow(),
        clock=clock,
        places=services.places,
    )
    return reference


# --- small pieces -------------------------------------------------------------------------------


def _weighted(rng: random.Random, table: tuple[tuple[T, float], ...]) -> T:
    return rng.choices([value for value, _ in table], weights=[weight for _, weight in table])[0]


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=round(rng.uniform(low, high)))


def _report(kind: ControlKind, *, satisfactory: bool, note: str = "") -> ControlReport:
    outcome = ControlOutcome.SATISFACTORY if satisfactory else ControlOutcome.UNSATISFACTORY
    return ControlReport(kind=kind, outcome=outcome, note=note[:500])


def _misread(rng: random.Random, seals: tuple[str, ...]) -> tuple[str, ...]:
    """The seals with one digit of one number wrong (the hundreds: never another seal of the set)."""
    index = rng.randrange(len(seals))
    seal = seals[index]
    digit = (int(seal[-3]) + rng.randint(1, 9)) % 10
    return (*seals[:index], f"{seal[:-3]}{digit}{seal[-2:]}", *seals[index + 1 :])


def _great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))

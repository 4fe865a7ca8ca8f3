"""A year of transits, as the transit handlers would have recorded them.

Each transit is driven through the domain's own aggregate (`silkway.transit.lifecycle.Transit`): lodged,
released (or refused, or cancelled), presented at each office of its route with the inspect-once decision
the aggregate takes against the states' risk rules, controlled where it decides so, passed, arrived and
discharged. Routes, goods and timings come from the simulation the demo uses (`silkway.simulation`): its
route network over real crossing points, its trades and its travel times. Besides the international routes,
most transits are national, as most transit declarations are: goods that entered at an outer border post
or a Caspian port moving under customs control to an inland office, or between two inland offices.

Every event becomes the signed record `SqlTransitRepository.save` would write (same subject, sequence,
chain, office and actor), and the rows beside it are the repository's: `transits`, `transit_offices` and
`transit_events`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from stdnum import iso6346

from bench.traffic_records import Recorder, Signer, Table
from silkway.places.model import OfficeKind
from silkway.places.reference import ReferenceData
from silkway.shared.money import Money
from silkway.shared.mrn import Mrn
from silkway.signing.merkle import leaf_hash
from silkway.simulation import (
    BORDER_PACE,
    CONTAINER_CAPACITY_KG,
    CONTAINER_OWNERS,
    DEPARTURE_CONTROLS,
    GUARANTEE_MINIMUM,
    GUARANTEE_SHARE,
    RAIL_SHARE,
    RELEASE_MINUTES,
    TRUCK_CAPACITY_KG,
    RouteNetwork,
    draw_goods,
)
from silkway.transit.events import ArrivalRecorded, TransitEvent, VehiclePresented
from silkway.transit.lifecycle import Transit
from silkway.transit.model import (
    Container,
    ControlKind,
    ControlOutcome,
    ControlResult,
    Decision,
    Declaration,
    GuaranteeCommitment,
    IncidentKind,
    Itinerary,
    Vehicle,
)
from silkway.transit.risk import RiskRule

NATIONAL_SHARE = 0.6
"""Transits that start and end in one state (from an outer border post or port inland, or inland to inland)."""
CANCEL_RATE = 0.01
REFUSAL_RATE = 0.03
INCIDENT_RATE = 0.02
CONTAINER_ON_TRUCK_SHARE = 0.35
LORRIES_PER_CARRIER = 30
DAYS_BASE, DAYS_PER_BORDER = 8, 4
"""The time limit the handler sets when the officer gives none (`release_for_transit`)."""

TRANSIT_COLUMNS = (
    ("mrn", "varchar"),
    ("status", "varchar"),
    ("holder", "varchar"),
    ("departure_office", "varchar"),
    ("destination_office", "varchar"),
    ("plate", "varchar"),
    ("guarantee_reference", "varchar"),
    ("guarantee_amount", "numeric"),
    ("version", "int4"),
    ("submitted_at", "timestamptz"),
    ("updated_at", "timestamptz"),
)
OFFICE_COLUMNS = (("mrn", "varchar"), ("position", "int4"), ("office", "varchar"), ("country", "varchar"))
EVENT_COLUMNS = (
    ("mrn", "varchar"),
    ("seq", "int4"),
    ("type", "varchar"),
    ("office", "varchar"),
    ("actor", "varchar"),
    ("at", "timestamptz"),
    ("canonical", "bytea"),
    ("signature", "bytea"),
    ("key_id", "varchar"),
    ("hash", "varchar"),
    ("decision", "varchar"),
    ("log_index", "int8"),
)


@dataclass(frozen=True, slots=True)
class Carrier:
    """A holder of transit declarations, with its guarantee and its lorries."""

    username: str
    country: str
    guarantee: str
    plates: tuple[str, ...]


def carriers(rng: random.Random, reference: ReferenceData, count: int) -> list[Carrier]:
    """`count` carriers of the member states (weighted as departures are), each with a fleet of lorries."""
    states = list(reference.member_states)
    weights = [{"KZ": 3.0, "UZ": 3.0, "KG": 2.0, "TJ": 1.5}.get(s, 1.0) for s in states]
    out = []
    for i in range(count):
        country = rng.choices(states, weights=weights)[0]
        plates = tuple(
            f"{rng.randint(100, 999)} {''.join(rng.choices('ABCDEFHKLMNPTXYZ', k=3))} {rng.randint(1, 18):02d}"
            for _ in range(LORRIES_PER_CARRIER)
        )
        out.append(Carrier(f"carrier-{country.lower()}-{i:05d}", country, f"GRN-{country}-{i:06d}", plates))
    return out


class TransitTraffic:
    """The journeys of the year's transits and the rows they leave, for one worker's event loop."""

    def __init__(
        self,
        *,
        rng: random.Random,
        reference: ReferenceData,
        rules: dict[str, list[RiskRule]],
        fleet: list[Carrier],
        signer: Signer,
        tables: dict[str, Table],
        record: Recorder,
    ) -> None:
        self.rng = rng
        self.reference = reference
        self.rules = rules
        self.fleet = fleet
        self.signer = signer
        self.tables = tables
        self.record = record
        self.network = RouteNetwork(reference)
        self.serials: dict[tuple[str, int], int] = {}
        self.open: dict[str, Transit] = {}
        self.statuses: dict[str, int] = {}
        members = set(reference.member_states)
        self.entry_points = [
            o.code
            for o in reference.offices.values()
            if o.country in members
            and (
                o.kind is OfficeKind.SEAPORT
                or (
                    o.kind is OfficeKind.BORDER
                    and any(
                        not reference.is_member(reference.offices[side].country)
                        for crossing in o.crossings
                        for side in reference.crossings[crossing].offices
                    )
                )
            )
        ]
        self.inland = {cc: [o.code for o in reference.offices_of(cc, OfficeKind.INLAND)] for cc in members}
        self._seal = rng.randint(100_000, 4_000_000)

    # --- one transit ------------------------------------------------------------------------------

    def journey(self, start: datetime) -> Iterator[datetime]:
        """One transit from lodging on: each step acts at the time the previous one yielded."""
        rng = self.rng
        carrier = rng.choice(self.fleet)
        national = rng.random() < NATIONAL_SHARE
        by_rail = not national and rng.random() < RAIL_SHARE
        itinerary = self._national_route() if national else self.network.draw(rng, by_rail=by_rail)
        declaration = self._declaration(carrier, itinerary, by_rail=by_rail)
        departure = itinerary.departure
        country = self.reference.offices[departure].country
        serial = self.serials.get((country, start.year), 0) + 1
        self.serials[(country, start.year)] = serial
        mrn = Mrn.issue(year=start.year, country=country, serial=serial)
        transit = Transit.submit(mrn=mrn, declaration=declaration, at=start, actor=carrier.username)
        self.open[mrn] = transit
        for position, office in enumerate(itinerary.offices):
            self.tables["transit_offices"].write((mrn, position, office, self.reference.offices[office].country))
        head = self._store(transit, None)
        at = start

        if rng.random() < CANCEL_RATE:
            at += _minutes(rng, 10, 120)
            yield at
            transit.cancel(reason="Consignment withdrawn by the holder before release", at=at, actor=carrier.username)
            head = self._store(transit, head)
            self._close(transit)
            return
        kind = self._departure_control()
        at += _minutes(rng, *RELEASE_MINUTES[kind])
        yield at
        customs = _customs(country)
        if rng.random() < REFUSAL_RATE:
            refusal = ControlResult(
                office=departure,
                kind=ControlKind.PHYSICAL,
                outcome=ControlOutcome.UNSATISFACTORY,
                note="goods not as declared",
            )
            transit.release(office=departure, seals=(), control=refusal, time_limit=at, at=at, actor=customs)
            head = self._store(transit, head)
            self._close(transit)
            return
        seals = self._seals(country)
        control = None if kind is None else ControlResult(office=departure, kind=kind, outcome=_OK, seals=seals)
        borders = len(itinerary.border_offices) // 2
        limit = at + timedelta(days=DAYS_BASE + DAYS_PER_BORDER * borders)
        transit.release(office=departure, seals=seals, control=control, time_limit=limit, at=at, actor=customs)
        head = self._store(transit, head)

        incident_at = rng.randrange(len(itinerary.offices) - 1) if rng.random() < INCIDENT_RATE else -1
        previous = departure
        for index, office in enumerate(itinerary.offices[1:]):
            travel = self._travel(previous, office, by_rail=by_rail)
            if index == incident_at:
                yield at + travel / 2
                new_seals = tuple(f"CR{self._next_seal():07d}" for _ in seals)
                transit.report_incident(
                    office=None,
                    kind=IncidentKind.SEAL_BROKEN,
                    description=f"Seal {seals[0]} found broken at a rest stop; load resealed with carrier seals",
                    seals=new_seals,
                    at=at + travel / 2,
                    actor=carrier.username,
                )
                seals = new_seals
                head = self._store(transit, head)
            at += travel
            yield at
            office_country = self.reference.offices[office].country
            customs = _customs(office_country)
            destination = office == itinerary.destination
            rules = self.rules.get(office_country, [])
            if destination:
                decision = transit.record_arrival(
                    office=office, seals=seals, rules=rules, guarantee_valid=True, at=at, actor=customs
                )
            else:
                decision = transit.present(
                    office=office, seals=seals, rules=rules, guarantee_valid=True, at=at, actor=customs
                )
            head = self._store(transit, head)
            if decision.decision is Decision.INSPECT:
                at += _minutes(rng, 30, 150)
                yield at
                opened = any(not r.startswith(("overdue", "guarantee")) for r in decision.reasons)
                new_seals = self._seals(office_country) if opened else ()
                transit.record_control(
                    control=ControlResult(
                        office=office,
                        kind=ControlKind.PHYSICAL if opened else ControlKind.DOCUMENTARY,
                        outcome=_OK,
                        seals=new_seals,
                        note="inspected for: " + ", ".join(decision.reasons),
                    ),
                    at=at,
                    actor=customs,
                )
                seals = new_seals or seals
                head = self._store(transit, head)
            if destination:
                at += _minutes(rng, 15, 90)
                yield at
                transit.discharge(office=office, at=at, actor=customs)
            else:
                pace = BORDER_PACE.get(office, 1.0)
                at += _minutes(rng, 5 * pace, 30 * pace)
                yield at
                transit.record_passage(office=office, at=at, actor=customs)
            head = self._store(transit, head)
            previous = office
        self._close(transit)

    def _store(self, transit: Transit, prev: str | None) -> str | None:
        """Sign and queue the transit's new events, as `SqlTransitRepository.save` does; returns the new head."""
        subject = f"transit:{transit.mrn}"
        departure = transit.declaration.itinerary.departure
        for seq, event in enumerate(transit.pending_events, start=transit.version + 1):
            office = event.office or departure
            signed = self.signer.sign(
                type=event.type,
                subject=subject,
                seq=seq,
                prev=prev,
                at=event.at,
                office=office,
                actor=event.actor,
                body=event.body(),
            )
            self.record(
                event.at,
                leaf_hash(signed.canonical),
                "transit",
                transit.mrn,
                seq,
                "transit_events",
                (
                    transit.mrn,
                    seq,
                    event.type,
                    office,
                    event.actor,
                    event.at,
                    signed.canonical,
                    signed.signature,
                    signed.key_id,
                    signed.hash,
                    _decision(event),
                ),
            )
            prev = signed.hash
        transit.version = len(transit.events)
        return prev

    def _close(self, transit: Transit) -> None:
        self.open.pop(transit.mrn, None)
        self._write_transit(transit)

    def finish(self) -> None:
        """The year ends: write the projection of every transit still under way."""
        for transit in list(self.open.values()):
            self._write_transit(transit)
        self.open.clear()

    def _write_transit(self, transit: Transit) -> None:
        d = transit.declaration
        self.statuses[transit.status.value] = self.statuses.get(transit.status.value, 0) + 1
        self.tables["transits"].write(
            (
                transit.mrn,
                transit.status.value,
                d.holder,
                d.itinerary.departure,
                d.itinerary.destination,
                None if d.vehicle is None else d.vehicle.plate,
                d.guarantee.reference,
                d.guarantee.amount.amount,
                transit.version,
                transit.events[0].at,
                transit.events[-1].at,
            )
        )

    # --- what a transit is made of ----------------------------------------------------------------

    def _national_route(self) -> Itinerary:
        rng = self.rng
        if rng.random() < 0.6:
            departure = rng.choice(self.entry_points)
            country = self.reference.offices[departure].country
            return Itinerary(offices=(departure, rng.choice(self.inland[country])))
        country = rng.choice([cc for cc, offices in self.inland.items() if len(offices) > 1])
        first, second = rng.sample(self.inland[country], 2)
        return Itinerary(offices=(first, second))

    def _declaration(self, carrier: Carrier, itinerary: Itinerary, *, by_rail: bool) -> Declaration:
        rng = self.rng
        if by_rail:
            vehicle = None
            containers = tuple(self._container() for _ in range(rng.randint(1, 3)))
        else:
            vehicle = Vehicle(plate=rng.choice(carrier.plates), country=carrier.country)
            containers = (self._container(),) if rng.random() < CONTAINER_ON_TRUCK_SHARE else ()
        goods = draw_goods(rng, CONTAINER_CAPACITY_KG * len(containers) if by_rail else TRUCK_CAPACITY_KG)
        at_risk = sum((g.value.amount for g in goods), Decimal(0)) * GUARANTEE_SHARE
        amount = max(GUARANTEE_MINIMUM, at_risk.quantize(Decimal("0.01")))
        return Declaration(
            holder=carrier.username,
            vehicle=vehicle,
            containers=containers,
            itinerary=itinerary,
            goods=goods,
            guarantee=GuaranteeCommitment(reference=carrier.guarantee, amount=Money(amount=amount, currency="USD")),
        )

    def _container(self) -> Container:
        body = f"{self.rng.choice(CONTAINER_OWNERS)}{self.rng.randint(0, 999_999):06d}"
        return Container(number=body + str(iso6346.calc_check_digit(body)))

    def _departure_control(self) -> ControlKind | None:
        if self.rng.random() < 0.05:
            return None
        kinds = [kind for kind, _ in DEPARTURE_CONTROLS]
        return self.rng.choices(kinds, weights=[w for _, w in DEPARTURE_CONTROLS])[0]

    def _seals(self, country: str) -> tuple[str, ...]:
        return tuple(f"{country}{self._next_seal():07d}" for _ in range(self.rng.randint(1, 3)))

    def _next_seal(self) -> int:
        self._seal += 1
        return self._seal

    def _travel(self, origin: str, to: str, *, by_rail: bool) -> timedelta:
        """Across a border's neutral strip or the Caspian, or a drive between offices with a queue at the end."""
        rng = self.rng
        crossing = self.reference.crossing_between(origin, to)
        if crossing is not None:
            return _minutes(rng, 14 * 60, 30 * 60) if crossing.mode == "sea" else _minutes(rng, 10, 45)
        hours = rng.uniform(3, 30) if by_rail else rng.uniform(2, 20)
        return timedelta(minutes=round(hours * 60 + rng.uniform(10, 240)))


_OK = ControlOutcome.SATISFACTORY


def _customs(country: str) -> str:
    return f"customs-{country.lower()}"


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=round(rng.uniform(low, high)))


def _decision(event: TransitEvent) -> str | None:
    """As `SqlTransitRepository` keeps it beside the record, for statistics."""
    if isinstance(event, VehiclePresented | ArrivalRecorded):
        return event.decision.decision.value
    return None

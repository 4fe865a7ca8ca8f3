"""Read-only queries for pages and the API. They never write and never lock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import Engine, Exists, Select, func, or_, select
from sqlalchemy.orm import Session

from silkway.accounts.model import Account
from silkway.shared.actors import Actor, Role
from silkway.shared.errors import ConcurrentUpdate
from silkway.shared.idempotency import StoredResponse
from silkway.shared.mrn import Mrn
from silkway.signing.records import SignedRecord
from silkway.storage.engine import snapshot
from silkway.storage.repositories import (
    SqlAccountRepository,
    SqlIdempotencyRecords,
    SqlRiskRuleRepository,
    SqlTransitRepository,
)
from silkway.storage.repositories import _check_integrity as check_integrity
from silkway.storage.repositories import _event as event_of
from silkway.storage.tables import GuaranteeRow, TransitEventRow, TransitOfficeRow, TransitRow
from silkway.storage.trust import LoggedRecord
from silkway.transit.lifecycle import Transit
from silkway.transit.model import TransitStatus
from silkway.transit.ports import Places
from silkway.transit.risk import RiskRule


@dataclass(frozen=True, slots=True, kw_only=True)
class TransitSummary:
    mrn: str
    status: str
    holder: str
    departure_office: str
    destination_office: str
    plate: str | None
    submitted_at: datetime
    updated_at: datetime


T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CountryStatistics:
    country: str
    transits_by_status: dict[str, int]
    presentations: int
    inspections_decided: int
    inspections_avoided: int
    controls_recorded: int


@dataclass(frozen=True, slots=True, kw_only=True)
class GuaranteeBalance:
    reference: str
    holder: str
    cover: str
    currency: str
    committed: str
    valid_until: datetime
    revoked: bool


_AT_OFFICE = ("presented", "arrived", "exited", "entered")
"""Event types that mean the vehicle has reached an office."""


def _event_at(office: str, types: tuple[str, ...]) -> Exists:
    """Whether the transit of the enclosing query has an event of `types` at `office`. Asked of each candidate
    transit through its own events (the `(mrn, seq)` key), not by collecting every transit ever seen at the
    office, which at a busy post is a year of traffic at each call."""
    return (
        select(TransitEventRow.id)
        .where(TransitEventRow.mrn == TransitRow.mrn, TransitEventRow.office == office, TransitEventRow.type.in_(types))
        .exists()
    )


def _replayed(session: Session, mrns: Sequence[str]) -> dict[str, Transit]:
    """The transits of a page, read as `SqlTransitRepository.get` reads one (the same integrity check, replay
    and version check), but all in two queries instead of two per transit."""
    if not mrns:
        return {}
    versions = dict(session.execute(select(TransitRow.mrn, TransitRow.version).where(TransitRow.mrn.in_(mrns))).all())
    rows = session.scalars(
        select(TransitEventRow).where(TransitEventRow.mrn.in_(mrns)).order_by(TransitEventRow.mrn, TransitEventRow.seq)
    ).all()
    events: dict[str, list[TransitEventRow]] = {}
    for row in rows:
        events.setdefault(row.mrn, []).append(row)
    found = {}
    for mrn, version in versions.items():
        stored = events.get(mrn, [])
        records = [SignedRecord(canonical=row.canonical, signature=row.signature) for row in stored]
        check_integrity(mrn, stored, records)
        transit = Transit.replay(Mrn(mrn), [event_of(row, record) for row, record in zip(stored, records, strict=True)])
        if transit.version != version:
            raise ConcurrentUpdate(f"transit {mrn} changed while it was read; retry")
        found[mrn] = transit
    return found


def _bare_plate(plate: str) -> str:
    return "".join(plate.upper().split()).replace("-", "")


def _summary(r: TransitRow) -> TransitSummary:
    return TransitSummary(
        mrn=r.mrn,
        status=r.status,
        holder=r.holder,
        departure_office=r.departure_office,
        destination_office=r.destination_office,
        plate=r.plate,
        submitted_at=r.submitted_at,
        updated_at=r.updated_at,
    )


class Queries:
    """Every read the entrypoints need, each in its own short read-only transaction."""

    def __init__(self, engine: Engine, places: Places) -> None:
        self._engine = engine
        self._reading = snapshot(engine)  # derived once: see storage.engine.snapshot
        self._places = places

    def _session(self) -> Session:
        return Session(self._reading)

    def transit(self, mrn: Mrn) -> Transit | None:
        with self._session() as session:
            return SqlTransitRepository(session, self._places).get(mrn, for_update=False)

    def transits(
        self,
        actor: Actor,
        *,
        status: str | None = None,
        office: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[TransitSummary]:
        """The transits `actor` may see, newest first: a carrier its own; customs and admins those whose
        route touches their state; nobody else any."""
        query = select(TransitRow)
        if actor.role is Role.CARRIER:
            query = query.where(TransitRow.holder == actor.username)
        elif actor.role in (Role.CUSTOMS, Role.ADMIN):
            touching = select(TransitOfficeRow.mrn).where(TransitOfficeRow.country == actor.country)
            query = query.where(TransitRow.mrn.in_(touching))
        else:
            return Page(items=[], total=0, limit=limit, offset=offset)
        if status:
            query = query.where(TransitRow.status == status)
        if office:
            query = query.where(
                TransitRow.mrn.in_(select(TransitOfficeRow.mrn).where(TransitOfficeRow.office == office))
            )
        with self._session() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.order_by(TransitRow.submitted_at.desc(), TransitRow.mrn.desc()).limit(limit).offset(offset)
            ).all()
            items = [_summary(r) for r in rows]
        return Page(items=items, total=total, limit=limit, offset=offset)

    def transits_with_plate(self, actor: Actor, plate: str, *, limit: int = 20) -> list[TransitSummary]:
        """The transits `actor` may see (as in `transits`) of the vehicle with this registration plate, newest
        first; spaces and dashes are ignored, so "123 ABC-02" finds "123ABC02"."""
        wanted = _bare_plate(plate)
        if not wanted:
            return []
        query = select(TransitRow).where(TransitRow.plate_key == wanted)  # the bare plate, kept by the database
        if actor.role is Role.CARRIER:
            query = query.where(TransitRow.holder == actor.username)
        elif actor.role in (Role.CUSTOMS, Role.ADMIN):
            touching = select(TransitOfficeRow.mrn).where(TransitOfficeRow.country == actor.country)
            query = query.where(TransitRow.mrn.in_(touching))
        else:
            return []
        with self._session() as session:
            rows = session.scalars(
                query.order_by(TransitRow.submitted_at.desc(), TransitRow.mrn.desc()).limit(limit)
            ).all()
            return [_summary(r) for r in rows]

    def expected_arrivals(self, office: str, *, limit: int = 50, offset: int = 0) -> Page[Transit]:
        """Pre-arrival information for `office`: released transits whose itinerary goes on through it and whose
        vehicle has not been presented, arrived or passed there yet; the earliest released first."""
        on_route = select(TransitOfficeRow.mrn).where(TransitOfficeRow.office == office, TransitOfficeRow.position > 0)
        query = select(TransitRow.mrn).where(
            TransitRow.status == TransitStatus.IN_TRANSIT.value,
            TransitRow.mrn.in_(on_route),
            ~_event_at(office, _AT_OFFICE),
        )
        return self._transit_page(query.order_by(TransitRow.updated_at, TransitRow.mrn), limit=limit, offset=offset)

    def standing_at(self, office: str, *, limit: int = 50) -> list[Transit]:
        """Transits with business still open at `office`: declarations awaiting release there (its office of
        departure), vehicles presented there and not yet passed, and arrivals there not yet discharged."""
        open_here = (TransitStatus.SUBMITTED.value, TransitStatus.IN_TRANSIT.value, TransitStatus.ARRIVED.value)
        query = select(TransitRow.mrn).where(
            TransitRow.status.in_(open_here),  # implied by the branches below; lets the status index choose
            or_(
                (TransitRow.status == TransitStatus.SUBMITTED.value) & (TransitRow.departure_office == office),
                (TransitRow.status == TransitStatus.IN_TRANSIT.value)
                & _event_at(office, ("presented", "arrived"))
                & ~_event_at(office, ("exited", "entered")),
                (TransitRow.status == TransitStatus.ARRIVED.value) & (TransitRow.destination_office == office),
            ),
        )
        ordered = query.order_by(TransitRow.updated_at, TransitRow.mrn)
        return list(self._transit_page(ordered, limit=limit, counted=False).items)

    def _transit_page(self, query: Select[str], *, limit: int, offset: int = 0, counted: bool = True) -> Page[Transit]:
        """A page of the transits `query` selects; `total` counts them all unless not `counted` (then it is the
        page's own length: the caller shows no page numbers, and counting would run the query twice)."""
        with self._session() as session, session.begin():
            mrns = list(session.scalars(query.limit(limit).offset(offset)).all())
            total = len(mrns)
            if counted:
                total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
            found = _replayed(session, mrns)
            items = [found[mrn] for mrn in mrns if mrn in found]
        return Page(items=items, total=total, limit=limit, offset=offset)

    def statistics(self, country: str) -> CountryStatistics:
        """Counts for one state: its transits by status and what happened at its offices."""
        with self._session() as session:
            touching = select(TransitOfficeRow.mrn).where(TransitOfficeRow.country == country)
            by_status = dict(
                session.execute(
                    select(TransitRow.status, func.count())
                    .where(TransitRow.mrn.in_(touching))
                    .group_by(TransitRow.status)
                ).all()
            )
            prefix = f"{country}-%"
            events = dict(
                session.execute(
                    select(TransitEventRow.type, func.count())
                    .where(TransitEventRow.office.like(prefix))
                    .group_by(TransitEventRow.type)
                ).all()
            )
            decisions = dict(
                session.execute(
                    select(TransitEventRow.decision, func.count())
                    .where(TransitEventRow.office.like(prefix), TransitEventRow.decision.is_not(None))
                    .group_by(TransitEventRow.decision)
                ).all()
            )
        return CountryStatistics(
            country=country,
            transits_by_status={str(k): int(v) for k, v in by_status.items()},
            presentations=sum(int(v) for v in decisions.values()),
            inspections_decided=int(decisions.get("inspect", 0)),
            inspections_avoided=int(decisions.get("green", 0)),
            controls_recorded=int(events.get("control_recorded", 0)),
        )

    def transit_with_records(self, mrn: Mrn) -> tuple[Transit, list[LoggedRecord]] | None:
        """A transit and its signed records, read in one transaction so they always agree."""
        with self._session() as session, session.begin():
            transit = SqlTransitRepository(session, self._places).get(mrn, for_update=False)
            if transit is None:
                return None
            return transit, self._records(session, mrn)

    def transit_records(self, mrn: Mrn) -> list[LoggedRecord]:
        """A transit's signed records, in order, with their place in the transparency log."""
        with self._session() as session:
            return self._records(session, mrn)

    @staticmethod
    def _records(session: Session, mrn: Mrn) -> list[LoggedRecord]:
        rows = session.execute(
            select(TransitEventRow.canonical, TransitEventRow.signature, TransitEventRow.log_index)
            .where(TransitEventRow.mrn == mrn)
            .order_by(TransitEventRow.seq)
        ).all()
        return [LoggedRecord(SignedRecord(canonical=r.canonical, signature=r.signature), r.log_index) for r in rows]

    def stored_response(self, owner: str, key: str) -> tuple[str, StoredResponse | None] | None:
        """The fingerprint and first answer of an Idempotency-Key, read without taking the write lock."""
        with self._session() as session:
            return SqlIdempotencyRecords(session).find(owner, key)

    def risk_rules(self, country: str) -> Sequence[RiskRule]:
        with self._session() as session:
            return SqlRiskRuleRepository(session).for_country(country)

    def accounts(self, country: str) -> Sequence[Account]:
        with self._session() as session:
            return SqlAccountRepository(session).of_country(country)

    def guarantees(self, holder: str | None = None) -> list[GuaranteeBalance]:
        with self._session() as session:
            query = select(GuaranteeRow).order_by(GuaranteeRow.reference)
            if holder is not None:
                query = query.where(GuaranteeRow.holder == holder)
            rows = session.scalars(query).all()
            repo = SqlTransitRepository(session, self._places)
            return [
                GuaranteeBalance(
                    reference=r.reference,
                    holder=r.holder,
                    cover=f"{r.cover_amount:.2f}",
                    currency=r.currency,
                    committed=f"{repo.committed(r.reference):.2f}",
                    valid_until=r.valid_until,
                    revoked=r.revoked,
                )
                for r in rows
            ]

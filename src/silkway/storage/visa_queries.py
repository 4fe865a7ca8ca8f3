"""Read-only queries of the visa domain for the API and pages. They never write and never lock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from silkway.signing.revocations import RevokedVisa
from silkway.storage.engine import snapshot
from silkway.storage.personal import PersonalData
from silkway.storage.tables import (
    VisaAlertRow,
    VisaApplicationRow,
    VisaConsultationRow,
    VisaCrossingRow,
    VisaRow,
)
from silkway.storage.visas import (
    SqlAlertRepository,
    SqlVisaRepository,
    StoredVisaRecord,
    application_subject,
    read_records,
)
from silkway.visas.application import VisaApplication
from silkway.visas.model import Alert, VisaStatus
from silkway.visas.ports import CrossingFact
from silkway.visas.scheme import Retention


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationSummary:
    id: str
    status: str
    competent_state: str
    nationality: str
    surname: str
    given_names: str
    arrive: date
    leave: date
    lodged_at: datetime
    consultation_until: datetime | None
    visa_number: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Overstayer:
    visa_number: str
    application_id: str
    nationality: str
    state: str
    office: str
    since: date
    latest_exit: date | None
    overstay_days: int
    left: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    visa_number: str
    status: str
    revoked_by: str
    revoked_at: datetime


class VisaQueries:
    def __init__(self, engine: Engine, personal: PersonalData, retention: Retention) -> None:
        self._engine = engine
        self._reading = snapshot(engine)  # derived once: see storage.engine.snapshot
        self._personal = personal
        self._retention = retention

    def _session(self) -> Session:
        return Session(self._reading)

    def _repository(self, session: Session) -> SqlVisaRepository:
        return SqlVisaRepository(session, personal=self._personal, retention=self._retention)

    def application(self, application_id: str) -> tuple[VisaApplication, str] | None:
        """The file and the digest of its status token, or None (also once purged)."""
        with self._session() as session:
            digest = session.scalar(
                select(VisaApplicationRow.token_digest).where(VisaApplicationRow.id == application_id)
            )
            if digest is None:
                return None
            file = self._repository(session).get(application_id, for_update=False)
            return None if file is None else (file, digest)

    def records(self, application_id: str) -> list[StoredVisaRecord]:
        with self._session() as session:
            return read_records(session, self._personal, application_subject(application_id))

    def retention_of(self, application_id: str) -> date | None:
        with self._session() as session:
            return session.scalar(select(VisaApplicationRow.purge_after).where(VisaApplicationRow.id == application_id))

    def visa(self, number: str) -> VisaApplication | None:
        with self._session() as session:
            return self._repository(session).by_number(number, for_update=False)

    def crossings_of(self, passport_number: str, nationality: str) -> Sequence[CrossingFact]:
        with self._session() as session:
            return self._repository(session).crossings_of(passport_number, nationality)

    def applications(
        self, state: str, *, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[ApplicationSummary], int]:
        """A state's applications, oldest waiting first."""
        with self._session() as session:
            where = [VisaApplicationRow.competent_state == state, VisaApplicationRow.purged_at.is_(None)]
            if status is not None:
                where.append(VisaApplicationRow.status == status)
            total = session.scalar(select(func.count()).select_from(VisaApplicationRow).where(*where)) or 0
            rows = session.scalars(
                select(VisaApplicationRow)
                .where(*where)
                .order_by(VisaApplicationRow.lodged_at)
                .limit(limit)
                .offset(offset)
            ).all()
            return [_summary(r) for r in rows], int(total)

    def consultations(self, state: str, now: datetime) -> list[ApplicationSummary]:
        """Applications this state was consulted on and has not answered while it still may."""
        with self._session() as session:
            rows = session.scalars(
                select(VisaApplicationRow)
                .join(VisaConsultationRow, VisaConsultationRow.application_id == VisaApplicationRow.id)
                .where(
                    VisaConsultationRow.state == state,
                    VisaConsultationRow.objection.is_(None),
                    VisaConsultationRow.until > now,
                    VisaApplicationRow.status == "lodged",
                )
                .order_by(VisaConsultationRow.until)
            ).all()
            return [_summary(r) for r in rows]

    def revoked(self) -> list[RevokedVisa]:
        """Every revoked or annulled visa still valid on paper, for the signed revocation list."""
        with self._session() as session:
            rows = session.execute(
                select(VisaRow.number, VisaRow.status, VisaRow.revoked_at, VisaRow.revoked_by, VisaRow.application_id)
                .where(VisaRow.status != VisaStatus.VALID.value)
                .order_by(VisaRow.number)
            ).all()
            out = []
            for r in rows:
                file = self._repository(session).get(r.application_id, for_update=False)
                grounds = () if file is None or file.visa is None else file.visa.revocation_grounds
                out.append(
                    RevokedVisa(number=r.number, status=r.status, at=r.revoked_at, state=r.revoked_by, grounds=grounds)
                )
            return out

    def notifications(self, state: str) -> list[Notification]:
        """Visas this state issued that another state revoked or annulled (Visa Code Art. 34(7))."""
        with self._session() as session:
            rows = session.execute(
                select(VisaRow.number, VisaRow.status, VisaRow.revoked_by, VisaRow.revoked_at)
                .where(
                    VisaRow.issuing_state == state,
                    VisaRow.status != VisaStatus.VALID.value,
                    VisaRow.revoked_by != state,
                )
                .order_by(VisaRow.revoked_at.desc())
            ).all()
            return [
                Notification(visa_number=r.number, status=r.status, revoked_by=r.revoked_by, revoked_at=r.revoked_at)
                for r in rows
            ]

    def overstayers(self, state: str, today: date) -> list[Overstayer]:
        """Travellers who left `state` after overstaying, and those still recorded in it past their latest exit.

        Both are picked out by the database: the exits flagged with an overstay, and each traveller's last
        crossing in the state (numbered per passport, newest first) where that is an entry whose latest exit
        has passed — rather than every crossing ever recorded in the state read into Python."""
        crossing = VisaCrossingRow
        in_state = (crossing.state == state, crossing.allowed.is_(True))
        newest = (
            select(
                crossing.id.label("id"),
                func.row_number()
                .over(partition_by=crossing.passport_lookup, order_by=(crossing.at.desc(), crossing.id.desc()))
                .label("newest"),
            )
            .join(VisaRow, VisaRow.number == crossing.visa_number)
            .where(*in_state)
            .subquery()
        )
        rows = select(crossing, VisaRow.nationality).join(VisaRow, VisaRow.number == crossing.visa_number)
        with self._session() as session:  # one snapshot for both (see storage.engine.snapshot)
            left = session.execute(
                rows.where(*in_state, crossing.direction == "exit", crossing.overstay_days > 0).order_by(
                    crossing.passport_lookup, crossing.at, crossing.id
                )
            ).all()
            staying = session.execute(
                rows.join(newest, newest.c.id == crossing.id)
                .where(
                    newest.c.newest == 1,
                    crossing.direction == "entry",
                    crossing.latest_exit.is_not(None),
                    crossing.latest_exit < today,
                )
                .order_by(crossing.passport_lookup)
            ).all()
            out = [_overstayer(c, nationality, left=True, days=c.overstay_days) for c, nationality in left]
            out += [
                _overstayer(c, nationality, left=False, days=(today - c.latest_exit).days)
                for c, nationality in staying
                if c.latest_exit is not None
            ]
        return sorted(out, key=lambda o: (-o.overstay_days, o.visa_number))

    def alerts(self, on: date) -> Sequence[Alert]:
        with self._session() as session:
            return SqlAlertRepository(session, self._personal).active(on)

    def alert_count(self) -> int:
        with self._session() as session:
            return int(session.scalar(select(func.count()).select_from(VisaAlertRow)) or 0)


def _summary(r: VisaApplicationRow) -> ApplicationSummary:
    return ApplicationSummary(
        id=r.id,
        status=r.status,
        competent_state=r.competent_state,
        nationality=r.nationality,
        surname=r.surname,
        given_names=r.given_names,
        arrive=r.arrive,
        leave=r.leave,
        lodged_at=r.lodged_at,
        consultation_until=r.consultation_until,
        visa_number=r.visa_number,
    )


def _overstayer(crossing: VisaCrossingRow, nationality: str, *, left: bool, days: int) -> Overstayer:
    return Overstayer(
        visa_number=crossing.visa_number,
        application_id=crossing.application_id,
        nationality=nationality,
        state=crossing.state,
        office=crossing.office,
        since=crossing.day,
        latest_exit=crossing.latest_exit,
        overstay_days=days,
        left=left,
    )

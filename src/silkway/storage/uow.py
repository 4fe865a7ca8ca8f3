"""The unit of work: one database transaction around one handler's work (cosmicpython's pattern)."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from silkway.shared.errors import ConcurrentUpdate, ServiceUnavailable
from silkway.signing.keys import Keyring
from silkway.storage.audit import SqlAuditTrail
from silkway.storage.engine import writer
from silkway.storage.exchange import SqlInbox, SqlOutbox, SqlPins
from silkway.storage.personal import PersonalData
from silkway.storage.repositories import (
    SqlAccountRepository,
    SqlGuaranteeRepository,
    SqlIdempotencyRecords,
    SqlRiskRuleRepository,
    SqlTransitRepository,
)
from silkway.storage.trust import SqlKeyStore, SqlLedger
from silkway.storage.visas import SqlAlertRepository, SqlVisaRepository
from silkway.transit.ports import Places
from silkway.visas.scheme import Retention


class SqlUnitOfWork:
    """A write transaction. `commit` is the only place anything becomes durable; leaving the `with` block
    without it rolls back. A unique-key clash at commit (two writers racing) becomes `ConcurrentUpdate`; a
    database that fails or goes away becomes `ServiceUnavailable`, or `StorageFull` when its disk is full."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        places: Places,
        keyring: Keyring,
        personal: PersonalData,
        retention: Retention,
        node_state: str = "KZ",
    ) -> None:
        self._factory = sessions
        self._places = places
        self._keyring = keyring
        self._personal = personal
        self._retention = retention
        self._node_state = node_state
        self._session: Session | None = None

    def __enter__(self) -> Self:
        session = self._factory()
        self._session = session
        self.ledger = SqlLedger(session, self._keyring)
        self.keys = SqlKeyStore(session)
        self.audit = SqlAuditTrail(session, self.ledger)
        self.outbox = SqlOutbox(session, self._node_state)
        self.pins = SqlPins(session)
        self.inbox = SqlInbox(session, self._personal)
        self.transits = SqlTransitRepository(session, self._places, self.ledger, self.outbox)
        self.guarantees = SqlGuaranteeRepository(session)
        self.risk_rules = SqlRiskRuleRepository(session)
        self.idempotency = SqlIdempotencyRecords(session)
        self.accounts = SqlAccountRepository(session)
        self.visas = SqlVisaRepository(
            session, personal=self._personal, retention=self._retention, ledger=self.ledger, outbox=self.outbox
        )
        self.alerts = SqlAlertRepository(session, self._personal, self.ledger, self.outbox)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            self._session.rollback()
            self._session.close()
            self._session = None
        if isinstance(exc, IntegrityError):
            raise ConcurrentUpdate("another request changed the same records at the same moment; retry") from exc
        if isinstance(exc, OperationalError):  # what the engine's error hook did not already name
            raise ServiceUnavailable("the database is unavailable; nothing was recorded") from exc

    def commit(self) -> None:
        if self._session is None:
            raise RuntimeError("commit outside the unit of work")
        self._session.commit()


def write_sessions(engine: Engine) -> sessionmaker[Session]:
    """The session factory units of work share: made once, since deriving the write engine costs a millisecond."""
    return sessionmaker(bind=writer(engine), expire_on_commit=False, autoflush=True)

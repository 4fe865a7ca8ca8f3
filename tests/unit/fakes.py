"""Hand-written fakes of the ports, so unit tests run the real handlers without a database.

Each fake repository keeps what was committed in `stored` and, inside a unit of work, writes to a
staging copy: `FakeUnitOfWork.commit` makes the staging copy the stored state, and leaving the `with`
block without committing throws it away — so a handler that raises leaves nothing recorded, as the
SQL unit of work does. Transits are stored as their events' records (type, at, actor, office, JSON body)
and rebuilt with `event_from_record` and `Transit.replay`, as storage does.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Generic, NamedTuple, Self, TypeVar

from silkway.accounts.model import Account
from silkway.shared.audit import AuditEvent
from silkway.shared.errors import ConcurrentUpdate
from silkway.shared.idempotency import IdempotencyKey, StoredResponse
from silkway.shared.mrn import Mrn
from silkway.transit.events import TransitEvent, event_from_record
from silkway.transit.lifecycle import CLOSED, Transit
from silkway.transit.model import Guarantee
from silkway.transit.risk import RiskRule

K = TypeVar("K")
V = TypeVar("V")


class _Staged(Generic[K, V]):
    """A committed mapping and, while a unit of work is open, the staging copy it writes to."""

    def __init__(self) -> None:
        self.stored: dict[K, V] = {}
        self._work: dict[K, V] | None = None

    def begin(self) -> None:
        self._work = dict(self.stored)

    def commit(self) -> None:
        self.stored.clear()
        self.stored.update(self._writable)

    def discard(self) -> None:
        self._work = None

    @property
    def _view(self) -> dict[K, V]:
        return self.stored if self._work is None else self._work

    @property
    def _writable(self) -> dict[K, V]:
        if self._work is None:
            raise RuntimeError("a write outside the unit of work")
        return self._work


class EventRecord(NamedTuple):
    """One stored event, in the form storage keeps it."""

    type: str
    at: datetime
    actor: str
    office: str | None
    body: str


def to_record(event: TransitEvent) -> EventRecord:
    # through JSON text, so a body that is not JSON-ready fails here as it would in a JSON column
    return EventRecord(event.type, event.at, event.actor, event.office, json.dumps(event.body()))


def from_record(record: EventRecord) -> TransitEvent:
    return event_from_record(
        record.type, at=record.at, actor=record.actor, office=record.office, body=json.loads(record.body)
    )


class FakeTransitRepository(_Staged[Mrn, tuple[EventRecord, ...]]):
    """Transits by MRN, as tuples of event records; the version is the number of stored events."""

    def __init__(self) -> None:
        super().__init__()
        self.serials = _Staged[tuple[str, int], int]()

    def begin(self) -> None:
        super().begin()
        self.serials.begin()

    def commit(self) -> None:
        super().commit()
        self.serials.commit()

    def discard(self) -> None:
        super().discard()
        self.serials.discard()

    def events(self, mrn: Mrn) -> list[TransitEvent]:
        """The committed events of a transit (empty when there is none)."""
        return [from_record(r) for r in self.stored.get(mrn, ())]

    def get(self, mrn: Mrn, *, for_update: bool = True) -> Transit | None:
        records = self._view.get(mrn)
        if records is None:
            return None
        return Transit.replay(mrn, [from_record(r) for r in records])

    def add(self, transit: Transit) -> None:
        if transit.mrn in self._view:
            raise ConcurrentUpdate(f"transit {transit.mrn} already exists")
        if transit.version != 0:
            raise ValueError("add takes a new transit")
        self._writable[transit.mrn] = ()
        self.save(transit)

    def save(self, transit: Transit) -> None:
        stored = self._view.get(transit.mrn)
        if stored is None:
            raise ValueError(f"save of unknown transit {transit.mrn}")
        if len(stored) != transit.version:
            raise ConcurrentUpdate(f"transit {transit.mrn} was changed by someone else; retry")
        pending = transit.pending_events
        self._writable[transit.mrn] = stored + tuple(to_record(e) for e in pending)
        transit.version += len(pending)

    def next_serial(self, country: str, year: int) -> int:
        serial = self.serials._view.get((country, year), 0) + 1
        self.serials._writable[(country, year)] = serial
        return serial

    def committed(self, guarantee: str) -> Decimal:
        total = Decimal(0)
        for mrn in self._view:
            transit = self.get(mrn)
            assert transit is not None
            if transit.status not in CLOSED and transit.declaration.guarantee.reference == guarantee:
                total += transit.declaration.guarantee.amount.amount
        return total


class FakeGuaranteeRepository(_Staged[str, Guarantee]):
    def get(self, reference: str, *, for_update: bool = False) -> Guarantee | None:
        return self._view.get(reference)

    def add(self, guarantee: Guarantee) -> None:
        if guarantee.reference in self._view:
            raise ConcurrentUpdate(f"guarantee {guarantee.reference} already exists")
        self._writable[guarantee.reference] = guarantee


class FakeRiskRuleRepository(_Staged[tuple[str, str], RiskRule]):
    def for_country(self, country: str) -> Sequence[RiskRule]:
        return [rule for (c, _), rule in sorted(self._view.items()) if c == country]

    def get(self, country: str, rule_id: str) -> RiskRule | None:
        return self._view.get((country, rule_id))

    def put(self, rule: RiskRule) -> None:
        self._writable[(rule.country, rule.id)] = rule

    def delete(self, country: str, rule_id: str) -> bool:
        return self._writable.pop((country, rule_id), None) is not None


class FakeIdempotencyRecords(_Staged[tuple[str, str], tuple[str, StoredResponse | None]]):
    def find(self, owner: str, key: str) -> tuple[str, StoredResponse | None] | None:
        return self._view.get((owner, key))

    def claim(self, claim: IdempotencyKey) -> None:
        if (claim.owner, claim.key) in self._view:
            raise ConcurrentUpdate(f"Idempotency-Key {claim.key!r} claimed twice")
        self._writable[(claim.owner, claim.key)] = (claim.fingerprint, None)

    def answer(self, owner: str, key: str, response: StoredResponse) -> None:
        fingerprint, _ = self._writable[(owner, key)]
        self._writable[(owner, key)] = (fingerprint, response)


class _FakeUnitOfWorkBase:
    """Opens every repository's staging copy on enter; commit keeps it, leaving discards it."""

    def __init__(self, *repositories: _Staged[Any, Any]) -> None:
        self._repositories = repositories
        self.committed = False
        self._open = False

    def __enter__(self) -> Self:
        if self._open:
            raise RuntimeError("the unit of work is already open")
        self._open = True
        self.committed = False
        for repository in self._repositories:
            repository.begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._open = False
        for repository in self._repositories:
            repository.discard()

    def commit(self) -> None:
        if not self._open:
            raise RuntimeError("commit outside the unit of work")
        for repository in self._repositories:
            repository.commit()
        self.committed = True


class FakeAuditTrail(_Staged[int, AuditEvent]):
    """The administrative events recorded, in order (kept only when the unit of work commits)."""

    def record(self, event: AuditEvent) -> None:
        self._writable[len(self._view)] = event

    @property
    def events(self) -> list[AuditEvent]:
        return [self.stored[i] for i in sorted(self.stored)]


class FakeUnitOfWork(_FakeUnitOfWorkBase):
    def __init__(self) -> None:
        self.transits = FakeTransitRepository()
        self.guarantees = FakeGuaranteeRepository()
        self.risk_rules = FakeRiskRuleRepository()
        self.idempotency = FakeIdempotencyRecords()
        self.audit = FakeAuditTrail()
        super().__init__(self.transits, self.guarantees, self.risk_rules, self.idempotency, self.audit)


class FakeAccountRepository(_Staged[str, Account]):
    """Accounts by username; hands out copies, since `Account` is mutable."""

    def get(self, username: str) -> Account | None:
        account = self._view.get(username)
        return None if account is None else dataclasses.replace(account)

    def add(self, account: Account) -> None:
        if account.username in self._view:
            raise ConcurrentUpdate(f"account {account.username} already exists")
        self._writable[account.username] = dataclasses.replace(account)

    def update(self, account: Account) -> None:
        if account.username not in self._view:
            raise ValueError(f"update of unknown account {account.username}")
        self._writable[account.username] = dataclasses.replace(account)

    def of_country(self, country: str) -> Sequence[Account]:
        return [dataclasses.replace(a) for _, a in sorted(self._view.items()) if a.country == country]


class FakeAccountsUnitOfWork(_FakeUnitOfWorkBase):
    def __init__(self) -> None:
        self.accounts = FakeAccountRepository()
        self.audit = FakeAuditTrail()
        super().__init__(self.accounts, self.audit)


class FakeHasher:
    """Reversible "hashing", and a record of the passwords burnt for unknown usernames."""

    def __init__(self) -> None:
        self.burnt: list[str] = []

    def hash(self, password: str) -> str:
        return f"fake${password[::-1]}"

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == self.hash(password)

    def burn(self, password: str) -> None:
        self.burnt.append(password)

"""What the transit service needs from the outside world, as protocols that adapters implement."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from types import TracebackType
from typing import Protocol, Self

from silkway.shared.audit import AuditTrail
from silkway.shared.idempotency import IdempotencyRecords
from silkway.shared.mrn import Mrn
from silkway.transit.lifecycle import Transit
from silkway.transit.model import Guarantee
from silkway.transit.risk import RiskRule


class Places(Protocol):
    """The reference data the transit rules consult."""

    def office_country(self, code: str) -> str | None:
        """The country of an office, or None when no such office exists."""
        ...

    def crossing_code(self, exit_office: str, entry_office: str) -> str | None:
        """The crossing point joining two offices (in either direction), or None."""
        ...

    def is_member(self, country: str) -> bool: ...

    def is_hs6(self, code: str) -> bool: ...

    def is_currency(self, code: str) -> bool: ...


class TransitRepository(Protocol):
    def get(self, mrn: Mrn, *, for_update: bool = True) -> Transit | None:
        """The transit with its events; `for_update` locks it until the unit of work ends."""
        ...

    def add(self, transit: Transit) -> None: ...

    def save(self, transit: Transit) -> None:
        """Append the pending events; raises `ConcurrentUpdate` if another writer stored events first."""
        ...

    def next_serial(self, country: str, year: int) -> int:
        """The next MRN serial for declarations lodged in `country` in `year`; never hands one out twice."""
        ...

    def committed(self, guarantee: str) -> Decimal:
        """The amount of `guarantee` committed to open transits."""
        ...


class GuaranteeRepository(Protocol):
    def get(self, reference: str, *, for_update: bool = False) -> Guarantee | None: ...

    def add(self, guarantee: Guarantee) -> None: ...


class RiskRuleRepository(Protocol):
    def for_country(self, country: str) -> Sequence[RiskRule]:
        """The active and inactive rules of one member state."""
        ...

    def get(self, country: str, rule_id: str) -> RiskRule | None: ...

    def put(self, rule: RiskRule) -> None:
        """Create or replace a rule."""
        ...

    def delete(self, country: str, rule_id: str) -> bool: ...


class UnitOfWork(Protocol):
    """One transaction: `commit` makes everything done inside it durable at once; leaving without
    committing rolls everything back."""

    @property
    def transits(self) -> TransitRepository: ...

    @property
    def guarantees(self) -> GuaranteeRepository: ...

    @property
    def risk_rules(self) -> RiskRuleRepository: ...

    @property
    def idempotency(self) -> IdempotencyRecords: ...

    @property
    def audit(self) -> AuditTrail: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

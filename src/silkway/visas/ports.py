"""What the visa service needs from the outside world, as protocols that adapters implement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, Self

from silkway.shared.idempotency import IdempotencyRecords
from silkway.visas.application import VisaApplication
from silkway.visas.model import Alert, Direction


class Countries(Protocol):
    """ISO 3166 and ICAO 9303 codes, and the border offices of the reference data."""

    def is_nationality(self, code: str) -> bool:
        """Whether `code` is an alpha-3 nationality code a passport can carry (ISO 3166 or ICAO's own)."""
        ...

    def border_post_country(self, office: str) -> str | None:
        """The country of a border office, seaport or airport where people cross; None for any other code."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossingFact:
    """One recorded crossing of a person, under any visa: what the stay rule counts."""

    at: datetime
    day: date
    state: str
    direction: Direction
    visa_number: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SealCheck:
    """What a scanned visa seal says and whether its signature holds (`problems` empty)."""

    visa_number: str | None
    passport_number: str | None
    signer_office: str | None
    problems: tuple[tuple[str, str], ...]


class SealChecker(Protocol):
    def check(self, payload: str, *, issued_at: datetime | None) -> SealCheck:
        """Decode `payload` and verify it against the trust list; never raises for a bad seal."""
        ...


class VisaRepository(Protocol):
    def get(self, application_id: str, *, for_update: bool = True) -> VisaApplication | None: ...

    def by_number(self, number: str, *, for_update: bool = True) -> VisaApplication | None: ...

    def add(self, file: VisaApplication, *, token_digest: str) -> None:
        """Store a new application; `token_digest` is the SHA-256 of its status token."""
        ...

    def save(self, file: VisaApplication) -> None:
        """Append the pending events; raises `ConcurrentUpdate` if another writer stored events first."""
        ...

    def next_number(self, state: str) -> str:
        """A new visa number of `state`, never handed out twice."""
        ...

    def crossings_of(self, passport_number: str, nationality: str) -> Sequence[CrossingFact]:
        """Every allowed crossing of the holder of this passport, under any visa, oldest first."""
        ...


class AlertRepository(Protocol):
    def add(self, alert: Alert) -> None: ...

    def active(self, on: date) -> Sequence[Alert]: ...


class UnitOfWork(Protocol):
    @property
    def visas(self) -> VisaRepository: ...

    @property
    def alerts(self) -> AlertRepository: ...

    @property
    def idempotency(self) -> IdempotencyRecords: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

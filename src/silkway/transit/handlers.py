"""The transit service: one handler per command. Each runs in one unit of work and commits once.

Rights are checked here, in the domain's terms: a carrier acts on its own declarations, a customs officer
only at offices of its own state, an admin only on its own state's rules. Handlers raise `DomainError`s;
nothing is stored when one is raised.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from silkway.shared.actors import Actor, Role
from silkway.shared.audit import AuditEvent
from silkway.shared.clock import Clock
from silkway.shared.errors import InvalidInput, NotPermitted
from silkway.shared.idempotency import check_claim
from silkway.shared.mrn import Mrn
from silkway.transit.commands import (
    CancelDeclaration,
    ControlReport,
    DeleteRiskRule,
    DischargeTransit,
    PresentVehicle,
    PutRiskRule,
    RecordArrival,
    RecordControl,
    RecordPassage,
    RefuseRelease,
    RegisterGuarantee,
    ReleaseForTransit,
    ReportIncident,
    SubmitDeclaration,
)
from silkway.transit.errors import (
    GuaranteeNotFound,
    GuaranteeOvercommitted,
    InvalidDeclaration,
    TransitNotFound,
)
from silkway.transit.events import TransitReleased
from silkway.transit.lifecycle import Transit
from silkway.transit.model import ControlResult, Guarantee, PresentationDecision, normalise_seals
from silkway.transit.ports import Places, UnitOfWork
from silkway.transit.risk import RiskRule
from silkway.transit.rules import check_declaration

DAYS_BASE = 3
DAYS_PER_BORDER = 2


def submit_declaration(cmd: SubmitDeclaration, *, uow: UnitOfWork, clock: Clock, places: Places) -> Mrn:
    """Lodge a declaration; returns its new MRN.

    Raises `NotPermitted` for anyone but a carrier lodging for itself, `InvalidDeclaration` /
    `IncoherentItinerary` for bad content, `GuaranteeNotFound`, and `GuaranteeOvercommitted` when the
    guarantee's cover minus what open transits commit is less than the amount.
    """
    _require_role(cmd.actor, Role.CARRIER, "lodge a declaration")
    declaration = cmd.declaration
    if declaration.holder != cmd.actor.username:
        raise NotPermitted("a carrier lodges declarations only in its own name", fields={"holder": "not you"})
    check_declaration(declaration, places)
    now = clock.now()
    with uow:
        check_claim(uow.idempotency, cmd.idempotency)
        commitment = declaration.guarantee
        guarantee = uow.guarantees.get(commitment.reference, for_update=True)
        if guarantee is None or guarantee.holder != declaration.holder:
            raise GuaranteeNotFound(
                f"no guarantee {commitment.reference!r} is held by {declaration.holder}",
                fields={"guarantee.reference": "unknown"},
            )
        if not guarantee.is_valid_at(now):
            raise InvalidDeclaration(
                f"guarantee {guarantee.reference} is revoked or expired",
                fields={"guarantee.reference": "invalid"},
            )
        if commitment.amount.currency != guarantee.cover.currency:
            raise InvalidDeclaration(
                f"guarantee {guarantee.reference} is given in {guarantee.cover.currency}",
                fields={"guarantee.currency": f"expected {guarantee.cover.currency}"},
            )
        available = guarantee.cover.amount - uow.transits.committed(guarantee.reference)
        if commitment.amount.amount > available:
            raise GuaranteeOvercommitted(
                f"guarantee {guarantee.reference} has {available:.2f} {guarantee.cover.currency} left "
                f"uncommitted; this declaration needs {commitment.amount}",
                fields={"guarantee.amount": "over the cover left"},
            )
        country = places.office_country(declaration.itinerary.departure)
        if country is None:  # check_declaration already refused unknown offices
            raise InvalidDeclaration("unknown office of departure")
        mrn = Mrn.issue(year=now.year, country=country, serial=uow.transits.next_serial(country, now.year))
        uow.transits.add(Transit.submit(mrn=mrn, declaration=declaration, at=now, actor=cmd.actor.username))
        uow.commit()
    return mrn


def release_for_transit(cmd: ReleaseForTransit, *, uow: UnitOfWork, clock: Clock, places: Places) -> None:
    """Release at the office of departure, with seals and the departure control.

    An unsatisfactory control refuses release instead. Raises `NotPermitted` unless the actor is a customs
    officer of the departure state, `WrongOffice` elsewhere than the office of departure.
    """
    seals = normalise_seals(cmd.seals)
    _require_customs_at(cmd.actor, cmd.office, places)
    now = clock.now()
    with uow:
        check_claim(uow.idempotency, cmd.idempotency)
        transit = _get(uow, cmd.mrn, cmd.actor)
        borders = len(transit.declaration.itinerary.border_offices) // 2
        limit = cmd.time_limit or now + timedelta(days=DAYS_BASE + DAYS_PER_BORDER * borders)
        transit.release(
            office=cmd.office,
            seals=seals,
            control=_control(cmd.office, cmd.control, seals),
            time_limit=_aware(limit),
            at=now,
            actor=cmd.actor.username,
        )
        uow.transits.save(transit)
        uow.commit()


def refuse_release(cmd: RefuseRelease, *, uow: UnitOfWork, clock: Clock, places: Places) -> None:
    """Refuse release at the office of departure; the guarantee commitment is freed.

    Raises `NotPermitted` unless the actor is customs of the departure state, `WrongOffice` elsewhere.
    """
    _require_customs_at(cmd.actor, cmd.office, places)
    with uow:
        check_claim(uow.idempotency, cmd.idempotency)
        transit = _get(uow, cmd.mrn, cmd.actor)
        transit.refuse(office=cmd.office, reason=_text(cmd.reason, "reason"), at=clock.now(), actor=cmd.actor.username)
        uow.transits.save(transit)
        uow.commit()


def cancel_declaration(cmd: CancelDeclaration, *, uow: UnitOfWork, clock: Clock, places: Places) -> None:
    """Cancel before release: by the holder, or by customs of the departure state."""
    with uow:
        check_claim(uow.idempotency, cmd.idempotency)
        transit = _get(uow, cmd.mrn, cmd.actor)
        if cmd.actor.role is Role.CUSTOMS:
            _require_customs_at(cmd.actor, transit.declaration.itinerary.departure, places)
        elif cmd.actor.role is not Role.CARRIER:
            raise NotPermitted("only the holder or customs of departure may cancel a declaration")
        transit.cancel(reason=_text(cmd.reason, "reason"), at=clock.now(), actor=cmd.actor.username)
        uow.transits.save(transit)
        uow.commit()


def present_vehicle(cmd: PresentVehicle, *, uow: UnitOfWork, clock: Clock, places: Places) -> PresentationDecision:
    """Present the vehicle at an office: green, or inspect with reasons (the inspect-once rule)."""
    seals = normalise_seals(cmd.seals)
    country = _require_customs_at(cmd.actor, cmd.office, places)
    now = clock.now()
    with uow:
        check_claim(uow.idempotency, cmd.idempotency)
        transit = _get(uow, cmd.mrn, cmd.actor)
        decision = transit.present(
            office=cmd.office,
            seals=seals,
            rules=uow.risk_rules.for_country(country),
            guarantee_valid=_guarantee_valid(uow, transit, now),
            at=now,
            actor=cmd.actor.username,
        )
        uow.transits.save(transit)
        uow.commit()
    return decision


def record_control(cmd: RecordControl, *, uow: UnitOfWork, clock: Clock, places: Places) -> None:
    """Record a control at an office; a satisfactory one is recognised by every later office."""
    seals = normalise_seals(cmd.seals)
    _require_customs_at(cmd.actor, cmd.office, places)
    with uow:
        check_claim(uow.idempotency, cmd.idempotency)
        transit = _get(uow, cmd.mrn, cmd.actor)
        control = ControlResult(
            office=cmd.office,
            kind=cmd.control.kind,
            outcome=cmd.control.outcome,
            seals=seals,
            note=_text(cmd.control.note, "note", 500, empty_ok=True),
        )
        transit.record_control(control=control, at=clock.now(), actor=cmd.actor.username)
        uow.transits.save(transit)
        uow.commit()


def record_passage(cmd: RecordPassage, *, uow: UnitOfWork, clock: Clock, places: Places) -> None:
    """Record the vehicle leaving (exit office) or entering (entry office), in itinerary order.

    Raises `InspectionPending` while a control is due there, `ActionNotAllowed` out of order or before
    presentation, `WrongOffice` at an office that is not a border office of the itinerary.
    """
    _require_customs_at(cmd.actor, cmd.office, places)
    with uow:
        check_claim(uow.idempotency, cmd.idempotency)
        transit = _get(uow, cmd.mrn, cmd.actor)
        transit.record_passage(office=cmd.office, at=clock.now(), actor=cmd.actor.username)
        uow.transits.save(transit)
        uow.commit()


def report_incident(cmd: ReportIncident, *, uow: UnitOfWork, clock: Clock, places: Places) -> None:
    """Report an incident: by the holder (office optional) or by customs at an office of its state."""
    seals = normalise_seals(cmd.seals)
    if cmd.actor.role is Role.CUSTOMS or cmd.office is not None:
        if cmd.office is None:
            raise InvalidInput("customs report an incident at an office", fields={"office": "required"})
        if places.office_country(cmd.office) is None:
            raise InvalidInput(f"unknown office {cmd.office}", fields={"office": "unknown"})
        if cmd.actor.role is Role.CUSTOMS:
            _require_customs_at(cmd.actor, cmd.office, places)
    if cmd.actor.role not in (Role.CUSTOMS, Role.CARRIER):
        raise NotPermitted("only the holder or customs may report an incident")
    with uow:
        check_claim(uow.idempotency, cmd.idempotency)
        transit = _get(uow, cmd.mrn, cmd.actor)
        transit.report_incident(
            office=cmd.office,
            kind=cmd.kind,
            description=_text(cmd.description, "description"),
            seals=seals,
            at=clock.now(),
            actor=cmd.actor.username,
        )
        uow.transits.save(transit)
        uow.commit()


def record_arrival(cmd: RecordArrival, *, uow: UnitOfWork, clock: Clock, places: Places) -> PresentationDecision:
    seals = normalise_seals(cmd.seals)
    country = _require_customs_at(cmd.actor, cmd.office, places)
    now = clock.now()
    with uow:
        check_claim(uow.idempotency, cmd.idempotency)
        transit = _get(uow, cmd.mrn, cmd.actor)
        decision = transit.record_arrival(
            office=cmd.office,
            seals=seals,
            rules=uow.risk_rules.for_country(country),
            guarantee_valid=_guarantee_valid(uow, transit, now),
            at=now,
            actor=cmd.actor.username,
        )
        uow.transits.save(transit)
        uow.commit()
    return decision


def discharge_transit(cmd: DischargeTransit, *, uow: UnitOfWork, clock: Clock, places: Places) -> None:
    """Discharge at destination: the transit ends and its guarantee commitment is freed."""
    _require_customs_at(cmd.actor, cmd.office, places)
    with uow:
        check_claim(uow.idempotency, cmd.idempotency)
        transit = _get(uow, cmd.mrn, cmd.actor)
        transit.discharge(office=cmd.office, at=clock.now(), actor=cmd.actor.username)
        uow.transits.save(transit)
        uow.commit()


def register_guarantee(cmd: RegisterGuarantee, *, uow: UnitOfWork, clock: Clock, places: Places) -> None:
    """Register a guarantee for a holder (an admin or customs officer of the guarantee's state)."""
    if cmd.actor.role not in (Role.ADMIN, Role.CUSTOMS):
        raise NotPermitted("only customs or an admin registers guarantees")
    if not places.is_currency(cmd.cover.currency):
        raise InvalidInput(f"unknown currency {cmd.cover.currency}", fields={"currency": "unknown"})
    reference = _text(cmd.reference, "reference", limit=40)
    with uow:
        check_claim(uow.idempotency, cmd.idempotency)
        if uow.guarantees.get(reference) is not None:
            raise InvalidInput(f"guarantee {reference} already exists", fields={"reference": "exists"})
        guarantee = Guarantee(
            reference=reference, holder=cmd.holder, cover=cmd.cover, valid_until=_aware(cmd.valid_until)
        )
        uow.guarantees.add(guarantee)
        uow.audit.record(
            AuditEvent(
                type="GuaranteeRegistered",
                state=cmd.actor.country,
                subject=f"guarantee:{reference}",
                actor=cmd.actor,
                at=clock.now(),
                details={
                    "reference": reference,
                    "holder": cmd.holder,
                    "amount": str(cmd.cover.amount),
                    "currency": cmd.cover.currency,
                    "valid_until": guarantee.valid_until.isoformat(),
                },
            )
        )
        uow.commit()


def put_risk_rule(cmd: PutRiskRule, *, uow: UnitOfWork, clock: Clock, places: Places) -> RiskRule:
    """Create or replace one of the admin's own state's risk rules."""
    _require_role(cmd.actor, Role.ADMIN, "edit risk rules")
    if cmd.departure_country is not None and not re.fullmatch(r"[A-Z]{2}", cmd.departure_country):
        raise InvalidInput("departure_country is an ISO 3166 alpha-2 code", fields={"departure_country": "malformed"})
    rule = RiskRule(
        id=cmd.id,
        country=cmd.actor.country,
        description=_text(cmd.description, "description"),
        hs_prefix=cmd.hs_prefix,
        departure_country=cmd.departure_country,
        min_value_per_kg=cmd.min_value_per_kg,
        sampling_rate=cmd.sampling_rate,
        seed=cmd.seed,
        required_control=cmd.required_control,
        active=cmd.active,
    )
    with uow:
        check_claim(uow.idempotency, cmd.idempotency)
        uow.risk_rules.put(rule)
        uow.audit.record(
            AuditEvent(
                type="RiskRulePut",
                state=rule.country,
                subject=f"risk-rule:{rule.country}/{rule.id}",
                actor=cmd.actor,
                at=clock.now(),
                details=_rule_details(rule),
            )
        )
        uow.commit()
    return rule


def delete_risk_rule(cmd: DeleteRiskRule, *, uow: UnitOfWork, clock: Clock, places: Places) -> None:
    _require_role(cmd.actor, Role.ADMIN, "edit risk rules")
    with uow:
        if not uow.risk_rules.delete(cmd.actor.country, cmd.id):
            raise InvalidInput(f"{cmd.actor.country} has no risk rule {cmd.id!r}", fields={"id": "unknown"})
        uow.audit.record(
            AuditEvent(
                type="RiskRuleDeleted",
                state=cmd.actor.country,
                subject=f"risk-rule:{cmd.actor.country}/{cmd.id}",
                actor=cmd.actor,
                at=clock.now(),
                details={"id": cmd.id},
            )
        )
        uow.commit()


def _rule_details(rule: RiskRule) -> dict[str, str | int | bool | None]:
    floor = rule.min_value_per_kg
    return {
        "id": rule.id,
        "description": rule.description,
        "hs_prefix": rule.hs_prefix,
        "departure_country": rule.departure_country,
        "min_value_per_kg": None if floor is None else f"{floor.amount} {floor.currency}",
        "sampling_rate": None if rule.sampling_rate is None else str(rule.sampling_rate),
        "seed": rule.seed,
        "required_control": None if rule.required_control is None else rule.required_control.value,
        "active": rule.active,
    }


# --- helpers shared by the handlers ---------------------------------------------------------------


def can_see(actor: Actor, transit: Transit, places: Places) -> bool:
    """Whether `actor` may see `transit`: its holder, or customs and admins of a state on the route or
    where it was presented."""
    if actor.role is Role.CARRIER:
        return transit.declaration.holder == actor.username
    if actor.role in (Role.CUSTOMS, Role.ADMIN):
        offices = set(transit.declaration.itinerary.offices) | {e.office for e in transit.events if e.office}
        return any(places.office_country(o) == actor.country for o in offices)
    return False


def _get(uow: UnitOfWork, mrn: Mrn, actor: Actor) -> Transit:
    transit = uow.transits.get(mrn)
    if transit is None or (actor.role is Role.CARRIER and transit.declaration.holder != actor.username):
        # a carrier is never told whether another holder's MRN exists
        raise TransitNotFound(f"no transit {mrn}")
    return transit


def _require_role(actor: Actor, role: Role, what: str) -> None:
    if actor.role is not role:
        raise NotPermitted(f"only a {role.value} account may {what}; you are signed in as {actor.role.value}")


def _require_customs_at(actor: Actor, office: str, places: Places) -> str:
    """The office's country, if `actor` is a customs officer of that country."""
    country = places.office_country(office)
    if country is None:
        raise InvalidInput(f"unknown office {office}", fields={"office": "unknown"})
    if actor.role is not Role.CUSTOMS:
        raise NotPermitted(f"only customs officers act at offices; you are signed in as {actor.role.value}")
    if actor.country != country:
        raise NotPermitted(
            f"{office} is an office of {country}; a customs officer of {actor.country} cannot act there",
            fields={"office": f"not an office of {actor.country}"},
        )
    return country


def _control(office: str, report: ControlReport | None, seals: tuple[str, ...]) -> ControlResult | None:
    if report is None:
        return None
    return ControlResult(
        office=office,
        kind=report.kind,
        outcome=report.outcome,
        seals=seals,
        note=_text(report.note, "note", 500, True),
    )


def _guarantee_valid(uow: UnitOfWork, transit: Transit, at: datetime) -> bool:
    """The guarantee is held where it was registered: the office of departure's state. Another state's node
    (federated) does not hold it and relies on the release its office signed, which checked the guarantee."""
    guarantee = uow.guarantees.get(transit.declaration.guarantee.reference)
    if guarantee is None:
        return any(isinstance(e, TransitReleased) for e in transit.events)
    return guarantee.is_valid_at(at)


def _text(value: str, field: str, limit: int = 1000, empty_ok: bool = False) -> str:
    text = value.strip()
    if (not text and not empty_ok) or len(text) > limit:
        raise InvalidInput(f"{field} must be 1 to {limit} characters", fields={field: "length"})
    return text


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise InvalidInput("times must carry a timezone (UTC)", fields={"time_limit": "no timezone"})
    return at

"""A state's administration: its risk rules, accounts and guarantees; and its statistics for analysts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from silkway.accounts.handlers import CreateAccount, UnlockAccount, create_account, unlock_account
from silkway.shared.actors import Actor, Role
from silkway.shared.errors import NotFound, NotPermitted
from silkway.shared.money import Money
from silkway.signing.encoding import b64u
from silkway.storage.audit import TrailEntry
from silkway.transit import handlers
from silkway.transit.commands import DeleteRiskRule, PutRiskRule, RegisterGuarantee
from silkway.transit.model import ControlKind
from silkway.transit.risk import RiskRule
from silkway.web.api.schemas import (
    AccountIn,
    AccountOut,
    AuditRecordOut,
    AuditTrailOut,
    GuaranteeOut,
    GuaranteeRegistrationIn,
    MoneyIn,
    RiskRuleIn,
    RiskRuleOut,
    StatisticsOut,
)
from silkway.web.deps import ActorDep, IdempotencyDep, ServicesDep, require

router = APIRouter(tags=["administration"])
RuleId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
Admin = Annotated[Actor, require(Role.ADMIN)]


@router.get("/risk-rules", response_model=list[RiskRuleOut], summary="The caller's state's risk rules")
def list_rules(services: ServicesDep, actor: Annotated[Actor, require(Role.ADMIN, Role.CUSTOMS)]) -> list[RiskRuleOut]:
    return [_rule(r) for r in services.queries.risk_rules(actor.country)]


@router.put("/risk-rules/{rule_id}", response_model=RiskRuleOut, summary="Create or replace a risk rule (admin)")
def put_rule(rule_id: RuleId, body: RiskRuleIn, services: ServicesDep, actor: Admin) -> RiskRuleOut:
    rule = handlers.put_risk_rule(
        PutRiskRule(
            actor=actor,
            id=rule_id,
            description=body.description,
            hs_prefix=body.hs_prefix,
            departure_country=body.departure_country,
            min_value_per_kg=None
            if body.min_value_per_kg is None
            else Money(amount=body.min_value_per_kg.amount, currency=body.min_value_per_kg.currency),
            sampling_rate=body.sampling_rate,
            seed=body.seed,
            required_control=None if body.required_control is None else ControlKind(body.required_control),
            active=body.active,
        ),
        uow=services.uow(),
        clock=services.clock,
        places=services.places,
    )
    return _rule(rule)


@router.delete("/risk-rules/{rule_id}", status_code=204, summary="Delete a risk rule (admin)")
def delete_rule(rule_id: RuleId, services: ServicesDep, actor: Admin) -> Response:
    handlers.delete_risk_rule(
        DeleteRiskRule(actor=actor, id=rule_id),
        uow=services.uow(),
        clock=services.clock,
        places=services.places,
    )
    return Response(status_code=204)


@router.get("/accounts", response_model=list[AccountOut], summary="Accounts of the admin's state")
def list_accounts(services: ServicesDep, actor: Admin) -> list[AccountOut]:
    return [
        AccountOut(
            username=a.username,
            role=a.role.value,
            country=a.country,
            display_name=a.display_name,
            active=a.active,
        )
        for a in services.queries.accounts(actor.country)
    ]


@router.post("/accounts", status_code=201, response_model=AccountOut, summary="Create an account of the admin's state")
def add_account(body: AccountIn, services: ServicesDep, actor: Admin, idem: IdempotencyDep) -> Response:
    if idem.replay:
        return idem.replay
    account = create_account(
        CreateAccount(
            actor=actor,
            username=body.username,
            password=body.password,
            role=Role(body.role),
            country=actor.country,
            display_name=body.display_name,
        ),
        uow=services.uow(),
        clock=services.clock,
        hasher=services.hasher,
    )
    out = AccountOut(
        username=account.username,
        role=account.role.value,
        country=account.country,
        display_name=account.display_name,
        active=account.active,
    )
    return idem.respond(out.model_dump(), status=201)


@router.post(
    "/accounts/{username}/unlock",
    response_model=AccountOut,
    summary="Lift an account's sign-in lock-out and forget its failed sign-ins (admin of the account's state)",
)
def unlock(
    username: Annotated[str, Path(min_length=1, max_length=64)], services: ServicesDep, actor: Admin
) -> AccountOut:
    account = unlock_account(UnlockAccount(actor=actor, username=username), uow=services.uow(), clock=services.clock)
    return AccountOut(
        username=account.username,
        role=account.role.value,
        country=account.country,
        display_name=account.display_name,
        active=account.active,
    )


@router.get("/guarantees", response_model=list[GuaranteeOut], summary="Guarantees and what open transits commit")
def list_guarantees(services: ServicesDep, actor: ActorDep) -> list[GuaranteeOut]:
    if actor.role is Role.CARRIER:
        balances = services.queries.guarantees(actor.username)
    elif actor.role in (Role.CUSTOMS, Role.ADMIN):
        balances = services.queries.guarantees()
    else:
        raise NotPermitted(f"a {actor.role.value} account does not see guarantees")
    return [_balance(b) for b in balances]


@router.post("/guarantees", status_code=201, summary="Register a guarantee for a holder (admin or customs)")
def add_guarantee(
    body: GuaranteeRegistrationIn,
    services: ServicesDep,
    actor: Annotated[Actor, require(Role.ADMIN, Role.CUSTOMS)],
    idem: IdempotencyDep,
) -> Response:
    if idem.replay:
        return idem.replay
    handlers.register_guarantee(
        RegisterGuarantee(
            actor=actor,
            idempotency=idem.claim,
            reference=body.reference,
            holder=body.holder,
            cover=Money(amount=body.cover.amount, currency=body.cover.currency),
            valid_until=body.valid_until,
        ),
        uow=services.uow(),
        clock=services.clock,
        places=services.places,
    )
    found = [b for b in services.queries.guarantees(body.holder) if b.reference == body.reference]
    if not found:
        raise NotFound(f"guarantee {body.reference} vanished")
    return idem.respond(_balance(found[0]).model_dump(mode="json"), status=201)


@router.get("/statistics", response_model=StatisticsOut, summary="Statistics of the caller's state (analyst, admin)")
def statistics(services: ServicesDep, actor: Annotated[Actor, require(Role.ANALYST, Role.ADMIN)]) -> StatisticsOut:
    s = services.queries.statistics(actor.country)
    return StatisticsOut(
        country=s.country,
        transits_by_status=s.transits_by_status,
        presentations=s.presentations,
        inspections_decided=s.inspections_decided,
        inspections_avoided=s.inspections_avoided,
        controls_recorded=s.controls_recorded,
    )


@router.get(
    "/audit-trail",
    response_model=AuditTrailOut,
    summary="The admin's state's audit trail: every record signed with its keys, in log order (admin)",
)
def audit_trail(
    services: ServicesDep,
    actor: Admin,
    after: Annotated[int, Query(ge=-1, le=2**53, description="Only records after this log index")] = -1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> AuditTrailOut:
    """Read-only by design: no route updates or deletes a signed record. Each record verifies offline against
    the trust list, and its log index against the node's signed tree heads (`/api/v1/log/...`)."""
    entries = services.audit_trail.trail(actor.country, after=after, limit=limit)
    records = [trail_record(e) for e in entries]
    return AuditTrailOut(
        state=actor.country, records=records, next_after=records[-1].log_index if len(records) == limit else None
    )


def trail_record(entry: TrailEntry) -> AuditRecordOut:
    """One signed record of a state's audit trail, as the API and the admin's download give it."""
    return AuditRecordOut(
        log_index=entry.log_index,
        kind=entry.kind,
        subject=entry.subject,
        seq=entry.seq,
        type=entry.type,
        actor=entry.actor,
        at=entry.at,
        key_id=entry.key_id,
        hash=entry.hash,
        signature=b64u(entry.signature),
        canonical=None if entry.record is None else entry.record.canonical.decode("utf-8"),
    )


def _balance(b: object) -> GuaranteeOut:
    return GuaranteeOut.model_validate(b, from_attributes=True)


def _rule(rule: RiskRule) -> RiskRuleOut:
    floor = rule.min_value_per_kg
    return RiskRuleOut(
        id=rule.id,
        country=rule.country,
        description=rule.description,
        hs_prefix=rule.hs_prefix,
        departure_country=rule.departure_country,
        min_value_per_kg=None if floor is None else MoneyIn(amount=floor.amount, currency=floor.currency),
        sampling_rate=rule.sampling_rate,
        seed=rule.seed,
        required_control=None if rule.required_control is None else rule.required_control.value,
        active=rule.active,
    )

"""The administrator's pages: the state's offices, its accounts and its risk rules.

Offices and crossing points are reference data, shipped with Silkway as files and read at start: the page
shows them and says so. Accounts and risk rules are created through their handlers, as the JSON API does;
every field is checked here first so that all that is wrong is said at once in the visitor's language,
and what the handler still refuses is told in the same words. Nothing is written when a form is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse
from starlette.datastructures import FormData

from silkway.accounts.handlers import (
    MAX_PASSWORD,
    MIN_PASSWORD,
    CreateAccount,
    UnlockAccount,
    create_account,
    unlock_account,
)
from silkway.places.model import OfficeKind
from silkway.shared.actors import Actor, Role
from silkway.shared.errors import DomainError
from silkway.shared.money import Money
from silkway.transit import handlers
from silkway.transit.commands import DeleteRiskRule, PutRiskRule
from silkway.transit.model import ControlKind
from silkway.transit.risk import RiskRule
from silkway.web.api.admin import trail_record
from silkway.web.limits import lock_out_of
from silkway.web.pages.analyst import MODE_NAMES, country_name
from silkway.web.pages.base import N_, ROLE_NAMES, FormDep, FormProblem, Page, signed_in

router = APIRouter(include_in_schema=False)
Admin = Annotated[Page, signed_in(Role.ADMIN)]

KIND_NAMES: Mapping[OfficeKind, str] = {
    OfficeKind.INLAND: N_("Inland office"),
    OfficeKind.BORDER: N_("Border post"),
    OfficeKind.SEAPORT: N_("Seaport"),
}
ROLES: tuple[Role, ...] = (
    Role.CUSTOMS,
    Role.BORDER_GUARD,
    Role.CONSULAR,
    Role.ANALYST,
    Role.ADMIN,
    Role.CARRIER,
)
"""The roles an administrator gives, in the order the form lists them."""
CONTROL_NAMES: Mapping[str, str] = {
    ControlKind.DOCUMENTARY.value: N_("Documentary check"),
    ControlKind.SCAN.value: N_("Scan"),
    ControlKind.PHYSICAL.value: N_("Physical inspection"),
}
SPOT_CHECK = "spot"
"""The form's value for a rule without a required control: only a control at the office itself answers it."""

MAX_DISPLAY_NAME = 200
MAX_DESCRIPTION = 1000
MAX_SEED = 100
_RULE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
_HS_PREFIX = re.compile(r"[0-9]{2}(?:[0-9]{2}){0,2}")
_CURRENCY = re.compile(r"[A-Z]{3}")

USERNAME_REASONS: Mapping[str, str] = {
    "taken": N_("This user name is taken: choose another."),
    "reserved": N_("This user name is reserved for the node itself: choose another."),
    "malformed": N_(
        "A user name is 3 to 64 lower-case Latin letters, digits, dots, dashes or underscores, "
        "starting with a letter or a digit."
    ),
}


# --- offices --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class OfficeRow:
    code: str
    name: str
    name_local: str
    kind: str
    mode: str
    coordinates: str
    across: list[str]


@router.get("/admin/offices")
def offices(visit: Admin) -> Response:
    actor = _actor(visit)
    reference = visit.services.reference
    scheme = visit.services.scheme
    rows = []
    for office in reference.offices_of(actor.country):
        across = []
        for code in office.crossings:
            crossing = reference.crossings[code]
            other = reference.offices[crossing.other_side(office.code)]
            across.append(
                visit._(
                    "%(crossing)s: %(office)s (%(code)s), %(country)s",
                    crossing=crossing.name,
                    office=other.name,
                    code=other.code,
                    country=country_name(other.country, visit.lang),
                )
            )
        rows.append(
            OfficeRow(
                code=office.code,
                name=office.name,
                name_local=office.name_local if office.name_local != office.name else "",
                kind=visit._(KIND_NAMES[office.kind]),
                mode=visit._(MODE_NAMES[office.mode]) if office.mode in MODE_NAMES else "",
                coordinates=_coordinates(visit, office.lat, office.lon),
                across=across,
            )
        )
    airports = [
        (code, airport.name, _coordinates(visit, airport.lat, airport.lon))
        for code, airport in sorted(scheme.airports.items())
        if airport.state == actor.country
    ]
    policy = scheme.policy(actor.country)
    return visit.render(
        "admin/offices.html",
        state_name=country_name(actor.country, visit.lang),
        offices=rows,
        airports=airports,
        consular_office=None if policy is None else policy.consular_office,
    )


def _coordinates(visit: Page, lat: float | None, lon: float | None) -> str:
    if lat is None or lon is None:
        return ""
    return visit._(
        "%(lat)s° N, %(lon)s° E",
        lat=visit.number(Decimal(str(lat)).quantize(Decimal("0.0001"))),
        lon=visit.number(Decimal(str(lon)).quantize(Decimal("0.0001"))),
    )


# --- accounts -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountRow:
    username: str
    display_name: str
    role: str
    active: bool
    created: str
    locked_until: str | None


@router.get("/admin/accounts")
def accounts(
    visit: Admin,
    created: Annotated[str | None, Query(max_length=64)] = None,
    unlocked: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    return _accounts_page(visit, values={}, problem=None, created=created, unlocked=unlocked)


@router.post("/admin/accounts/{username}/unlock")
def unlock(visit: Admin, username: str, form: FormDep) -> Response:
    services = visit.services
    account = unlock_account(
        UnlockAccount(actor=_actor(visit), username=username), uow=services.uow(), clock=services.clock
    )
    return visit.redirect(f"/admin/accounts?unlocked={account.username}")


@router.get("/admin/audit-trail.jsonl")
def audit_trail(visit: Admin) -> Response:
    """The state's whole audit trail as JSON lines, one signed record each, as the API's `/audit-trail` pages it."""
    state = _actor(visit).country
    trail = visit.services.audit_trail

    def lines() -> Iterator[bytes]:
        after = -1
        while page := trail.trail(state, after=after):
            for entry in page:
                yield trail_record(entry).model_dump_json().encode() + b"\n"
            after = page[-1].log_index

    day = visit.services.clock.now().date().isoformat()
    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="silkway-audit-{state}-{day}.jsonl"'},
    )


@router.post("/admin/accounts")
def create(visit: Admin, form: FormDep) -> Response:
    actor = _actor(visit)
    values = {name: _text(form, name) for name in ("username", "display_name", "role")}
    values["username"] = values["username"].lower()
    password, again = str(form.get("password") or ""), str(form.get("password_again") or "")
    fields: dict[str, str] = {}
    if not values["username"]:
        fields["username"] = visit._("Enter a user name.")
    if not values["display_name"]:
        fields["display_name"] = visit._("Enter the name to show for this account.")
    elif len(values["display_name"]) > MAX_DISPLAY_NAME:
        fields["display_name"] = visit._("The name to show is at most %(max)s characters.", max=MAX_DISPLAY_NAME)
    if values["role"] not in {r.value for r in ROLES}:
        fields["role"] = visit._("Choose the account's role.")
    if not password:
        fields["password"] = visit._("Enter a password.")
    elif not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        fields["password"] = visit._(
            "A password has %(min)s to %(max)s characters.", min=MIN_PASSWORD, max=MAX_PASSWORD
        )
    elif password != again:
        fields["password_again"] = visit._("The two passwords differ: type the same password twice.")
    if fields:
        return _accounts_page(visit, values=values, problem=_refused(visit, fields), created=None, status=422)
    services = visit.services
    try:
        create_account(
            CreateAccount(
                actor=actor,
                username=values["username"],
                password=password,
                role=Role(values["role"]),
                country=actor.country,
                display_name=values["display_name"],
            ),
            uow=services.uow(),
            clock=services.clock,
            hasher=services.hasher,
        )
    except DomainError as exc:
        return _accounts_page(
            visit,
            values=values,
            problem=_explained(visit, exc, {"username": USERNAME_REASONS}),
            created=None,
            status=422,
        )
    return visit.redirect(f"/admin/accounts?created={values['username']}")


def _accounts_page(
    visit: Page,
    *,
    values: Mapping[str, str],
    problem: FormProblem | None,
    created: str | None,
    unlocked: str | None = None,
    status: int = 200,
) -> Response:
    actor = _actor(visit)
    listed = sorted(visit.services.queries.accounts(actor.country), key=lambda a: a.username)
    now, lock_out = visit.services.clock.now(), lock_out_of(visit.services.settings)
    rows = [
        AccountRow(
            username=a.username,
            display_name=a.display_name,
            role=visit._(ROLE_NAMES[a.role]),
            active=a.active,
            created=visit.date(a.created_at),
            locked_until=None
            if (until := a.failed_sign_ins.locked_until(now, lock_out)) is None
            else visit.datetime(until),
        )
        for a in listed
    ]
    return visit.render(
        "admin/accounts.html",
        status=status,
        state_name=country_name(actor.country, visit.lang),
        accounts=rows,
        created=created if created and any(a.username == created for a in listed) else None,
        unlocked=unlocked if unlocked and any(a.username == unlocked for a in listed) else None,
        roles=[(r.value, visit._(ROLE_NAMES[r])) for r in ROLES],
        values=values,
        problem=problem,
        min_password=MIN_PASSWORD,
    )


# --- risk rules -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleRow:
    id: str
    description: str
    criteria: list[str]
    control: str
    active: bool


@router.get("/admin/risk-rules")
def risk_rules(
    visit: Admin,
    edit: Annotated[str | None, Query(max_length=40)] = None,
    saved: Annotated[str | None, Query(max_length=40)] = None,
    deleted: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    actor = _actor(visit)
    values: dict[str, str] = {"required_control": ControlKind.PHYSICAL.value, "active": "on"}
    if edit:
        found = [r for r in visit.services.queries.risk_rules(actor.country) if r.id == edit]
        if found:
            values = _values_of(found[0])
    return _rules_page(visit, values=values, problem=None, saved=saved, deleted=deleted)


@router.post("/admin/risk-rules")
def put_rule(visit: Admin, form: FormDep) -> Response:
    actor = _actor(visit)
    names = (
        "id",
        "description",
        "hs_prefix",
        "departure_country",
        "min_value_amount",
        "min_value_currency",
        "sampling_percent",
        "seed",
        "required_control",
    )
    values = {name: _text(form, name) for name in names}
    values["id"] = values["id"].lower()
    values["min_value_currency"] = values["min_value_currency"].upper()
    values["active"] = "on" if form.get("active") else ""
    checked = _check_rule(visit, values)
    if isinstance(checked, dict):
        return _rules_page(visit, values=values, problem=_refused(visit, checked), status=422)
    services = visit.services
    try:
        handlers.put_risk_rule(
            PutRiskRule(
                actor=actor,
                id=values["id"],
                description=values["description"],
                hs_prefix=checked.hs_prefix,
                departure_country=checked.departure_country,
                min_value_per_kg=checked.min_value_per_kg,
                sampling_rate=checked.sampling_rate,
                seed=values["seed"],
                required_control=checked.required_control,
                active=bool(values["active"]),
            ),
            uow=services.uow(),
            clock=services.clock,
            places=services.places,
        )
    except DomainError as exc:
        return _rules_page(visit, values=values, problem=_explained(visit, exc, {}), status=422)
    return visit.redirect(f"/admin/risk-rules?saved={values['id']}")


@router.post("/admin/risk-rules/delete")
def delete_rule(visit: Admin, form: FormDep) -> Response:
    actor = _actor(visit)
    rule_id = _text(form, "id")
    services = visit.services
    try:
        handlers.delete_risk_rule(
            DeleteRiskRule(actor=actor, id=rule_id), uow=services.uow(), clock=services.clock, places=services.places
        )
    except DomainError as exc:
        problem = visit.problem(exc)
        if exc.fields.get("id") == "unknown":
            problem = FormProblem(
                message=visit._("Your state has no risk rule %(id)s: it may have been deleted already.", id=rule_id),
                fields={},
                detail=exc.detail,
            )
        return _rules_page(visit, values={}, problem=problem, status=404)
    return visit.redirect(f"/admin/risk-rules?deleted={rule_id}")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Criteria:
    hs_prefix: str | None
    departure_country: str | None
    min_value_per_kg: Money | None
    sampling_rate: Decimal | None
    required_control: ControlKind | None


def _check_rule(visit: Page, values: Mapping[str, str]) -> _Criteria | dict[str, str]:
    """The rule's criteria, or the fields to correct (field name → sentence in the visitor's language)."""
    fields: dict[str, str] = {}
    services = visit.services
    if not values["id"]:
        fields["id"] = visit._("Enter the rule's identifier.")
    elif not _RULE_ID.fullmatch(values["id"]):
        fields["id"] = visit._(
            "An identifier is 1 to 40 lower-case Latin letters, digits and dashes, starting with a letter or a digit."
        )
    if not values["description"]:
        fields["description"] = visit._("Describe the rule: what is inspected, and why.")
    elif len(values["description"]) > MAX_DESCRIPTION:
        fields["description"] = visit._("The description is at most %(max)s characters.", max=MAX_DESCRIPTION)
    hs_prefix = values["hs_prefix"].replace(".", "").replace(" ", "") or None
    if hs_prefix is not None:
        if not _HS_PREFIX.fullmatch(hs_prefix):
            fields["hs_prefix"] = visit._("An HS code here is a chapter (2 digits), a heading (4) or a subheading (6).")
        elif services.reference.hs(hs_prefix) is None:
            fields["hs_prefix"] = visit._("There is no such chapter, heading or subheading in HS 2022.")
    departure = values["departure_country"] or None
    if departure is not None and not services.reference.is_member(departure):
        fields["departure_country"] = visit._("Choose a member state, or any state.")
    floor = None
    amount, currency = values["min_value_amount"], values["min_value_currency"]
    if amount or currency:
        value = _decimal(amount.replace(",", ".").replace(" ", ""))
        if not amount:
            fields["min_value_amount"] = visit._("Enter the value per kilogram, or leave the currency empty too.")
        elif value is None or value <= 0 or value != value.quantize(Decimal("0.01")) or value >= Decimal("1e15"):
            fields["min_value_amount"] = visit._(
                "The value per kilogram is a positive amount with at most two decimals, such as 150 or 12.50."
            )
        if not currency:
            fields["min_value_currency"] = visit._("Enter the currency of the value, such as USD.")
        elif not _CURRENCY.fullmatch(currency) or not services.reference.is_currency(currency):
            fields["min_value_currency"] = visit._("This is not an ISO 4217 currency code, such as USD or KZT.")
        if value is not None and "min_value_amount" not in fields and "min_value_currency" not in fields:
            floor = Money(amount=value, currency=currency)
    rate = None
    if values["sampling_percent"]:
        percent = _decimal(values["sampling_percent"].replace(",", ".").replace(" ", ""))
        if percent is None or not 0 < percent <= 100 or percent != percent.quantize(Decimal("0.0001")):
            fields["sampling_percent"] = visit._(
                "The sampling rate is a percentage above 0 and at most 100, with at most four decimals."
            )
        else:
            rate = (percent / 100).normalize()
    if len(values["seed"]) > MAX_SEED:
        fields["seed"] = visit._("The seed is at most %(max)s characters.", max=MAX_SEED)
    control_value = values["required_control"]
    if control_value not in (*CONTROL_NAMES, SPOT_CHECK):
        fields["required_control"] = visit._("Choose the control the rule asks for.")
    if not fields and hs_prefix is None and departure is None and floor is None and rate is None:
        fields["hs_prefix"] = visit._(
            "Set at least one criterion: an HS code, a country of departure, a value per kilogram or a sampling rate."
        )
    if fields:
        return fields
    return _Criteria(
        hs_prefix=hs_prefix,
        departure_country=departure,
        min_value_per_kg=floor,
        sampling_rate=rate,
        required_control=None if control_value == SPOT_CHECK else ControlKind(control_value),
    )


def _rules_page(
    visit: Page,
    *,
    values: Mapping[str, str],
    problem: FormProblem | None,
    saved: str | None = None,
    deleted: str | None = None,
    status: int = 200,
) -> Response:
    actor = _actor(visit)
    rules = sorted(visit.services.queries.risk_rules(actor.country), key=lambda r: r.id)
    members = visit.services.reference.member_states
    return visit.render(
        "admin/risk_rules.html",
        status=status,
        state_name=country_name(actor.country, visit.lang),
        rules=[_row(visit, r) for r in rules],
        saved=saved if saved and any(r.id == saved for r in rules) else None,
        deleted=deleted if deleted and not any(r.id == deleted for r in rules) else None,
        values={**values},
        problem=problem,
        countries=[(code, country_name(code, visit.lang)) for code in members],
        controls=[
            *((value, visit._(name)) for value, name in CONTROL_NAMES.items()),
            (SPOT_CHECK, visit._("None: only a control at this office answers the rule")),
        ],
    )


def _row(visit: Page, rule: RiskRule) -> RuleRow:
    criteria = []
    if rule.hs_prefix is not None:
        criteria.append(visit._("HS code starts with %(prefix)s", prefix=rule.hs_prefix))
    if rule.departure_country is not None:
        criteria.append(visit._("departs from %(country)s", country=country_name(rule.departure_country, visit.lang)))
    if rule.min_value_per_kg is not None:
        criteria.append(
            visit._(
                "worth at least %(amount)s %(currency)s per kg",
                amount=visit.number(rule.min_value_per_kg.amount),
                currency=rule.min_value_per_kg.currency,
            )
        )
    if rule.sampling_rate is not None:
        criteria.append(visit._("%(percent)s%% of transits drawn", percent=visit.number(rule.sampling_rate * 100)))
    control = (
        visit._("A control at this office")
        if rule.required_control is None
        else visit._(CONTROL_NAMES[rule.required_control.value])
    )
    return RuleRow(id=rule.id, description=rule.description, criteria=criteria, control=control, active=rule.active)


def _values_of(rule: RiskRule) -> dict[str, str]:
    floor = rule.min_value_per_kg
    return {
        "id": rule.id,
        "description": rule.description,
        "hs_prefix": rule.hs_prefix or "",
        "departure_country": rule.departure_country or "",
        "min_value_amount": "" if floor is None else f"{floor.amount}",
        "min_value_currency": "" if floor is None else floor.currency,
        "sampling_percent": "" if rule.sampling_rate is None else f"{(rule.sampling_rate * 100).normalize():f}",
        "seed": rule.seed,
        "required_control": SPOT_CHECK if rule.required_control is None else rule.required_control.value,
        "active": "on" if rule.active else "",
    }


# --- shared pieces --------------------------------------------------------------------------------


def _actor(visit: Page) -> Actor:
    if visit.actor is None:  # pragma: no cover - signed_in lets no anonymous visitor through
        raise RuntimeError("an administrator's page without an administrator")
    return visit.actor


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _refused(visit: Page, fields: Mapping[str, str]) -> FormProblem:
    return FormProblem(
        message=visit._("Nothing was saved. Correct the marked fields and send the form again."),
        fields=dict(fields),
        detail="",
    )


def _explained(visit: Page, error: DomainError, reasons: Mapping[str, Mapping[str, str]]) -> FormProblem:
    """A handler's refusal in the visitor's words: this page's own sentence for a field's known reason, the
    shared sentences (`problems`) for everything else."""
    general = visit.problem(error)
    fields = dict(general.fields)
    for name, reason in error.fields.items():
        sentence = reasons.get(name, {}).get(reason)
        if sentence is not None:
            fields[name] = visit._(sentence)
    return FormProblem(
        message=visit._("Nothing was saved. Correct the marked fields and send the form again."),
        fields=fields,
        detail=general.detail,
    )

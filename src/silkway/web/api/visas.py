"""The Commonwealth Visa API: apply, examine, decide, issue, revoke, check at the border, count the stay."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response

from silkway.documents import qr_png
from silkway.i18n import UnsupportedLanguage, negotiate
from silkway.services import Services
from silkway.shared.actors import Actor, Role
from silkway.shared.errors import InvalidInput, NotPermitted
from silkway.visas import handlers
from silkway.visas.application import VisaApplication
from silkway.visas.commands import (
    CheckAtBorder,
    DecideApplication,
    EnterAlert,
    LodgeApplication,
    ReplyToConsultation,
    RevokeVisa,
)
from silkway.visas.errors import ApplicationNotFound, VisaNotFound
from silkway.visas.examination import alert_hits, stay_of
from silkway.visas.model import (
    REFUSAL_GROUNDS,
    Applicant,
    Direction,
    Entries,
    Purpose,
    Sex,
    StatePlan,
    TravelPlan,
    check_passport_number,
)
from silkway.web.api.visa_schemas import (
    AlertIn,
    ApplicationIn,
    BorderCheckIn,
    ConsultationReplyIn,
    DecisionIn,
    RevocationIn,
)
from silkway.web.deps import ActorDep, IdempotencyDep, OptionalActorDep, ServicesDep, require
from silkway.web.limits import TOO_MANY, count_visa_application

router = APIRouter(tags=["visas"])
T = TypeVar("T")

ConsulDep = Annotated[Actor, require(Role.CONSULAR)]


def _run(services: Services, handler: Callable[..., T], command: Any, **extra: Any) -> T:
    return handler(command, uow=services.uow(), clock=services.clock, scheme=services.scheme, **extra)


# --- the traveller -------------------------------------------------------------------------------------------


@router.post(
    "/visa-applications",
    status_code=201,
    summary="Apply for a Commonwealth Visa (no account: keep the status_token, it is shown once; 429 with "
    "Retry-After when the address lodged too many lately)",
    responses=TOO_MANY,
)
def apply(body: ApplicationIn, services: ServicesDep, request: Request) -> dict[str, Any]:
    command = LodgeApplication(
        applicant=Applicant(
            surname=body.surname,
            given_names=body.given_names,
            native_name=body.native_name or None,
            nationality=body.nationality,
            date_of_birth=body.date_of_birth,
            sex=Sex(body.sex),
            passport_number=body.passport_number,
            passport_expiry=body.passport_expiry,
        ),
        plan=TravelPlan(
            states=tuple(body.states),
            arrive=body.from_,
            leave=body.to,
            main_destination=body.main_destination,
            purpose=Purpose(body.purpose),
            entries=Entries(body.entries),
            itinerary=tuple(StatePlan(state=leg.state, arrive=leg.from_, leave=leg.to) for leg in body.itinerary),
        ),
    )
    count_visa_application(services, request)
    lodged = handlers.lodge_application(
        command, uow=services.uow(), clock=services.clock, scheme=services.scheme, countries=services.countries
    )
    file = _file(services, lodged.id)
    return {
        "id": lodged.id,
        "status": file.status.value,
        "competent_state": lodged.competent_state,
        "status_token": lodged.token,
        "status_url": f"/api/v1/visa-applications/{lodged.id}?token={lodged.token}",
        "consultation_until": _iso(file.lodged.consultation_until),
        "fee": _fee(file),
    }


@router.get(
    "/visa-applications/{application_id}",
    summary="An application's status: with ?token= (the applicant), or as a consul of the competent or a consulted "
    "state",
)
def get_application(
    application_id: str, services: ServicesDep, actor: OptionalActorDep, token: str | None = None
) -> dict[str, Any]:
    file, as_consul = _visible(services, application_id, actor, token)
    view = _application_view(services, file)
    if as_consul:
        alerts = services.visa_queries.alerts(services.clock.now().date())
        view["alert_hits"] = [
            {
                "alert_id": h.alert.id,
                "entered_by_state": h.alert.state,
                "name": h.alert.name,
                "date_of_birth": _iso(h.alert.date_of_birth),
                "nationality": h.alert.nationality,
                "reason": h.alert.reason,
                "score": round(h.score, 3),
                "matched_on": h.matched_on,
            }
            for h in alert_hits(file.applicant, alerts)
        ]
    return view


@router.get(
    "/visa-applications/{application_id}/data",
    summary="Everything stored about an application, its signed records and when each will be erased (applicant)",
)
def stored_data(application_id: str, services: ServicesDep, token: str) -> dict[str, Any]:
    file, _ = _visible(services, application_id, None, token)
    records = services.visa_queries.records(application_id)
    erase_after = services.visa_queries.retention_of(application_id)
    retention = services.scheme.retention
    return {
        "application": _application_view(services, file),
        "records": [
            {
                "seq": i,
                "type": r.type,
                "at": r.at.isoformat(),
                "office": r.office,
                "hash": r.hash,
                "key_id": r.key_id,
                "log_index": r.log_index,
                "content": None if r.record is None else r.record.fields,
            }
            for i, r in enumerate(records, start=1)
        ],
        "shared_with": list(file.visa.terms.states) if file.visa else [file.competent_state, *file.consultations],
        "retention": {
            "erase_after": _iso(erase_after),
            "rules_days": {
                "refused_application": retention.application_refused,
                "visa_after_expiry": retention.visa,
                "border_crossing": retention.crossing,
            },
            "note": "The passport number is stored encrypted and found by a keyed hash. After the date above, "
            "the personal data is erased; each record's hash and signature stay in the transparency log.",
        },
    }


# --- the consul ----------------------------------------------------------------------------------------------


@router.get("/visa-applications", summary="The applications queue of the consul's state, oldest first")
def queue(
    services: ServicesDep,
    actor: ConsulDep,
    status: Annotated[str | None, Query(pattern="^(lodged|issued|issued_ltv|refused)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    items, total = services.visa_queries.applications(actor.country, status=status, limit=limit, offset=offset)
    return {
        "items": [
            {
                "id": a.id,
                "status": a.status,
                "nationality": a.nationality,
                "surname": a.surname,
                "given_names": a.given_names,
                "from": a.arrive.isoformat(),
                "to": a.leave.isoformat(),
                "lodged_at": a.lodged_at.isoformat(),
                "consultation_until": _iso(a.consultation_until),
                "visa_number": a.visa_number,
            }
            for a in items
        ],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@router.get("/visa-consultations", summary="Applications the consul's state is consulted on and may still object to")
def consultations(services: ServicesDep, actor: ConsulDep) -> dict[str, Any]:
    items = services.visa_queries.consultations(actor.country, services.clock.now())
    return {
        "items": [
            {
                "id": a.id,
                "competent_state": a.competent_state,
                "nationality": a.nationality,
                "surname": a.surname,
                "given_names": a.given_names,
                "until": _iso(a.consultation_until),
            }
            for a in items
        ]
    }


@router.post(
    "/visa-applications/{application_id}/consultation",
    summary="Answer a prior consultation: object (with grounds) or clear (consul of a consulted state)",
)
def reply(
    application_id: str, body: ConsultationReplyIn, services: ServicesDep, actor: ConsulDep, idem: IdempotencyDep
) -> Response:
    if idem.replay:
        return idem.replay
    _run(
        services,
        handlers.reply_to_consultation,
        ReplyToConsultation(
            actor=actor,
            idempotency=idem.claim,
            application_id=application_id,
            objection=body.objection,
            grounds=tuple(body.grounds),
            reason=body.reason,
        ),
    )
    # what answers a POST is kept in clear under its Idempotency-Key: no passport number in it
    return idem.respond(_application_view(services, _file(services, application_id), passport=False))


@router.post(
    "/visa-applications/{application_id}/decision",
    summary="Issue a uniform visa, issue one with limited territorial validity, or refuse "
    "(consul of the competent state)",
)
def decide(
    application_id: str, body: DecisionIn, services: ServicesDep, actor: ConsulDep, idem: IdempotencyDep
) -> Response:
    if idem.replay:
        return idem.replay
    number = _run(
        services,
        handlers.decide_application,
        DecideApplication(
            actor=actor,
            idempotency=idem.claim,
            application_id=application_id,
            decision=body.decision,
            grounds=tuple(body.grounds),
            excluded_states=tuple(body.excluded_states),
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            duration_of_stay_days=body.duration_of_stay_days,
            entries=None if body.entries is None else Entries(body.entries),
            note=body.note,
        ),
    )
    file = _file(services, application_id)
    return idem.respond({"status": file.status.value, "visa_number": number, **_decision_view(file)})


@router.get("/visa-notifications", summary="Visas of the consul's state that another state revoked or annulled")
def notifications(services: ServicesDep, actor: ConsulDep) -> dict[str, Any]:
    return {
        "items": [
            {
                "visa_number": n.visa_number,
                "status": n.status,
                "revoked_by": n.revoked_by,
                "revoked_at": n.revoked_at.isoformat(),
            }
            for n in services.visa_queries.notifications(actor.country)
        ]
    }


@router.post("/alerts", status_code=201, summary="Add a person to the shared alert list (consul or admin)")
def add_alert(body: AlertIn, services: ServicesDep, actor: ActorDep, idem: IdempotencyDep) -> Response:
    if idem.replay:
        return idem.replay
    alert_id = _run(
        services,
        handlers.enter_alert,
        EnterAlert(
            actor=actor,
            idempotency=idem.claim,
            name=body.name,
            date_of_birth=body.date_of_birth,
            nationality=body.nationality,
            reason=body.reason,
            expires_on=body.expires_on,
        ),
    )
    return idem.respond({"id": alert_id, "state": actor.country}, status=201)


@router.get("/alerts", summary="The shared alert list (consuls, admins and border guards of any participating state)")
def list_alerts(
    services: ServicesDep, actor: Annotated[Actor, require(Role.CONSULAR, Role.ADMIN, Role.BORDER_GUARD)]
) -> dict[str, Any]:
    return {
        "items": [
            {
                "id": a.id,
                "state": a.state,
                "name": a.name,
                "date_of_birth": _iso(a.date_of_birth),
                "nationality": a.nationality,
                "reason": a.reason,
                "entered_at": a.entered_at.isoformat(),
                "expires_on": _iso(a.expires_on),
            }
            for a in services.visa_queries.alerts(services.clock.now().date())
        ]
    }


# --- the visa ------------------------------------------------------------------------------------------------


@router.get(
    "/visas/{number}",
    summary="A visa: its MRZ, validity, states and status (officers, or the holder with ?passport_number=)",
)
def get_visa(
    number: str, services: ServicesDep, actor: OptionalActorDep, passport_number: str | None = None
) -> dict[str, Any]:
    file = _visa_file(services, number, actor, passport_number)
    return _visa_view(services, file)


@router.get(
    "/visas/{number}/seal",
    summary="The visa's visible digital seal: its text, or ?format=png the QR code",
    responses={200: {"content": {"application/json": {}, "image/png": {}}}},
)
def get_seal(
    number: str,
    services: ServicesDep,
    actor: OptionalActorDep,
    passport_number: str | None = None,
    format: Annotated[str, Query(pattern="^(text|png)$")] = "text",
) -> Any:
    _visa_file(services, number, actor, passport_number)
    payload = services.visa_seal(number)
    if format == "png":
        return Response(qr_png(payload, scale=6), media_type="image/png")
    return {"payload": payload, "format": "icao-vds-visa/base45", "prefix": "SWV1:", "length": len(payload)}


@router.get(
    "/visas/{number}/document",
    summary="The e-visa as a one-page PDF (?lang=kk|ru|en)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def get_document(
    number: str,
    services: ServicesDep,
    actor: OptionalActorDep,
    passport_number: str | None = None,
    lang: str | None = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> Response:
    try:
        language = negotiate(lang, accept_language)
    except UnsupportedLanguage as exc:
        raise InvalidInput(str(exc), fields={"lang": "kk, ru or en"}) from exc
    file = _visa_file(services, number, actor, passport_number)
    return Response(
        services.evisa_pdf(file, language),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{number.strip().upper()}.pdf"',  # as the visa was found
            "Content-Language": language,
        },
    )


@router.post("/visas/{number}/revocation", summary="Revoke or annul a visa, with grounds (consul of any member state)")
def revoke(number: str, body: RevocationIn, services: ServicesDep, actor: ConsulDep, idem: IdempotencyDep) -> Response:
    if idem.replay:
        return idem.replay
    _run(
        services,
        handlers.revoke_visa,
        RevokeVisa(
            actor=actor,
            idempotency=idem.claim,
            number=number.upper(),
            grounds=tuple(body.grounds),
            reason=body.reason,
            annul=body.annul,
        ),
    )
    file = services.visa_queries.visa(number.upper())
    assert file is not None
    view = _visa_view(services, file, passport=False)
    view["notified"] = file.visa.issuing_state if file.visa else None
    return idem.respond(view)


@router.get("/visas/{number}/stay", summary="The holder's days used, days remaining and latest exit date (no account)")
def get_stay(number: str, services: ServicesDep, passport_number: str) -> dict[str, Any]:
    file = _visa_file(services, number, None, passport_number)
    visa = file.visa
    assert visa is not None
    crossings = services.visa_queries.crossings_of(file.applicant.passport_number, file.applicant.nationality)
    status = stay_of(
        crossings,
        now=services.clock.now(),
        valid_from=visa.terms.valid_from,
        valid_until=visa.terms.valid_until,
        duration_of_stay_days=visa.terms.duration_of_stay_days,
        scheme=services.scheme,
    )
    return {
        "visa_number": visa.number,
        "on": status.on.isoformat(),
        "present": status.present,
        "state": status.state,
        "days_used": status.days_used,
        "days_used_on_visa": status.days_used_on_visa,
        "days_remaining": status.days_remaining,
        "latest_exit": _iso(status.latest_exit),
        "limiting_rule": status.limiting_rule,
        "overstay_days": status.overstay_days,
        "crossings": [
            {"day": c.day.isoformat(), "state": c.state, "direction": c.direction.value, "visa_number": c.visa_number}
            for c in crossings
        ],
    }


@router.get("/visa-revocations", summary="The signed list of revoked and annulled visas, for offline checks")
def revocations(services: ServicesDep) -> dict[str, object]:
    return services.revocation_list().to_json()


@router.get(
    "/visa-scheme", summary="The scheme: participating states, visa-free and eligible nationalities, fees, limits"
)
def scheme(services: ServicesDep) -> dict[str, Any]:
    s = services.scheme
    return {
        "participating": list(s.participating),
        "fee": {"amount": str(s.fee.amount), "currency": s.fee.currency, "competent_share": str(s.competent_share)},
        "consultation_days": s.consultation_days,
        "appeal_days": s.appeal_days,
        "max_stay_days": s.max_stay_days,
        "window_days": s.window_days,
        "states": {
            code: {
                "participating": p.participating,
                "visa_free": sorted(p.visa_free),
                "eligible": sorted(p.eligible),
                "not_eligible": sorted(p.not_eligible),
                "max_consecutive_days": p.max_consecutive_days,
                "consulted_nationalities": sorted(p.consulted_nationalities),
                "consular_office": p.consular_office,
            }
            for code, p in s.states.items()
        },
        "refusal_grounds": [
            {"code": g.code, "article": g.article, "text": g.text, "remedy": g.remedy} for g in REFUSAL_GROUNDS.values()
        ],
        "airports": [{"code": a.code, "name": a.name} for a in s.airports.values()],
    }


# --- the border guard ----------------------------------------------------------------------------------------


@router.post("/border/checks", summary="Check a traveller's visa at a border post and record the entry or exit")
def border_check(
    body: BorderCheckIn,
    services: ServicesDep,
    actor: Annotated[Actor, require(Role.BORDER_GUARD)],
    idem: IdempotencyDep,
) -> Response:
    if idem.replay:
        return idem.replay
    result = _run(
        services,
        handlers.check_at_border,
        CheckAtBorder(
            actor=actor,
            idempotency=idem.claim,
            office=body.office,
            direction=Direction(body.direction),
            passport_number=body.passport_number,
            seal=body.seal,
            visa_number=body.visa_number,
            record=body.record,
        ),
        countries=services.countries,
        seals=services.seal_reader,
    )
    v = result.verdict
    return idem.respond(
        {
            "allowed": v.allowed,
            "reasons": [{"code": r.code, "message": r.message} for r in v.reasons],
            "flags": [{"code": f.code, "message": f.message} for f in v.flags],
            "days_remaining": v.days_remaining,
            "latest_exit": _iso(v.latest_exit),
            "overstay_days": v.overstay_days,
            "visa_number": result.visa_number,
            "direction": body.direction,
            "recorded": result.recorded,
        }
    )


@router.get("/overstayers", summary="Travellers who overstayed in a state (analysts and admins of that state)")
def overstayers(
    services: ServicesDep, actor: Annotated[Actor, require(Role.ANALYST, Role.ADMIN, Role.BORDER_GUARD)]
) -> dict[str, Any]:
    today = services.clock.now().date()
    return {
        "state": actor.country,
        "on": today.isoformat(),
        "items": [
            {
                "visa_number": o.visa_number,
                "nationality": o.nationality,
                "office": o.office,
                "since": o.since.isoformat(),
                "latest_exit": _iso(o.latest_exit),
                "overstay_days": o.overstay_days,
                "left": o.left,
            }
            for o in services.visa_queries.overstayers(actor.country, today)
        ],
    }


# --- views ---------------------------------------------------------------------------------------------------


def _file(services: Services, application_id: str) -> VisaApplication:
    found = services.visa_queries.application(application_id)
    if found is None:
        raise ApplicationNotFound(f"no visa application {application_id}")
    return found[0]


def _visible(
    services: Services, application_id: str, actor: Actor | None, token: str | None
) -> tuple[VisaApplication, bool]:
    """The file if the caller may see it, and whether as a consul; the same 404 for a wrong token as for none."""
    found = services.visa_queries.application(application_id)
    missing = ApplicationNotFound(f"no visa application {application_id} with this token")
    if found is None:
        raise missing
    file, digest = found
    if token is not None:
        if not digest or not hmac.compare_digest(handlers.token_digest(token), digest):
            raise missing
        return file, False
    if actor is None:
        raise missing
    if actor.role is Role.CONSULAR and (actor.country == file.competent_state or actor.country in file.consultations):
        return file, True
    raise NotPermitted("only consuls of the competent state or of a consulted state see this application")


def _visa_file(services: Services, number: str, actor: Actor | None, passport_number: str | None) -> VisaApplication:
    file = services.visa_queries.visa(number.strip().upper())
    missing = VisaNotFound(f"no visa {number} for this passport")
    if file is None or file.visa is None:
        raise missing
    if passport_number is not None:
        if check_passport_number(passport_number) != file.applicant.passport_number:
            raise missing
        return file
    if actor is not None and actor.role in (Role.CONSULAR, Role.BORDER_GUARD, Role.ADMIN):
        return file
    if actor is None:
        raise missing
    raise NotPermitted(
        "visas are shown to consuls, border guards and admins, or to the holder with the passport number"
    )


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _fee(file: VisaApplication) -> dict[str, Any]:
    shares = file.lodged.fee_shares
    total = sum((Decimal(v) for v in shares.values()), Decimal(0))
    return {"amount": str(total), "currency": file.lodged.fee_currency, "shares": dict(shares)}


def _decision_view(file: VisaApplication) -> dict[str, Any]:
    if file.refusal is not None:
        return {
            "refusal": {
                "grounds": [
                    {
                        "code": g,
                        "article": REFUSAL_GROUNDS[g].article,
                        "text": REFUSAL_GROUNDS[g].text,
                        "what_you_can_do": REFUSAL_GROUNDS[g].remedy,
                    }
                    for g in file.refusal.grounds
                ],
                "appeal_until": file.refusal.appeal_until.isoformat(),
                "appeal_to": f"the competent authority of {file.competent_state} named in the refusal notice",
            }
        }
    return {}


def _application_view(services: Services, file: VisaApplication, *, passport: bool = True) -> dict[str, Any]:
    """The application as its readers see it; without the passport number when `passport` is false (the answer to
    a POST, which an Idempotency-Key stores in clear, while passport numbers are only stored encrypted or hashed)."""
    now = services.clock.now()
    view: dict[str, Any] = {
        "id": file.id,
        "status": file.status.value,
        "competent_state": file.competent_state,
        "lodged_at": file.lodged.at.isoformat(),
        "applicant": file.lodged.applicant_json(),  # as the signed lodging record states them
        "plan": file.lodged.plan_json(),
        "fee": _fee(file),
        "consultation": {
            "until": _iso(file.lodged.consultation_until),
            "open": file.consultation_open(now),
            "states": [
                {
                    "state": c.state,
                    "answered": c.objection is not None,
                    "objection": c.objection,
                    "grounds": list(c.grounds),
                }
                for c in file.consultations.values()
            ],
        },
        **_decision_view(file),
        "visa": None if file.visa is None else _visa_view(services, file, passport=passport),
    }
    if not passport:
        del view["applicant"]["passport_number"]
    return view


def _visa_view(services: Services, file: VisaApplication, *, passport: bool = True) -> dict[str, Any]:
    """The visa as officers and its holder see it; without the passport number when `passport` is false."""
    visa = file.visa
    assert visa is not None
    t = visa.terms
    view: dict[str, Any] = {
        "number": visa.number,
        "status": visa.status.value,
        "type": "limited_territorial_validity" if t.limited else "uniform",
        "issuing_state": visa.issuing_state,
        "issuing_office": visa.issuing_office,
        "issued_at": visa.issued_at.isoformat(),
        "mrz": list(visa.mrz),
        "valid_from": t.valid_from.isoformat(),
        "valid_until": t.valid_until.isoformat(),
        "states": list(t.states),
        "excluded_states": list(t.excluded_states),
        "entries": t.entries.value,
        "duration_of_stay_days": t.duration_of_stay_days,
        "passport_number": file.applicant.passport_number,
        "holder": {"surname": file.applicant.surname, "given_names": file.applicant.given_names},
        "revocation": None
        if visa.revoked_at is None
        else {
            "status": visa.status.value,
            "by": visa.revoked_by,
            "at": visa.revoked_at.isoformat(),
            "grounds": list(visa.revocation_grounds),
        },
    }
    if not passport:
        del view["passport_number"]
    return view

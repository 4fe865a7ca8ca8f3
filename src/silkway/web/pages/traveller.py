"""The traveller's pages, without an account: apply for the visa and follow it by its secret link.

The status token is the traveller's only key: it is shown once, on the page that confirms the lodging, and
the status pages take it from ``?token=``. A valid token is also kept in a cookie scoped to that one
application's pages, so following a link without it (the language switch) does not lose the way in. A wrong
token gets the very answer an unknown application gets.

The words and facts every visa page shows live in `visa_words`.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import FormData

from silkway.i18n import LANGUAGES
from silkway.shared.errors import DomainError, InvalidInput
from silkway.visas import handlers
from silkway.visas.application import VisaApplication
from silkway.visas.commands import LodgeApplication
from silkway.visas.errors import ApplicationNotFound, InvalidApplication, VisaNotFound
from silkway.visas.model import (
    Applicant,
    ApplicationStatus,
    Entries,
    Purpose,
    Sex,
    StatePlan,
    TravelPlan,
    VisaStatus,
)
from silkway.visas.mrz import NAME_WIDTH, NoMrzForm, name_field, transliterate
from silkway.web.errors import status_of
from silkway.web.limits import TooManyRequests, count_visa_application
from silkway.web.pages.base import LANGUAGE_NAMES, N_, FormDep, FormProblem, Page, PageDep
from silkway.web.pages.problems import FALLBACK
from silkway.web.pages.visa_words import (
    ENTRIES,
    PURPOSES,
    SEXES,
    VISA_STATUSES,
    country_name,
    form_date,
    form_text,
    grounds_in,
    nationality_name,
    nationality_options,
    seal_image,
    state_names,
    state_options,
    visa_stay,
)

router = APIRouter(include_in_schema=False)

TOKEN_COOKIE = "silkway_visa_token"  # noqa: S105 - the name of a cookie, not a secret
"""The status token of one application, scoped by path to that application's pages."""

ROWS = 10
"""Rows of states on the form: as many as the scheme has states."""

NAME_LIMIT = 100


# --- applying ------------------------------------------------------------------------------------------------

TEXT_FIELDS = (
    "surname",
    "given_names",
    "native_name",
    "nationality",
    "date_of_birth",
    "sex",
    "passport_number",
    "passport_expiry",
    "main_destination",
    "from",
    "to",
    "entries",
    "purpose",
)


def _row_fields(i: int) -> tuple[str, str, str]:
    return f"states[{i}]", f"itinerary[{i}].from", f"itinerary[{i}].to"


def _blank_values() -> dict[str, str]:
    values = dict.fromkeys(TEXT_FIELDS, "")
    values.update(entries="single", purpose="tourism")
    for i in range(ROWS):
        values.update(dict.fromkeys(_row_fields(i), ""))
    return values


def _typed_values(form: FormData) -> dict[str, str]:
    values = _blank_values()
    for name in values:
        values[name] = form_text(form, name, limit=500)
    return values


@dataclass(frozen=True, slots=True)
class _Rows:
    """Which form row each state of the plan and each leg of its itinerary came from."""

    states: list[int]
    legs: list[int]

    def field(self, name: str) -> str:
        """A domain field path (``states[1]``, ``itinerary[0].from``) as the name of the form's input."""
        if m := re.fullmatch(r"states\[(\d+)\]", name):
            k = int(m[1])
            return f"states[{self.states[k]}]" if k < len(self.states) else "states"
        if m := re.fullmatch(r"itinerary\[(\d+)\](?:\.(state|from|to))?", name):
            k = int(m[1])
            if k >= len(self.legs):
                return "states"
            row = self.legs[k]
            return f"states[{row}]" if m[2] == "state" else f"itinerary[{row}].{m[2] or 'from'}"
        return name


def _lodge_command(values: Mapping[str, str]) -> tuple[LodgeApplication, _Rows]:
    """The command the form describes. Raises `InvalidInput` naming every field of the form at fault that can be
    told without the scheme (missing, malformed, a name with no MRZ form, the plan's own shape)."""
    fields: dict[str, str] = {}
    for name in ("surname", "nationality", "sex", "passport_number", "entries", "purpose"):
        if not values.get(name):
            fields[name] = "missing"
    born = form_date(values, "date_of_birth", fields)
    expiry = form_date(values, "passport_expiry", fields)
    arrive = form_date(values, "from", fields)
    leave = form_date(values, "to", fields)
    if values.get("sex") and values["sex"] not in {s.value for s in Sex}:
        fields["sex"] = "format"
    if values.get("entries") and values["entries"] not in {e.value for e in Entries}:
        fields["entries"] = "format"
    if values.get("purpose") and values["purpose"] not in {p.value for p in Purpose}:
        fields["purpose"] = "format"
    states: list[str] = []
    state_rows: list[int] = []
    legs: list[StatePlan] = []
    leg_rows: list[int] = []
    for i in range(ROWS):
        state_field, from_field, to_field = _row_fields(i)
        state = values.get(state_field, "")
        leg_from = form_date(values, from_field, fields, required=False)
        leg_to = form_date(values, to_field, fields, required=False)
        given = bool(values.get(from_field) or values.get(to_field))
        if not state:
            if given:
                fields[state_field] = "missing"
            continue
        if state not in states:
            states.append(state)
            state_rows.append(i)
        if given:
            if not values.get(from_field):
                fields[from_field] = "missing"
            if not values.get(to_field):
                fields[to_field] = "missing"
            if leg_from is not None and leg_to is not None:
                legs.append(StatePlan(state=state, arrive=leg_from, leave=leg_to))
                leg_rows.append(i)
    if not states:
        fields["states"] = "empty"
    rows = _Rows(states=state_rows, legs=leg_rows)
    for name in ("surname", "given_names"):
        fault = name_fault(values.get(name, ""))
        if fault is not None:
            fields[name] = f"no form in the machine-readable zone ({fault})"
    if fields:
        names_only = set(fields) <= {"surname", "given_names"} and all(
            name_fault(values.get(name, "")) not in (None, "too_long") for name in fields
        )
        kind = NoMrzForm if names_only else InvalidApplication
        raise kind("the application form is not complete", fields=fields)
    if born is None or expiry is None or arrive is None or leave is None:  # each was noted in `fields` above
        raise InvalidApplication("the application form is not complete")
    problems: dict[str, str] = {}
    applicant: Applicant | None = None
    plan: TravelPlan | None = None
    try:
        applicant = Applicant(
            surname=values["surname"],
            given_names=values.get("given_names", ""),
            native_name=values.get("native_name") or None,
            nationality=values["nationality"].upper(),
            date_of_birth=born,
            sex=Sex(values["sex"]),
            passport_number=values["passport_number"],
            passport_expiry=expiry,
        )
    except InvalidInput as exc:
        problems.update(exc.fields)
    try:
        plan = TravelPlan(
            states=tuple(states),
            arrive=arrive,
            leave=leave,
            main_destination=values.get("main_destination") or None,
            purpose=Purpose(values["purpose"]),
            entries=Entries(values["entries"]),
            itinerary=tuple(legs),
        )
    except InvalidInput as exc:
        problems.update({rows.field(name): why for name, why in exc.fields.items()})
    if problems or applicant is None or plan is None:
        raise InvalidApplication("the application breaks a rule", fields=problems)
    return LodgeApplication(applicant=applicant, plan=plan), rows


_SENTENCES: tuple[tuple[str, str, str], ...] = (
    # (field pattern, words in the domain's reason, the sentence shown beside the field)
    ("nationality", "alpha-3", N_("Choose a nationality from the list.")),
    ("nationality", "malformed", N_("Choose a nationality from the list.")),
    ("nationality", "needs no visa", N_("Holders of this passport need no visa for the states chosen.")),
    (r"states\[\d+\]", "does not take part", N_("This state does not take part in the Commonwealth Visa.")),
    (r"states\[\d+\]", "malformed", N_("Choose a state from the list.")),
    ("states", "empty", N_("Name at least one state you will visit.")),
    (
        "states",
        "not eligible",
        N_("Holders of this passport cannot get the Commonwealth Visa for one of these states."),
    ),
    ("main_destination", "not listed", N_("The main destination must be one of the states you visit.")),
    ("to", "ends before it starts", N_("The stay cannot end before it starts.")),
    ("to", "a short stay is at most", N_("A short stay is at most %(days)s days.")),
    ("from", "in the past", N_("The stay cannot start before today.")),
    ("from", "lodged at most", N_("Apply at most %(ahead)s days before the journey.")),
    (
        r"itinerary\[\d+\]\.from",
        "outside the stay",
        N_("The days in this state must lie within the stay, arrival first."),
    ),
    ("date_of_birth", "in the future", N_("The date of birth cannot be in the future.")),
    ("passport_expiry", "has expired", N_("The passport has expired.")),
    ("passport_expiry", "must be valid", N_("The passport must be valid at least %(validity)s days after the stay.")),
    (
        "passport_number",
        "malformed",
        N_("A passport number is 1 to 9 Latin letters and digits, as in its machine-readable zone."),
    ),
)


def application_problem(
    visit: Page, error: DomainError, values: Mapping[str, str], rows: _Rows | None = None
) -> FormProblem:
    """`error` as the application form shows it: the general sentence, and beside each field what to fix."""
    if rows is not None:
        error = type(error)(error.detail, fields={rows.field(k): v for k, v in error.fields.items()})
    problem = visit.problem(error)
    scheme = visit.services.scheme
    numbers = {
        "days": visit.number(scheme.max_stay_days),
        "ahead": visit.number(scheme.max_lodging_days_ahead),
        "validity": visit.number(scheme.min_passport_validity_days),
    }
    fields = dict(problem.fields)
    for name, reason in error.fields.items():
        if name in ("surname", "given_names"):
            fault = name_fault(values.get(name, ""))
            if fault is not None:
                fields[name] = name_problem(visit, fault, _offending(values.get(name, "")))
                continue
        for pattern, words, sentence in _SENTENCES:
            if re.fullmatch(pattern, name) and words in reason:
                fields[name] = visit._(sentence, **{k: v for k, v in numbers.items() if f"%({k})s" in sentence})
                break
    return FormProblem(message=problem.message, fields=fields, detail=problem.detail)


def _apply_page(visit: Page, values: Mapping[str, str], problem: FormProblem | None, status: int = 200) -> Response:
    return visit.render(
        "traveller/apply.html",
        status=status,
        values=values,
        problem=problem,
        rows=[_row_fields(i) for i in range(ROWS)],
        nationalities=nationality_options(visit),
        states=state_options(visit),
        sexes=[(code, visit._(name)) for code, name in SEXES.items()],
        purposes=[(code, visit._(name)) for code, name in PURPOSES.items()],
        entries=[(code, visit._(name)) for code, name in ENTRIES.items()],
        scheme=visit.services.scheme,
        today=visit.services.clock.now().date(),
    )


@router.get("/visa/apply")
def apply_form(visit: PageDep) -> Response:
    return _apply_page(visit, _blank_values(), None)


@router.post("/visa/apply")
def apply(visit: PageDep, form: FormDep) -> Response:
    values = _typed_values(form)
    rows: _Rows | None = None
    try:
        command, rows = _lodge_command(values)
        services = visit.services
        count_visa_application(services, visit.request)
        lodged = handlers.lodge_application(
            command, uow=services.uow(), clock=services.clock, scheme=services.scheme, countries=services.countries
        )
    except DomainError as exc:
        return _apply_page(visit, values, application_problem(visit, exc, values, rows), status=status_of(exc))
    except TooManyRequests as exc:
        refused = FormProblem(message=visit._(FALLBACK), fields={}, detail=exc.detail)
        response = _apply_page(visit, values, refused, status=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    response = visit.redirect(f"/visa/status/{lodged.id}/lodged?token={lodged.token}")
    _remember(response, visit, lodged.id, lodged.token)
    return response


@router.get("/visa/apply/mrz-name")
def mrz_name(
    visit: PageDep,
    surname: Annotated[str, Query()] = "",
    given_names: Annotated[str, Query()] = "",
) -> JSONResponse:
    """The name as the visa's machine-readable zone will hold it, for the form's live preview (JSON)."""
    preview = name_preview(surname, given_names)
    if preview.problem is not None:
        return JSONResponse(
            {"ok": False, "field": preview.field, "message": name_problem(visit, preview.problem, preview.offending)}
        )
    if preview.zone is None:
        return JSONResponse({"ok": False, "field": None, "message": ""})
    truncated = (
        visit._(
            "The name is longer than the zone's %(num)s places: it will be shortened as shown.",
            num=visit.number(NAME_WIDTH),
        )
        if preview.truncated
        else ""
    )
    return JSONResponse(
        {
            "ok": True,
            "zone": preview.zone,
            "message": visit._(
                "In the machine-readable zone: surname %(surname)s, given names %(given)s.",
                surname=preview.surname,
                given=preview.given_names or "—",
            ),
            "truncated": truncated,
        }
    )


NAME_PROBLEMS: Mapping[str, str] = {
    "too_long": N_("This name is too long: at most %(num)s characters."),
    "character": N_(
        "“%(char)s” cannot be written in the machine-readable zone. Write the name in Latin letters, "
        "as in your passport."
    ),
    "no_letter": N_("This name has no letter that can be written in the machine-readable zone."),
}


def name_problem(visit: Page, problem: str, offending: str | None) -> str:
    """Why a name cannot be written in the MRZ, in the visitor's language."""
    if problem == "too_long":
        return visit._(NAME_PROBLEMS[problem], num=visit.number(NAME_LIMIT))
    if problem == "character":
        return visit._(NAME_PROBLEMS[problem], char=offending or "")
    words = NAME_PROBLEMS["no_letter"]
    return visit._(words)


@dataclass(frozen=True, slots=True, kw_only=True)
class NamePreview:
    """A name as the MRZ will hold it, or why it cannot."""

    zone: str | None = None  # the 39 places of the name field; None when there is nothing to show
    surname: str = ""
    given_names: str = ""
    truncated: bool = False
    field: str | None = None  # "surname" or "given_names": the name at fault
    problem: str | None = None  # a key of `NAME_PROBLEMS`
    offending: str | None = None  # the first character the MRZ cannot write


def name_preview(surname: str, given_names: str) -> NamePreview:
    """What `mrz.name_field` makes of the names, and whether it had to shorten them.

    Whether it did is read back from a field wide enough for the whole name: a field that is not cut ends
    with a letter, so stripping its fillers gives the whole name.
    """
    for field, text in (("surname", surname), ("given_names", given_names)):
        fault = name_fault(text)
        if fault is not None:
            return NamePreview(field=field, problem=fault, offending=_offending(text))
    if not surname.strip():
        return NamePreview()
    zone = name_field(surname, given_names)
    whole = name_field(surname, given_names, width=4 * NAME_LIMIT).rstrip("<")
    return NamePreview(
        zone=zone,
        surname=transliterate(surname),
        given_names=transliterate(given_names) if given_names.strip() else "",
        truncated=len(whole) > NAME_WIDTH,
    )


def _offending(text: str) -> str | None:
    """The first character of `text` the MRZ cannot write (a letter of another script, a digit, a symbol)."""
    for char in text:
        try:
            transliterate("A" + char)
        except NoMrzForm:
            return char
    return None


def name_fault(text: str) -> str | None:
    """Why `text` cannot be a name in the MRZ (a key of `NAME_PROBLEMS`), or None when it can (or is empty)."""
    if len(text) > NAME_LIMIT:
        return "too_long"
    if _offending(text) is not None:
        return "character"
    if text.strip() and not _has_letter(text):
        return "no_letter"
    return None


def _has_letter(text: str) -> bool:
    try:
        transliterate(text)
    except NoMrzForm:
        return False
    return True


# --- following the application --------------------------------------------------------------------------------


def _remember(response: Response, visit: Page, application_id: str, token: str) -> None:
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        path=f"/visa/status/{application_id}",
        httponly=True,
        samesite="strict",
        secure=visit.services.settings.production,
    )


def _opened(visit: Page, application_id: str, token: str | None) -> tuple[VisaApplication, str]:
    """The application and its token, when `token` (or the one remembered for it) opens it; else the same
    `ApplicationNotFound` as for an application that does not exist."""
    missing = ApplicationNotFound(f"no visa application {application_id[:40]} with this token")
    token = token or visit.request.cookies.get(TOKEN_COOKIE)
    if not token or len(application_id) > 64:
        raise missing
    found = visit.services.visa_queries.application(application_id)
    if found is None:
        raise missing
    file, digest = found
    if not digest or not hmac.compare_digest(handlers.token_digest(token), digest):
        raise missing
    return file, token


@dataclass(frozen=True, slots=True, kw_only=True)
class Standing:
    """Where an application stands, as the decision banner shows it."""

    kind: str  # a kind of the `decision` macro
    word: str
    text: str


def standing(visit: Page, file: VisaApplication) -> Standing:
    """The application's status in plain words, in the visitor's language."""
    competent = country_name(file.competent_state, visit.lang)
    visa = file.visa
    if visa is not None and visa.status is not VisaStatus.VALID:
        revoker = country_name(visa.revoked_by or "", visit.lang)
        if visa.status is VisaStatus.ANNULLED:
            return Standing(
                kind="refused",
                word=visit._("Annulled"),
                text=visit._(
                    "Your visa %(number)s was annulled by %(state)s on %(date)s: it was found that the conditions "
                    "for issuing it were not met. It is no longer valid.",
                    number=visa.number,
                    state=revoker,
                    date=visit.date(visa.revoked_at),
                ),
            )
        return Standing(
            kind="refused",
            word=visit._("Revoked"),
            text=visit._(
                "Your visa %(number)s was revoked by %(state)s on %(date)s: the conditions for it are no longer "
                "met. It is no longer valid.",
                number=visa.number,
                state=revoker,
                date=visit.date(visa.revoked_at),
            ),
        )
    if visa is not None:
        if file.status is ApplicationStatus.ISSUED_LTV:
            text = visit._(
                "Your visa %(number)s was issued by %(state)s. It is valid only in these states: %(states)s.",
                number=visa.number,
                state=competent,
                states=state_names(visit, visa.terms.states),
            )
        else:
            text = visit._(
                "Your visa %(number)s was issued by %(state)s. It is valid in every participating state.",
                number=visa.number,
                state=competent,
            )
        return Standing(kind="allowed", word=visit._("Visa issued"), text=text)
    if file.status is ApplicationStatus.REFUSED:
        return Standing(
            kind="refused",
            word=visit._("Visa refused"),
            text=visit._("The consular service of %(state)s refused your application.", state=competent),
        )
    if file.consultation_open(visit.services.clock.now()):
        return Standing(
            kind="pending",
            word=visit._("Under consultation"),
            text=visit._(
                "The consular service of %(state)s is examining your application and has asked other states for "
                "their opinion, as the Visa Code provides. They answer by %(date)s at the latest.",
                state=competent,
                date=visit.datetime(file.lodged.consultation_until),
            ),
        )
    return Standing(
        kind="pending",
        word=visit._("Lodged"),
        text=visit._(
            "Your application was lodged on %(date)s. The consular service of %(state)s is examining it.",
            date=visit.date(file.lodged.at),
            state=competent,
        ),
    )


def _fee(file: VisaApplication) -> Decimal:
    return sum((Decimal(v) for v in file.lodged.fee_shares.values()), Decimal(0))


@router.get("/visa/status/{application_id}/lodged")
def lodged(application_id: str, visit: PageDep, token: str | None = None) -> Response:
    file, token = _opened(visit, application_id, token)
    link = str(visit.request.base_url).rstrip("/") + f"/visa/status/{file.id}?token={token}"
    response = visit.render(
        "traveller/lodged.html",
        file=file,
        link=link,
        status_path=f"/visa/status/{file.id}?token={token}",
        competent=country_name(file.competent_state, visit.lang),
        fee=visit.number(_fee(file)),
        currency=file.lodged.fee_currency,
        consulted=state_names(visit, list(file.consultations)),
    )
    _remember(response, visit, file.id, token)
    return response


@router.get("/visa/status/{application_id}")
def status(application_id: str, visit: PageDep, token: str | None = None) -> Response:
    file, token = _opened(visit, application_id, token)
    services = visit.services
    visa = file.visa
    today = services.clock.now().date()
    refusal = file.refusal
    response = visit.render(
        "traveller/status.html",
        file=file,
        token=token,
        standing=standing(visit, file),
        applicant=file.applicant,
        plan=file.lodged.plan,
        competent=country_name(file.competent_state, visit.lang),
        nationality=nationality_name(visit, file.applicant.nationality),
        purpose=visit._(PURPOSES[file.lodged.plan.purpose]),
        entries_word=visit._(ENTRIES[file.lodged.plan.entries]),
        planned_states=state_names(visit, file.lodged.plan.states),
        grounds=[] if refusal is None else grounds_in(visit, refusal.grounds),
        appeal_until=None if refusal is None else refusal.appeal_until,
        appeal_open=refusal is not None and today <= refusal.appeal_until,
        visa=visa,
        sex_word=visit._(SEXES[file.applicant.sex]),
        visa_status=None if visa is None else visit._(VISA_STATUSES[visa.status]),
        visa_entries=None if visa is None else visit._(ENTRIES[visa.terms.entries]),
        visa_states=None if visa is None else state_names(visit, visa.terms.states),
        excluded_states=None if visa is None else state_names(visit, visa.terms.excluded_states),
        revocation_grounds=[] if visa is None else grounds_in(visit, visa.revocation_grounds),
        seal=None if visa is None or visa.status is not VisaStatus.VALID else seal_image(services, visa.number),
        stay=None if visa is None or visa.status is not VisaStatus.VALID else visa_stay(services, file),
        today=today,
        languages_of_pdf=list(LANGUAGE_NAMES.items()),
    )
    _remember(response, visit, file.id, token)
    return response


@router.get("/visa/status/{application_id}/evisa.pdf")
def evisa(application_id: str, visit: PageDep, token: str | None = None, lang: str | None = None) -> Response:
    file, _ = _opened(visit, application_id, token)
    if lang is not None and lang not in LANGUAGES:
        raise InvalidInput(f"unsupported language {lang[:10]!r}", fields={"lang": "format"})
    language = lang or visit.lang
    if file.visa is None:
        raise VisaNotFound(f"no visa was issued on application {file.id}")
    return Response(
        visit.services.evisa_pdf(file, language),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{file.visa.number}.pdf"',
            "Content-Language": language,
        },
    )


RECORD_TYPES: Mapping[str, str] = {
    "application_lodged": N_("Application lodged"),
    "consultation_replied": N_("Answer to the consultation"),
    "application_refused": N_("Application refused"),
    "visa_issued": N_("Visa issued"),
    "visa_revoked": N_("Visa revoked or annulled"),
    "border_checked": N_("Border check"),
}


@router.get("/visa/status/{application_id}/data")
def stored_data(application_id: str, visit: PageDep, token: str | None = None) -> Response:
    """Everything stored about the application, its signed records, who shares it and when it is erased."""
    file, token = _opened(visit, application_id, token)
    queries = visit.services.visa_queries
    records = queries.records(file.id)
    shared = list(file.visa.terms.states) if file.visa else [file.competent_state, *file.consultations]
    retention = visit.services.scheme.retention
    response = visit.render(
        "traveller/data.html",
        file=file,
        token=token,
        records=[
            {
                "seq": i,
                "type": visit._(RECORD_TYPES[r.type]) if r.type in RECORD_TYPES else r.type,
                "at": visit.datetime(r.at),
                "office": r.office,
                "hash": r.hash,
                "key_id": r.key_id,
                "log_index": r.log_index,
                "content": None
                if r.record is None
                else json.dumps(r.record.fields, ensure_ascii=False, indent=2, sort_keys=True),
            }
            for i, r in enumerate(records, start=1)
        ],
        shared_with=state_names(visit, shared),
        erase_after=queries.retention_of(file.id),
        retention=retention,
    )
    _remember(response, visit, file.id, token)
    return response

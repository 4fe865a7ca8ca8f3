"""The consular officer's pages: the applications queue of its state, the examination and the decision.

A consul sees its own state's applications (the competent state decides) and those its state is consulted
on (it may object, Visa Code Art. 22); it may open any visa of the scheme and revoke or annul it with
grounds (Art. 34), and it is told when another state revoked one of its own state's visas.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.datastructures import FormData

from silkway.shared.actors import Role
from silkway.shared.errors import DomainError, InvalidInput, NotPermitted
from silkway.visas import handlers
from silkway.visas.application import VisaApplication
from silkway.visas.border import history_of
from silkway.visas.commands import DecideApplication, ReplyToConsultation, RevokeVisa
from silkway.visas.errors import ApplicationNotFound, DecisionNotAllowed, VisaNotFound
from silkway.visas.examination import alert_hits
from silkway.visas.model import REFUSAL_GROUNDS, Alert, Applicant, ApplicationStatus, Entries, VisaStatus
from silkway.visas.mrz import NoMrzForm
from silkway.visas.names import BirthAgreement, birth_agreement
from silkway.visas.stay import days_in_window
from silkway.web.errors import status_of
from silkway.web.pages.base import N_, FormDep, FormProblem, Page, signed_in
from silkway.web.pages.visa_words import (
    APPLICATION_STATUSES,
    ENTRIES,
    GROUNDS,
    PURPOSES,
    SEXES,
    VISA_STATUSES,
    country_name,
    form_list,
    form_text,
    grounds_in,
    nationality_name,
    state_names,
    visa_stay,
)

router = APIRouter(include_in_schema=False)

ConsulPage = Annotated[Page, signed_in(Role.CONSULAR)]

PAGE_SIZE = 50

FILTERS: Mapping[str, str] = {
    "lodged": N_("Waiting for a decision"),
    "issued": N_("Visa issued"),
    "issued_ltv": N_("Visa with limited territorial validity issued"),
    "refused": N_("Visa refused"),
    "all": N_("All"),
}

BIRTH_AGREEMENT: Mapping[str, str] = {
    BirthAgreement.EQUAL: N_("the same date of birth"),
    BirthAgreement.NOT_IN_ALERT: N_("the alert gives no date of birth"),
    BirthAgreement.DAY_AND_MONTH_SWAPPED: N_("the same date of birth with day and month swapped"),
    BirthAgreement.SAME_YEAR_AND_MONTH: N_("the same year and month of birth"),
    BirthAgreement.SAME_YEAR_AND_DAY: N_("the same year and day of birth"),
}

DECISIONS: Mapping[str, str] = {
    "issue": N_("Issue a uniform visa (every participating state)"),
    "issue_ltv": N_("Issue a visa with limited territorial validity"),
    "refuse": N_("Refuse"),
}


# --- what a consul sees beside an application ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Hit:
    """An alert that may be the applicant, and why it matched, in the consul's language."""

    alert: Alert
    score: int  # per cent
    matched_on: str
    birth: str
    entered_by: str


def hits_of(visit: Page, applicant: Applicant, alerts: Sequence[Alert]) -> tuple[list[Hit], list[Alert]]:
    """The alert hits on `applicant`, best first, and the alerts that could not be compared (a name with no
    MRZ form on either side): those are shown too, for the consul to look at, never dropped silently."""
    hits: list[Hit] = []
    unmatched: list[Alert] = []
    for alert in alerts:
        try:
            found = alert_hits(applicant, [alert])
        except NoMrzForm:
            unmatched.append(alert)
            continue
        for hit in found:
            agreement = birth_agreement(applicant.date_of_birth, alert.date_of_birth)
            hits.append(
                Hit(
                    alert=alert,
                    score=round(hit.score * 100),
                    matched_on=hit.matched_on,
                    birth="" if agreement is None else visit._(BIRTH_AGREEMENT[agreement]),
                    entered_by=country_name(alert.state, visit.lang),
                )
            )
    return sorted(hits, key=lambda h: -h.score), unmatched


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueRow:
    id: str
    status: str
    status_word: str
    surname: str
    given_names: str
    nationality: str
    arrive: date
    leave: date
    lodged_at: Any
    hits: int
    objections: str
    consultation_open: bool
    visa_number: str | None


def _file(visit: Page, application_id: str) -> VisaApplication:
    found = visit.services.visa_queries.application(application_id) if len(application_id) <= 64 else None
    if found is None:
        raise ApplicationNotFound(f"no visa application {application_id[:40]}")
    return found[0]


def _visible(visit: Page, application_id: str) -> VisaApplication:
    """The application, if the consul's state is competent for it or consulted on it."""
    file = _file(visit, application_id)
    assert visit.actor is not None
    state = visit.actor.country
    if state != file.competent_state and state not in file.consultations:
        raise NotPermitted(
            f"application {application_id} is examined by {file.competent_state}; {state} is not consulted on it"
        )
    return file


@router.get("/consul/applications")
def queue(visit: ConsulPage, status: str = "lodged", page: str = "1") -> Response:
    """The queue of the consul's state, oldest first, with alert hits and objections marked."""
    if status not in FILTERS:
        raise InvalidInput(f"unknown filter {status[:20]!r}", fields={"status": "format"})
    number = int(page) if page.isdigit() and len(page) < 6 else 1
    page_number = max(1, number)
    assert visit.actor is not None
    queries = visit.services.visa_queries
    items, total = queries.applications(
        visit.actor.country,
        status=None if status == "all" else status,
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
    )
    alerts = queries.alerts(visit.services.clock.now().date())
    now = visit.services.clock.now()
    rows = []
    for item in items:
        found = queries.application(item.id)
        if found is None:
            continue
        file = found[0]
        hits, unmatched = hits_of(visit, file.applicant, alerts)
        rows.append(
            QueueRow(
                id=item.id,
                status=item.status,
                status_word=visit._(APPLICATION_STATUSES[file.status]),
                surname=item.surname,
                given_names=item.given_names,
                nationality=nationality_name(visit, item.nationality),
                arrive=item.arrive,
                leave=item.leave,
                lodged_at=item.lodged_at,
                hits=len(hits) + len(unmatched),
                objections=state_names(visit, file.objecting_states),
                consultation_open=file.consultation_open(now),
                visa_number=item.visa_number,
            )
        )
    return visit.render(
        "consul/queue.html",
        rows=rows,
        total=total,
        chosen=status,
        filters=[(code, visit._(name)) for code, name in FILTERS.items()],
        page_number=page_number,
        pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
        state=country_name(visit.actor.country, visit.lang),
    )


# --- the application and the decision ---------------------------------------------------------------------------


def _decision_defaults(visit: Page, file: VisaApplication) -> dict[str, Any]:
    """The decision form as it first shows: the visa the applicant asked for, from today at the earliest."""
    plan = file.lodged.plan
    today = visit.services.scheme.states[file.competent_state].local_day(visit.services.clock.now())
    valid_from = max(plan.arrive, today)
    valid_until = min(plan.leave + timedelta(days=15), file.applicant.passport_expiry)
    return {
        "decision": "",
        "valid_from": valid_from.isoformat(),
        "valid_until": max(valid_until, valid_from).isoformat(),
        "duration_of_stay_days": str(plan.days),
        "entries": plan.entries.value,
        "excluded_states": list(file.objecting_states),
        "grounds": [],
        "note": "",
    }


def _reply_defaults() -> dict[str, Any]:
    return {"objection": "", "grounds": [], "reason": ""}


def _application_page(
    visit: Page,
    file: VisaApplication,
    *,
    decision: Mapping[str, Any] | None = None,
    decision_problem: FormProblem | None = None,
    reply: Mapping[str, Any] | None = None,
    reply_problem: FormProblem | None = None,
    done: str = "",
    status: int = 200,
) -> Response:
    services = visit.services
    assert visit.actor is not None
    state = visit.actor.country
    now = services.clock.now()
    today = now.date()
    applicant = file.applicant
    plan = file.lodged.plan
    hits, unmatched = hits_of(visit, applicant, services.visa_queries.alerts(today))
    crossings = services.visa_queries.crossings_of(applicant.passport_number, applicant.nationality)
    history = history_of(crossings)
    consultation_open = file.consultation_open(now)
    mine = file.consultations.get(state)
    may_reply = (
        mine is not None
        and mine.objection is None
        and file.status is ApplicationStatus.LODGED
        and file.lodged.consultation_until is not None
        and now < file.lodged.consultation_until
    )
    visa = file.visa
    return visit.render(
        "consul/application.html",
        status=status,
        file=file,
        applicant=applicant,
        plan=plan,
        nationality=nationality_name(visit, applicant.nationality),
        sex_word=visit._(SEXES[applicant.sex]),
        purpose=visit._(PURPOSES[plan.purpose]),
        entries_word=visit._(ENTRIES[plan.entries]),
        planned_states=state_names(visit, plan.states),
        main_destination=country_name(plan.main_destination, visit.lang) if plan.main_destination else "",
        legs=[(country_name(leg.state, visit.lang), leg) for leg in plan.itinerary],
        competent=country_name(file.competent_state, visit.lang),
        status_word=visit._(APPLICATION_STATUSES[file.status]),
        hits=hits,
        unmatched=unmatched,
        consultations=[
            {
                "state": country_name(c.state, visit.lang),
                "answered": c.objection is not None,
                "objection": bool(c.objection),
                "grounds": grounds_in(visit, c.grounds),
                "reason": c.reason,
            }
            for c in file.consultations.values()
        ],
        consultation_open=consultation_open,
        crossings=[
            {
                "day": c.day,
                "state": country_name(c.state, visit.lang),
                "direction": c.direction.value,
                "visa_number": c.visa_number,
            }
            for c in crossings
        ],
        history_anomalies=len(history.anomalies),
        days_in_window=days_in_window(history.stays, today),
        refusal_grounds=[] if file.refusal is None else grounds_in(visit, file.refusal.grounds),
        appeal_until=None if file.refusal is None else file.refusal.appeal_until,
        visa=visa,
        visa_status=None if visa is None else visit._(VISA_STATUSES[visa.status]),
        visa_entries=None if visa is None else visit._(ENTRIES[visa.terms.entries]),
        visa_states=None if visa is None else state_names(visit, visa.terms.states),
        excluded_states=None if visa is None else state_names(visit, visa.terms.excluded_states),
        may_decide=state == file.competent_state and file.status is ApplicationStatus.LODGED,
        may_reply=may_reply,
        decision=decision or _decision_defaults(visit, file),
        decision_problem=decision_problem,
        reply=reply or _reply_defaults(),
        reply_problem=reply_problem,
        decisions=[(code, visit._(words)) for code, words in DECISIONS.items()],
        ground_choices=[(code, REFUSAL_GROUNDS[code].article, visit._(words.text)) for code, words in GROUNDS.items()],
        other_states=[
            (code, "", country_name(code, visit.lang))
            for code in services.scheme.participating
            if code != file.competent_state
        ],
        entries_choices=[(code, visit._(words)) for code, words in ENTRIES.items()],
        done=done,
    )


@router.get("/consul/applications/{application_id}")
def application(application_id: str, visit: ConsulPage, done: str = "") -> Response:
    file = _visible(visit, application_id)
    return _application_page(visit, file, done=done if done in ("decided", "replied") else "")


def _decision_values(form: FormData) -> dict[str, Any]:
    return {
        "decision": form_text(form, "decision", limit=20),
        "valid_from": form_text(form, "valid_from", limit=20),
        "valid_until": form_text(form, "valid_until", limit=20),
        "duration_of_stay_days": form_text(form, "duration_of_stay_days", limit=10),
        "entries": form_text(form, "entries", limit=20),
        "excluded_states": form_list(form, "excluded_states"),
        "grounds": form_list(form, "grounds"),
        "note": form_text(form, "note"),
    }


def _decide_command(visit: Page, application_id: str, values: Mapping[str, Any]) -> DecideApplication:
    """The decision the form describes; raises `InvalidInput` for what is missing or malformed."""
    assert visit.actor is not None
    fields: dict[str, str] = {}
    decision = values["decision"]
    if decision not in DECISIONS:
        fields["decision"] = "missing"
    issuing = decision in ("issue", "issue_ltv")
    dates: dict[str, date | None] = {}
    for name in ("valid_from", "valid_until"):
        dates[name] = None
        if values[name]:
            try:
                dates[name] = date.fromisoformat(values[name])
            except ValueError:
                fields[name] = "format"
        elif issuing:
            fields[name] = "missing"
    duration: int | None = None
    if values["duration_of_stay_days"]:
        try:
            duration = int(values["duration_of_stay_days"])
        except ValueError:
            fields["duration_of_stay_days"] = "format"
    elif issuing:
        fields["duration_of_stay_days"] = "missing"
    entries = values["entries"]
    if entries and entries not in {e.value for e in Entries}:
        fields["entries"] = "format"
    elif not entries and issuing:
        fields["entries"] = "missing"
    if fields:
        raise InvalidInput("the decision form is not complete", fields=fields)
    return DecideApplication(
        actor=visit.actor,
        application_id=application_id,
        decision=decision,
        grounds=tuple(values["grounds"]) if decision == "refuse" else (),
        excluded_states=tuple(values["excluded_states"]) if decision == "issue_ltv" else (),
        valid_from=dates["valid_from"] if issuing else None,
        valid_until=dates["valid_until"] if issuing else None,
        duration_of_stay_days=duration if issuing else None,
        entries=Entries(entries) if issuing and entries else None,
        note=values["note"],
    )


_DECISION_SENTENCES: tuple[tuple[str, str, str], ...] = (
    # (field pattern, words in the domain's reason, the sentence shown beside the field)
    ("decision", "missing", N_("Choose a decision.")),
    ("grounds", "empty", N_("Tick at least one ground.")),
    ("grounds", "unknown", N_("Tick the grounds from the list.")),
    ("valid_from", "in the past", N_("A visa cannot be valid from a day in the past.")),
    ("valid_until", "before valid_from", N_("The validity cannot end before it starts.")),
    ("valid_until", "after the passport expires", N_("A visa cannot be valid beyond the passport's expiry.")),
    ("valid_from|valid_until|duration_of_stay_days|entries", "required to issue", N_("Required to issue a visa.")),
    ("duration_of_stay_days", "out of range", N_("The duration of stay is 1 to 90 days.")),
    ("duration_of_stay_days", "longer than the validity", N_("The duration of stay cannot exceed the validity.")),
    (
        "excluded_states",
        "not empty",
        N_("A uniform visa leaves out no state: untick them, or choose limited territorial validity."),
    ),
    ("excluded_states", "empty", N_("Tick at least one state the visa leaves out.")),
    ("excluded_states", "must include", N_("The visa must leave out the states that objected: %(states)s.")),
    ("excluded_states", "competent state", N_("The issuing state cannot leave itself out.")),
    ("excluded_states", "unknown", N_("Tick the states from the list.")),
    ("reason", "empty", N_("State the reason.")),
    ("objection", "missing", N_("Choose your state's answer.")),
)


def decision_problem(visit: Page, error: DomainError) -> FormProblem:
    """A decision, consultation or revocation error as the consul's form shows it."""
    fields = {re.sub(r"\[\d+\]$", "", k): v for k, v in error.fields.items()}
    problem = visit.problem(type(error)(error.detail, fields=fields))
    message = problem.message
    if isinstance(error, DecisionNotAllowed):
        if "consultation is still open" in error.detail:
            message = visit._(
                "Prior consultation is still open: refuse now, or issue once every consulted state has answered or "
                "its time has run out."
            )
        elif "already decided" in error.detail:
            message = visit._("The application is already decided.")
        elif "already answered" in error.detail:
            message = visit._("Your state has already answered this consultation.")
        elif "ran out" in error.detail:
            message = visit._("The time to object has run out.")
        elif "is already" in error.detail:
            message = visit._("The visa is already revoked or annulled.")
    shown = dict(problem.fields)
    for name, reason in fields.items():
        for pattern, words, sentence in _DECISION_SENTENCES:
            if re.fullmatch(pattern, name) and words in reason:
                states = reason.split("must include", 1)[-1].strip()
                codes = [s.strip() for s in states.split(",") if s.strip()]
                shown[name] = (
                    visit._(sentence, states=state_names(visit, codes))
                    if "%(states)s" in sentence
                    else visit._(sentence)
                )
                break
    return FormProblem(message=message, fields=shown, detail=problem.detail)


@router.post("/consul/applications/{application_id}/decision")
def decide(application_id: str, visit: ConsulPage, form: FormDep) -> Response:
    file = _visible(visit, application_id)
    values = _decision_values(form)
    services = visit.services
    try:
        command = _decide_command(visit, file.id, values)
        handlers.decide_application(command, uow=services.uow(), clock=services.clock, scheme=services.scheme)
    except DomainError as exc:
        return _application_page(
            visit,
            _file(visit, file.id),
            decision=values,
            decision_problem=decision_problem(visit, exc),
            status=status_of(exc),
        )
    return visit.redirect(f"/consul/applications/{file.id}?done=decided")


# --- prior consultation -----------------------------------------------------------------------------------------


@router.get("/consul/consultations")
def consultations(visit: ConsulPage) -> Response:
    """The applications the consul's state is consulted on and may still object to, the most urgent first."""
    assert visit.actor is not None
    items = visit.services.visa_queries.consultations(visit.actor.country, visit.services.clock.now())
    return visit.render(
        "consul/consultations.html",
        items=[
            {
                "id": a.id,
                "competent": country_name(a.competent_state, visit.lang),
                "nationality": nationality_name(visit, a.nationality),
                "name": f"{a.surname} {a.given_names}".strip(),
                "until": a.consultation_until,
                "arrive": a.arrive,
                "leave": a.leave,
            }
            for a in items
        ],
        state=country_name(visit.actor.country, visit.lang),
    )


@router.post("/consul/applications/{application_id}/consultation")
def reply(application_id: str, visit: ConsulPage, form: FormDep) -> Response:
    assert visit.actor is not None
    file = _visible(visit, application_id)
    answer, grounds, reason = (
        form_text(form, "objection", limit=5),
        form_list(form, "grounds"),
        form_text(form, "reason"),
    )
    values: dict[str, Any] = {"objection": answer, "grounds": grounds, "reason": reason}
    services = visit.services
    try:
        if answer not in ("yes", "no"):
            raise InvalidInput("answer with an objection or none", fields={"objection": "missing"})
        objection = answer == "yes"
        handlers.reply_to_consultation(
            ReplyToConsultation(
                actor=visit.actor,
                application_id=file.id,
                objection=objection,
                grounds=tuple(grounds) if objection else (),
                reason=reason,
            ),
            uow=services.uow(),
            clock=services.clock,
            scheme=services.scheme,
        )
    except DomainError as exc:
        return _application_page(
            visit,
            _file(visit, file.id),
            reply=values,
            reply_problem=decision_problem(visit, exc),
            status=status_of(exc),
        )
    return visit.redirect(f"/consul/applications/{file.id}?done=replied")


# --- visas: revocation and notifications ----------------------------------------------------------------------


def _visa_file(visit: Page, number: str) -> VisaApplication:
    number = number.strip().upper()
    file = visit.services.visa_queries.visa(number) if 0 < len(number) <= 20 else None
    if file is None or file.visa is None:
        raise VisaNotFound(f"no visa {number[:20]}")
    return file


def _visa_page(
    visit: Page,
    file: VisaApplication,
    *,
    values: Mapping[str, Any] | None = None,
    problem: FormProblem | None = None,
    done: bool = False,
    status: int = 200,
) -> Response:
    assert visit.actor is not None
    visa = file.visa
    assert visa is not None
    applicant = file.applicant
    stay = visa_stay(visit.services, file)
    return visit.render(
        "consul/visa.html",
        status=status,
        file=file,
        visa=visa,
        applicant=applicant,
        nationality=nationality_name(visit, applicant.nationality),
        sex_word=visit._(SEXES[applicant.sex]),
        visa_status=visit._(VISA_STATUSES[visa.status]),
        visa_entries=visit._(ENTRIES[visa.terms.entries]),
        visa_states=state_names(visit, visa.terms.states),
        excluded_states=state_names(visit, visa.terms.excluded_states),
        issuing=country_name(visa.issuing_state, visit.lang),
        revoked_by=country_name(visa.revoked_by, visit.lang) if visa.revoked_by else "",
        revocation_grounds=grounds_in(visit, visa.revocation_grounds),
        may_revoke=visa.status is VisaStatus.VALID,
        own_application=file.competent_state == visit.actor.country or visit.actor.country in file.consultations,
        stay=stay,
        values=values or {"action": "", "grounds": [], "reason": ""},
        problem=problem,
        ground_choices=[(code, REFUSAL_GROUNDS[code].article, visit._(words.text)) for code, words in GROUNDS.items()],
        done=done,
    )


@router.get("/consul/visas")
def find_visa(visit: ConsulPage, number: str = "") -> Response:
    """Open a visa by its number (the lookup form of the notifications page)."""
    try:
        file = _visa_file(visit, number)
    except VisaNotFound as exc:
        found = visit.problem(exc)
        problem = FormProblem(message=found.message, fields={"number": found.message}, detail=found.detail)
        return _notifications_page(visit, number=number[:20], problem=problem, status=404)
    assert file.visa is not None
    return visit.redirect(f"/consul/visas/{file.visa.number}")


@router.get("/consul/visas/{number}")
def visa_page(number: str, visit: ConsulPage, done: str = "") -> Response:
    return _visa_page(visit, _visa_file(visit, number), done=done == "revoked")


@router.post("/consul/visas/{number}/revocation")
def revoke(number: str, visit: ConsulPage, form: FormDep) -> Response:
    assert visit.actor is not None
    file = _visa_file(visit, number)
    assert file.visa is not None
    action, grounds, reason = form_text(form, "action", limit=10), form_list(form, "grounds"), form_text(form, "reason")
    values: dict[str, Any] = {"action": action, "grounds": grounds, "reason": reason}
    services = visit.services
    try:
        if action not in ("revoke", "annul"):
            raise InvalidInput("choose to revoke or to annul", fields={"action": "missing"})
        handlers.revoke_visa(
            RevokeVisa(
                actor=visit.actor,
                number=file.visa.number,
                grounds=tuple(grounds),
                reason=reason,
                annul=action == "annul",
            ),
            uow=services.uow(),
            clock=services.clock,
            scheme=services.scheme,
        )
    except DomainError as exc:
        problem = decision_problem(visit, exc)
        if "action" in exc.fields:
            problem = FormProblem(
                message=problem.message,
                fields={**problem.fields, "action": visit._("Choose to revoke or to annul.")},
                detail=problem.detail,
            )
        return _visa_page(
            visit, _visa_file(visit, file.visa.number), values=values, problem=problem, status=status_of(exc)
        )
    return visit.redirect(f"/consul/visas/{file.visa.number}?done=revoked")


def _notifications_page(
    visit: Page, *, number: str = "", problem: FormProblem | None = None, status: int = 200
) -> Response:
    assert visit.actor is not None
    items = visit.services.visa_queries.notifications(visit.actor.country)
    return visit.render(
        "consul/notifications.html",
        status=status,
        items=[
            {
                "number": n.visa_number,
                "status": visit._(VISA_STATUSES[VisaStatus(n.status)]),
                "by": country_name(n.revoked_by, visit.lang),
                "at": n.revoked_at,
            }
            for n in items
        ],
        number=number,
        problem=problem,
        state=country_name(visit.actor.country, visit.lang),
    )


@router.get("/consul/notifications")
def notifications(visit: ConsulPage) -> Response:
    """The visas of the consul's state that another state revoked or annulled (Visa Code Art. 34(7))."""
    return _notifications_page(visit)

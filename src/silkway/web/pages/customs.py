"""The customs officer's pages at a chosen office: expected arrivals, lookup, the decision, recording what was done.

The officer first chooses the office of their state where they work today; it is remembered in a cookie and
every action is taken at it. A vehicle presented there gets the inspect-once decision, shown big and in words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from silkway.documents.model import PAYLOAD_PREFIX
from silkway.documents.reading import UnreadableDocument, read_payloads
from silkway.documents.transit import check_seal
from silkway.places.model import Office
from silkway.shared.actors import Actor, Role
from silkway.shared.errors import DomainError, InvalidInput
from silkway.shared.mrn import Mrn
from silkway.storage.trust import LoggedRecord
from silkway.transit import handlers
from silkway.transit.commands import (
    ControlReport,
    DischargeTransit,
    PresentVehicle,
    RecordArrival,
    RecordControl,
    RecordPassage,
    RefuseRelease,
    ReleaseForTransit,
    ReportIncident,
)
from silkway.transit.errors import TransitNotFound
from silkway.transit.events import ArrivalRecorded, BorderEntered, BorderExited, TransitReleased, VehiclePresented
from silkway.transit.lifecycle import Transit
from silkway.transit.model import (
    MAX_SEALS,
    ControlKind,
    ControlOutcome,
    IncidentKind,
    TransitStatus,
    normalise_seals,
)
from silkway.web.errors import status_of
from silkway.web.pages.base import (
    N_,
    OFFICE_COOKIE,
    FormDep,
    FormProblem,
    Page,
    SignInNeeded,
    safe_next,
    signed_in,
)
from silkway.web.pages.transit_story import (
    CONTROL_KINDS,
    CONTROL_OUTCOMES,
    INCIDENT_KINDS,
    STATUS_BADGES,
    TransitStory,
    Verdict,
)

router = APIRouter(include_in_schema=False)

CustomsPage = Annotated[Page, signed_in(Role.CUSTOMS)]

PER_PAGE = 25
MAX_PHOTO = 8 * 1024 * 1024
DONE: Mapping[str, str] = {
    "release": N_("Released for transit."),
    "refuse": N_("Release refused."),
    "control": N_("The control is recorded."),
    "passage": N_("The passage is recorded."),
    "incident": N_("The incident is recorded."),
    "discharge": N_("The transit is discharged and its guarantee freed."),
}
"""What a page says after an action succeeded (the presentation says it with its decision)."""

CORRECT_THE_FIELDS = N_("Correct the marked fields and send the form again.")
BAD_SEALS = N_(
    "Write each seal number once, separated by spaces or commas: letters, digits, dots, dashes or slashes, "
    "up to 35 characters each."
)
TOO_MANY_SEALS = N_("At most %(max)s seals.")
CHOOSE_KIND = N_("Choose the kind of control.")
CHOOSE_RESULT = N_("Choose the result of the control.")
NOTE_TOO_LONG = N_("The note may have up to 500 characters.")
NEED_REASON = N_("Write the reason, up to 1,000 characters.")
NEED_DESCRIPTION = N_("Describe what happened, up to 1,000 characters.")
CHOOSE_INCIDENT = N_("Choose what kind of incident it is.")
NO_PHOTO = N_("Take or choose a photo of the QR code.")
PHOTO_TOO_LARGE = N_("The photo is larger than 8 MB; take it again at a lower resolution.")
NO_QR = N_("No QR code of a transit document could be read from this photo. Hold the camera steady, close to the code.")
NOT_GENUINE = N_(
    "The QR code is NOT GENUINE: its seal was not made by a customs office this node trusts, or it was "
    "altered. Do not rely on this document; find the transit by its MRN and check the vehicle."
)
NO_MRN_IN_QR = N_("The QR code names no transit.")
NOT_OURS = N_("The document is genuine, but its transit does not concern your state.")
BAD_MRN = N_("This is not an MRN: it has 18 letters and digits and ends with a check character.")
NO_SUCH_MRN = N_("No transit with this MRN concerns your state.")
NEED_PLATE = N_("Enter the registration plate.")
NO_SUCH_PLATE = N_("No transit of a vehicle with this plate concerns your state.")
BAD_TIME_LIMIT = N_("Enter a date after today, or leave it empty for the usual time limit.")


# --- the office -----------------------------------------------------------------------------------


def _actor(visit: Page) -> Actor:
    if visit.actor is None:  # `signed_in` lets no anonymous visitor this far
        raise SignInNeeded(visit.request.url.path)
    return visit.actor


def remembered_office(visit: Page) -> Office | None:
    """The office named by the cookie, if it is an office of the officer's own state."""
    office = visit.services.reference.offices.get(visit.request.cookies.get(OFFICE_COOKIE, ""))
    return office if office is not None and office.country == _actor(visit).country else None


def _choose_first(visit: Page, back: str | None = None) -> Response:
    """To the desk to choose an office, then `back` (a form's page; by default the page asked for)."""
    here = back or visit.request.url.path + (f"?{visit.request.url.query}" if visit.request.url.query else "")
    return visit.redirect("/customs?next=" + quote(here, safe="/"))


def _office_label(office: Office) -> str:
    return f"{office.name} ({office.code})"


# --- my office ------------------------------------------------------------------------------------


@router.get("/customs")
def desk(visit: CustomsPage, next: str | None = None) -> Response:
    return _desk(visit, next=safe_next(next) or "")


@router.post("/customs")
def choose_office(visit: CustomsPage, form: FormDep) -> Response:
    actor = _actor(visit)
    code = str(form.get("office") or "").strip().upper()
    back = safe_next(str(form.get("next") or ""))
    office = visit.services.reference.offices.get(code)
    problem = None
    if not code:
        problem = visit._("Choose your office.")
    elif office is None:
        problem = visit._("There is no customs office with this code.")
    elif office.country != actor.country:
        problem = visit._(
            "%(office)s is an office of %(country)s: a customs officer of %(yours)s cannot work there.",
            office=_office_label(office),
            country=TransitStory(visit).country(office.country),
            yours=TransitStory(visit).country(actor.country),
        )
    if problem is not None or office is None:
        message = problem or ""
        explained = FormProblem(message=message, fields={"office": message}, detail="")
        return _desk(visit, next=back or "", problem=explained, status=422 if office is None else 403)
    visit.cookies[OFFICE_COOKIE] = office.code
    return visit.redirect(back or "/customs")


def _desk(visit: Page, *, next: str, problem: FormProblem | None = None, status: int = 200) -> Response:
    actor = _actor(visit)
    office = remembered_office(visit)
    stale = visit.services.reference.offices.get(visit.request.cookies.get(OFFICE_COOKIE, ""))
    story = TransitStory(visit)
    options = [(o.code, f"{o.name} — {o.code}") for o in visit.services.reference.offices_of(actor.country)]
    standing = [] if office is None else [_standing_row(story, t, office) for t in _standing(visit, office)]
    return visit.render(
        "customs/desk.html",
        status=status,
        office=office,
        office_label="" if office is None else _office_label(office),
        stale=None if stale is None or office is not None else _office_label(stale),
        state=story.country(actor.country),
        options=options,
        next=next,
        problem=problem,
        standing=standing,
    )


def _standing(visit: Page, office: Office) -> list[Transit]:
    return [
        t
        for t in visit.services.queries.standing_at(office.code)
        if handlers.can_see(_actor(visit), t, visit.services.places)
    ]


def _standing_row(story: TransitStory, transit: Transit, office: Office) -> dict[str, str]:
    _ = story.visit._
    if transit.status is TransitStatus.SUBMITTED:
        what = _("Awaiting release")
    elif transit.status is TransitStatus.ARRIVED:
        what = _("Arrived: control or discharge")
    elif office.code in transit.pending:
        what = _("Presented: inspection due")
    else:
        what = _("Presented: passage to record")
    return {
        "mrn": transit.mrn,
        "what": what,
        "vehicle": story.vehicle(transit.declaration),
        "goods": story.goods_summary(transit.declaration),
    }


# --- expected arrivals ----------------------------------------------------------------------------


@router.get("/customs/arrivals")
def arrivals(visit: CustomsPage, page: str | None = None) -> Response:
    office = remembered_office(visit)
    if office is None:
        return _choose_first(visit)
    number = int(page) if page and page.isdigit() and 0 < int(page) < 100_000 else 1
    found = visit.services.queries.expected_arrivals(office.code, limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
    story = TransitStory(visit)
    rows = []
    for transit in found.items:
        seen = _last_seen(transit)
        rows.append(
            {
                "mrn": transit.mrn,
                "vehicle": story.vehicle(transit.declaration),
                "from": story.office(transit.declaration.itinerary.departure),
                "last_seen": ""
                if seen is None
                else visit._("%(office)s, %(when)s", office=story.office(seen[0]), when=visit.datetime(seen[1])),
                "expected": visit.datetime(transit.time_limit),
                "goods": story.goods_summary(transit.declaration),
                "role": _role_here(visit, transit, office),
            }
        )
    return visit.render(
        "customs/arrivals.html",
        office_label=_office_label(office),
        rows=rows,
        total=found.total,
        page_number=number,
        pages=max(1, -(-found.total // PER_PAGE)),
    )


def _last_seen(transit: Transit) -> tuple[str, datetime] | None:
    for event in reversed(transit.events):
        if isinstance(event, TransitReleased | VehiclePresented | BorderExited | BorderEntered) and event.office:
            return event.office, event.at
    return None


def _role_here(visit: Page, transit: Transit, office: Office) -> str:
    itinerary = transit.declaration.itinerary
    if office.code == itinerary.destination:
        return visit._("Office of destination")
    if itinerary.is_exit(office.code):
        return visit._("Exit office")
    return visit._("Entry office")


# --- finding a transit ------------------------------------------------------------------------------


@router.get("/customs/lookup")
def lookup(
    visit: CustomsPage,
    mrn: Annotated[str | None, Query()] = None,
    plate: Annotated[str | None, Query()] = None,
) -> Response:
    office = remembered_office(visit)
    if office is None:
        return _choose_first(visit)
    actor = _actor(visit)
    if mrn is not None:
        typed = mrn.strip()[:40]
        try:
            number = Mrn(typed)
        except InvalidInput:
            message = visit._(BAD_MRN)
            return _lookup(visit, office, typed_mrn=typed, problem=_one("mrn", message), status=422)
        found = visit.services.queries.transit(number)
        if found is None or not handlers.can_see(actor, found, visit.services.places):
            message = visit._(NO_SUCH_MRN)
            return _lookup(visit, office, typed_mrn=typed, problem=_one("mrn", message), status=404)
        return visit.redirect(f"/customs/transits/{number}")
    if plate is not None:
        typed = plate.strip()[:40]
        if len(re.sub(r"[\s-]", "", typed)) < 2:
            return _lookup(
                visit,
                office,
                typed_plate=typed,
                problem=_one("plate", visit._(NEED_PLATE)),
                status=422,
            )
        summaries = visit.services.queries.transits_with_plate(actor, typed)
        if not summaries:
            message = visit._(NO_SUCH_PLATE)
            return _lookup(visit, office, typed_plate=typed, problem=_one("plate", message), status=404)
        story = TransitStory(visit)
        results = [
            {
                "mrn": s.mrn,
                "status": story.status(s.status),
                "badge": STATUS_BADGES.get(s.status, ""),
                "plate": s.plate or "",
                "route": visit._(
                    "%(departure)s → %(destination)s",
                    departure=story.office(s.departure_office),
                    destination=story.office(s.destination_office),
                ),
                "submitted": visit.datetime(s.submitted_at),
            }
            for s in summaries
        ]
        return _lookup(visit, office, typed_plate=typed, results=results)
    return _lookup(visit, office)


@router.post("/customs/lookup")
def lookup_photo(visit: CustomsPage, form: FormDep) -> Response:
    """The QR code of an accompanying document, photographed: its seal checked against the trust list, then
    the transit it names opened."""
    office = remembered_office(visit)
    if office is None:
        return _choose_first(visit, "/customs/lookup")
    upload = form.get("photo")
    data = upload.file.read(MAX_PHOTO + 1) if isinstance(upload, UploadFile) else b""

    def refuse(message: str, status: int = 422) -> Response:
        return _lookup(visit, office, problem=_one("photo", message), status=status)

    if not data:
        return refuse(visit._(NO_PHOTO))
    if len(data) > MAX_PHOTO:
        return refuse(visit._(PHOTO_TOO_LARGE))
    try:
        payloads = [p for p in read_payloads(data) if p.startswith(PAYLOAD_PREFIX)]
    except UnreadableDocument:
        payloads = []
    if not payloads:
        return refuse(visit._(NO_QR))
    trust = visit.services.notary.verified_trust_list(visit.services.clock.now())
    verdict = check_seal(payloads[0], trust)
    if not verdict.genuine or verdict.summary is None:
        return refuse(
            visit._(NOT_GENUINE),
            status=409,
        )
    try:
        number = Mrn(str(verdict.summary.get("mrn", "")))
    except InvalidInput:
        return refuse(visit._(NO_MRN_IN_QR))
    found = visit.services.queries.transit(number)
    if found is None or not handlers.can_see(_actor(visit), found, visit.services.places):
        return refuse(visit._(NOT_OURS), status=404)
    return visit.redirect(f"/customs/transits/{number}")


def _one(name: str, message: str) -> FormProblem:
    return FormProblem(message=message, fields={name: message}, detail="")


def _lookup(
    visit: Page,
    office: Office,
    *,
    typed_mrn: str = "",
    typed_plate: str = "",
    results: list[dict[str, str]] | None = None,
    problem: FormProblem | None = None,
    status: int = 200,
) -> Response:
    return visit.render(
        "customs/lookup.html",
        status=status,
        office_label=_office_label(office),
        typed_mrn=typed_mrn,
        typed_plate=typed_plate,
        results=results,
        problem=problem,
    )


# --- one transit at this office -------------------------------------------------------------------


@dataclass(slots=True)
class Offers:
    """The actions the transit's state allows at this office, and why others are not offered."""

    release: bool = False
    refuse: bool = False
    present: bool = False
    arrival: bool = False
    control: bool = False
    passage: bool = False
    incident: bool = False
    discharge: bool = False
    notes: list[str] = field(default_factory=list)


def offers(visit: Page, transit: Transit, office: Office) -> Offers:
    """What may be done here now, read from the transit's lifecycle (`ALLOWED` and its own rules)."""
    _ = visit._
    story = TransitStory(visit)
    here = office.code
    itinerary = transit.declaration.itinerary
    route = itinerary.border_offices
    allowed = transit.allowed_actions()
    can = Offers()
    if transit.status is TransitStatus.SUBMITTED:
        if here == itinerary.departure:
            can.release = "release" in allowed
            can.refuse = "refuse" in allowed
        else:
            can.notes.append(
                _("The declaration awaits release at %(office)s.", office=story.office(itinerary.departure))
            )
    elif transit.status is TransitStatus.IN_TRANSIT:
        can.incident = "incident" in allowed
        next_office = route[len(transit.passed)] if len(transit.passed) < len(route) else None
        if here in transit.passed:
            can.notes.append(_("The vehicle has already passed this office."))
        elif here == itinerary.departure:
            can.notes.append(_("The goods were released here; the vehicle is on its way."))
        elif here == itinerary.destination:
            can.arrival = "arrival" in allowed and next_office is None
            if next_office is not None:
                can.notes.append(
                    _(
                        "Arrival can be recorded once the vehicle has passed %(office)s.",
                        office=story.office(next_office),
                    )
                )
        else:
            presented = here in transit.presented
            can.present = "present" in allowed and not presented
            can.control = "control" in allowed and presented
            if here not in itinerary.offices:
                can.notes.append(_("This office is not on the itinerary: a presentation here asks for an inspection."))
            elif presented and here in transit.pending:
                can.notes.append(_("Record a satisfactory control before the passage."))
            elif presented and next_office != here:
                can.notes.append(
                    _("The passage at %(office)s must be recorded first.", office=story.office(next_office or ""))
                )
            can.passage = "passage" in allowed and presented and here not in transit.pending and next_office == here
    elif transit.status is TransitStatus.ARRIVED:
        if here == itinerary.destination:
            can.control = "control" in allowed
            blocked = bool(transit.pending) or transit.open_incidents > 0
            can.discharge = "discharge" in allowed and not blocked
            if blocked:
                can.notes.append(_("Discharge waits for a satisfactory control of what is still due."))
        else:
            can.notes.append(_("The vehicle has arrived at %(office)s.", office=story.office(itinerary.destination)))
    else:
        can.notes.append(_("This transit is closed: nothing more can be recorded."))
    return can


@router.get("/customs/transits/{mrn}")
def transit_page(visit: CustomsPage, mrn: str, done: str | None = None) -> Response:
    office = remembered_office(visit)
    if office is None:
        return _choose_first(visit)
    transit, records = _visible(visit, mrn)
    notice = visit._(DONE[done]) if done is not None and done in DONE else ""
    return _transit(visit, office, transit, records, notice=notice)


def _visible(visit: Page, mrn: str) -> tuple[Transit, list[LoggedRecord]]:
    try:
        number = Mrn(mrn)
    except InvalidInput:
        raise TransitNotFound(f"no transit {mrn}") from None
    found = visit.services.queries.transit_with_records(number)
    if found is None or not handlers.can_see(_actor(visit), found[0], visit.services.places):
        raise TransitNotFound(f"no transit {number}")
    return found


def _decision_here(story: TransitStory, transit: Transit, office: Office) -> tuple[Verdict, str, bool] | None:
    """The latest decision at this office: the verdict, when it was given, and whether an inspection it asked
    for has since been answered by a satisfactory control."""
    for event in reversed(transit.events):
        if isinstance(event, VehiclePresented | ArrivalRecorded) and event.office == office.code:
            verdict = story.verdict(event.decision, office.code)
            answered = verdict.kind == "inspect" and office.code not in transit.pending
            return verdict, story.visit.datetime(event.at), answered
    return None


def _transit(
    visit: Page,
    office: Office,
    transit: Transit,
    records: list[LoggedRecord],
    *,
    notice: str = "",
    problem: FormProblem | None = None,
    failed: str = "",
    typed: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    story = TransitStory(visit)
    declaration = transit.declaration
    decided = _decision_here(story, transit, office)
    conflicts = [story.conflict(c) for c in visit.services.exchange.conflicts(f"transit:{transit.mrn}")]
    return visit.render(
        "customs/transit.html",
        status=status,
        office=office,
        office_label=_office_label(office),
        transit=transit,
        conflicts=conflicts,
        status_name=story.status(transit.status),
        badge=STATUS_BADGES.get(transit.status, ""),
        vehicle=story.vehicle(declaration),
        route=story.route(transit),
        goods=story.goods(declaration),
        guarantee=story.money(declaration.guarantee.amount.amount, declaration.guarantee.amount.currency),
        seals=story.seals(transit.seals),
        time_limit=visit.datetime(transit.time_limit),
        recognised=None if transit.recognised_control is None else story.control(transit.recognised_control),
        pending=[(story.office(o), story.reasons(reasons, o)) for o, reasons in transit.pending.items()],
        history=story.history(transit, records),
        decided=decided,
        can=offers(visit, transit, office),
        control_open=office.code in transit.pending or failed == "control",
        passage_label=visit._("Record the exit from %(country)s", country=story.country(office.country))
        if declaration.itinerary.is_exit(office.code)
        else visit._("Record the entry into %(country)s", country=story.country(office.country)),
        control_kinds=[(k.value, visit._(CONTROL_KINDS[k])) for k in ControlKind],
        control_results=[(r.value, visit._(CONTROL_OUTCOMES[r])) for r in ControlOutcome],
        incident_kinds=[(k.value, visit._(INCIDENT_KINDS[k])) for k in IncidentKind],
        notice=notice,
        problem=problem,
        failed=failed,
        typed=dict(typed or {}),
    )


# --- recording what was done ------------------------------------------------------------------------


@dataclass(slots=True)
class Checked:
    """A form's own checks: the problems found, by form field, in the visitor's language."""

    visit: Page
    form: FormData
    fields: dict[str, str] = field(default_factory=dict)

    def text(self, name: str, limit: int, message: str, *, required: bool = False) -> str:
        value = str(self.form.get(name) or "").strip()
        if (required and not value) or len(value) > limit:
            self.fields[name] = self.visit._(message)
        return value[: limit + 1]

    def choice(
        self, name: str, choices: type[ControlKind] | type[ControlOutcome] | type[IncidentKind], message: str
    ) -> str:
        value = str(self.form.get(name) or "")
        if value not in {c.value for c in choices}:
            self.fields[name] = self.visit._(message)
        return value

    def seals(self, name: str) -> tuple[str, ...]:
        raw = tuple(s for s in re.split(r"[\s,;]+", str(self.form.get(name) or "")) if s)
        if len(raw) > MAX_SEALS:
            self.fields[name] = self.visit._(TOO_MANY_SEALS, max=MAX_SEALS)
            return ()
        try:
            return normalise_seals(raw)
        except DomainError:
            self.fields[name] = self.visit._(BAD_SEALS)
            return ()

    def typed(self) -> dict[str, str]:
        return {k: v[:1000] for k, v in self.form.items() if isinstance(v, str) and k != "csrf"}


def _act(
    visit: Page,
    mrn: str,
    form: FormData,
    action: str,
    build: Callable[[Checked, Actor, Office, Transit], Callable[[], object] | None],
    names: Mapping[str, str],
) -> Response:
    """Check the form, run the handler, and show the transit again: with the result, or with the form as it was
    typed and the reason it was refused (nothing is recorded then)."""
    office = remembered_office(visit)
    if office is None:
        return _choose_first(visit, f"/customs/transits/{mrn}")
    transit, records = _visible(visit, mrn)
    checked = Checked(visit, form)
    run = build(checked, _actor(visit), office, transit)
    if checked.fields or run is None:
        problem = FormProblem(message=visit._(CORRECT_THE_FIELDS), fields=checked.fields, detail="")
        return _transit(
            visit, office, transit, records, problem=problem, failed=action, typed=checked.typed(), status=422
        )
    try:
        run()
    except DomainError as exc:
        explained = visit.problem(exc)
        fields = {}
        for path, sentence in explained.fields.items():
            name = names.get(re.sub(r"\[\d+\]$", "", path))
            if name is not None:
                fields[name] = sentence
        problem = FormProblem(message=explained.message, fields=fields, detail=explained.detail)
        return _transit(
            visit,
            office,
            transit,
            records,
            problem=problem,
            failed=action,
            typed=checked.typed(),
            status=status_of(exc),
        )
    suffix = f"?done={action}" if action in DONE else ""
    return visit.redirect(f"/customs/transits/{transit.mrn}{suffix}")


def _run(visit: Page, handler: Callable[..., object], command: object) -> object:
    services = visit.services
    return handler(command, uow=services.uow(), clock=services.clock, places=services.places)


@router.post("/customs/transits/{mrn}/release")
def release(visit: CustomsPage, mrn: str, form: FormDep) -> Response:
    def build(c: Checked, actor: Actor, office: Office, transit: Transit) -> Callable[[], object] | None:
        seals = c.seals("release.seals")
        kind = str(form.get("release.control.kind") or "")
        control = None
        if kind:
            kind = c.choice("release.control.kind", ControlKind, CHOOSE_KIND)
            result = c.choice("release.control.result", ControlOutcome, CHOOSE_RESULT)
            note = c.text("release.control.note", 500, NOTE_TOO_LONG)
            if not c.fields:
                control = ControlReport(kind=ControlKind(kind), outcome=ControlOutcome(result), note=note)
        limit = _time_limit(c, "release.time_limit", visit.services.clock.now())
        command = ReleaseForTransit(
            actor=actor, mrn=transit.mrn, office=office.code, seals=seals, control=control, time_limit=limit
        )
        return lambda: _run(visit, handlers.release_for_transit, command)

    names = {"seals": "release.seals", "note": "release.control.note", "time_limit": "release.time_limit"}
    return _act(visit, mrn, form, "release", build, names)


def _time_limit(c: Checked, name: str, now: datetime) -> datetime | None:
    text = str(c.form.get(name) or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        c.fields[name] = c.visit._(BAD_TIME_LIMIT)
        return None
    if day <= now.date():
        c.fields[name] = c.visit._(BAD_TIME_LIMIT)
        return None
    return datetime.combine(day, time(23, 59), UTC)


@router.post("/customs/transits/{mrn}/refuse")
def refuse(visit: CustomsPage, mrn: str, form: FormDep) -> Response:
    def build(c: Checked, actor: Actor, office: Office, transit: Transit) -> Callable[[], object]:
        reason = c.text("refusal.reason", 1000, NEED_REASON, required=True)
        command = RefuseRelease(actor=actor, mrn=transit.mrn, office=office.code, reason=reason)
        return lambda: _run(visit, handlers.refuse_release, command)

    return _act(visit, mrn, form, "refuse", build, {"reason": "refusal.reason"})


@router.post("/customs/transits/{mrn}/present")
def present(visit: CustomsPage, mrn: str, form: FormDep) -> Response:
    """Present the vehicle with the seals seen; at the office of destination this records its arrival."""

    def build(c: Checked, actor: Actor, office: Office, transit: Transit) -> Callable[[], object]:
        seals = c.seals("presentation.seals")
        if office.code == transit.declaration.itinerary.destination:
            arrival = RecordArrival(actor=actor, mrn=transit.mrn, office=office.code, seals=seals)
            return lambda: _run(visit, handlers.record_arrival, arrival)
        command = PresentVehicle(actor=actor, mrn=transit.mrn, office=office.code, seals=seals)
        return lambda: _run(visit, handlers.present_vehicle, command)

    return _act(visit, mrn, form, "present", build, {"seals": "presentation.seals"})


@router.post("/customs/transits/{mrn}/control")
def control(visit: CustomsPage, mrn: str, form: FormDep) -> Response:
    def build(c: Checked, actor: Actor, office: Office, transit: Transit) -> Callable[[], object] | None:
        kind = c.choice("control.kind", ControlKind, CHOOSE_KIND)
        result = c.choice("control.result", ControlOutcome, CHOOSE_RESULT)
        note = c.text("control.note", 500, NOTE_TOO_LONG)
        seals = c.seals("control.seals")
        if c.fields:
            return None
        command = RecordControl(
            actor=actor,
            mrn=transit.mrn,
            office=office.code,
            control=ControlReport(kind=ControlKind(kind), outcome=ControlOutcome(result), note=note),
            seals=seals,
        )
        return lambda: _run(visit, handlers.record_control, command)

    return _act(visit, mrn, form, "control", build, {"seals": "control.seals", "note": "control.note"})


@router.post("/customs/transits/{mrn}/passage")
def passage(visit: CustomsPage, mrn: str, form: FormDep) -> Response:
    def build(c: Checked, actor: Actor, office: Office, transit: Transit) -> Callable[[], object]:
        command = RecordPassage(actor=actor, mrn=transit.mrn, office=office.code)
        return lambda: _run(visit, handlers.record_passage, command)

    return _act(visit, mrn, form, "passage", build, {})


@router.post("/customs/transits/{mrn}/incident")
def incident(visit: CustomsPage, mrn: str, form: FormDep) -> Response:
    def build(c: Checked, actor: Actor, office: Office, transit: Transit) -> Callable[[], object] | None:
        kind = c.choice("incident.kind", IncidentKind, CHOOSE_INCIDENT)
        description = c.text("incident.description", 1000, NEED_DESCRIPTION, required=True)
        seals = c.seals("incident.seals")
        if c.fields:
            return None
        command = ReportIncident(
            actor=actor,
            mrn=transit.mrn,
            office=office.code,
            kind=IncidentKind(kind),
            description=description,
            seals=seals,
        )
        return lambda: _run(visit, handlers.report_incident, command)

    names = {"seals": "incident.seals", "description": "incident.description"}
    return _act(visit, mrn, form, "incident", build, names)


@router.post("/customs/transits/{mrn}/discharge")
def discharge(visit: CustomsPage, mrn: str, form: FormDep) -> Response:
    def build(c: Checked, actor: Actor, office: Office, transit: Transit) -> Callable[[], object]:
        command = DischargeTransit(actor=actor, mrn=transit.mrn, office=office.code)
        return lambda: _run(visit, handlers.discharge_transit, command)

    return _act(visit, mrn, form, "discharge", build, {})

"""The border guard's pages: check a visa by camera, photo or number, and record the entry or exit.

The guard works at one post of its own state, chosen on the form and remembered in a cookie. The visa is
given by its seal (scanned by the phone's camera, read from a photo, or typed by a barcode scanner into
the seal field) or by its number, always with the passport number. `check_at_border` judges and records
the crossing — a refused entry too, as the Entry/Exit System records refusals. Each rendering of the form
carries a fresh key, so a reloaded result page cannot record the same crossing twice.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import FormData, UploadFile

from silkway.documents import UnreadableDocument, read_payloads
from silkway.documents.reading import UnreadableReason
from silkway.places.model import OfficeKind
from silkway.shared.actors import Role
from silkway.shared.errors import DomainError, IdempotencyKeyReused, InvalidInput
from silkway.shared.idempotency import IdempotencyKey
from silkway.signing.vds import PREFIX as SEAL_PREFIX
from silkway.visas import handlers
from silkway.visas.application import VisaApplication
from silkway.visas.commands import CheckAtBorder
from silkway.visas.handlers import BorderCheck
from silkway.visas.model import Direction, VisaStatus
from silkway.web.errors import status_of
from silkway.web.pages.base import N_, OFFICE_COOKIE, FormDep, FormProblem, Page, signed_in
from silkway.web.pages.visa_words import (
    ENTRIES,
    SEXES,
    VISA_STATUSES,
    country_name,
    form_text,
    nationality_name,
    state_names,
    visa_stay,
)

router = APIRouter(include_in_schema=False)

BorderPage = Annotated[Page, signed_in(Role.BORDER_GUARD)]

MAX_PHOTO_BYTES = 20_000_000
"""A phone photo is a few megabytes; a frame from the camera a few hundred kilobytes."""

REASONS: Mapping[str, str] = {
    # the seal (documents.visa_seal, signing.vds, signing.trustlist)
    "seal_malformed": N_("The seal cannot be read: it is damaged or it is not a visa seal."),
    "seal_wrong_issuer": N_("The seal was not signed by the consular service that issued the visa."),
    "seal_unknown_key": N_("The seal is signed with a key that is not on the trust list."),
    "seal_signature": N_("The seal's signature does not match its content: it was altered or forged."),
    "unknown_key": N_("The seal is signed with a key that is not on the trust list."),
    "wrong_usage": N_("The seal is signed with a key that is not meant for visas."),
    "wrong_state": N_("The seal is signed with another state's key."),
    "wrong_office": N_("The seal is signed with another office's key."),
    "key_not_valid": N_("The seal's key was not valid on the day it was signed."),
    "key_revoked": N_("The seal's key was revoked as compromised."),
    "key_rotated": N_("The seal was signed with a key that had already been replaced."),
    # the visa (visas.border)
    "passport_mismatch": N_("The visa was issued for another passport."),
    "seal_number_mismatch": N_("The visa number typed differs from the seal's."),
    "visa_unknown": N_("No such visa is recorded in the scheme."),
    "visa_revoked": N_("The visa was revoked or annulled."),
    "not_yet_valid": N_("The visa is not valid yet."),
    "visa_expired": N_("The visa has expired."),
    "not_valid_in_state": N_("The visa is not valid in this state."),
    "entries_used": N_("The single entry of this visa has been used."),
    "stay_exhausted": N_("No day of stay is left."),
}
"""Every reason `check_at_border` can give, in words."""

FLAGS: Mapping[str, str] = {
    "changeover": N_("Arrives straight from another participating state: this is not a new entry into the area."),
    "entry_without_exit": N_("No exit was recorded after the previous entry: that stay is closed today."),
    "exit_without_entry": N_("No entry into this state was recorded: only today is counted."),
}
"""The flags of a check that are warnings for the guard, not reasons to refuse."""

UNREADABLE: Mapping[str, str] = {
    UnreadableReason.EMPTY: N_("The photo is empty."),
    UnreadableReason.UNRECOGNISED: N_("This file is not a photo or an image."),
    UnreadableReason.CORRUPT: N_("The image is damaged: take the photo again."),
    UnreadableReason.ENCRYPTED: N_("The file is encrypted."),
    UnreadableReason.TOO_LARGE: N_("The image is too large."),
    UnreadableReason.NO_QR_CODE: N_(
        "No QR code was found in the photo: hold the seal flat, fill the frame and try again."
    ),
    "not_a_visa": N_("The QR code found is not a visa seal."),
}

DIRECTIONS: Mapping[str, str] = {Direction.ENTRY: N_("Entry"), Direction.EXIT: N_("Exit")}


@dataclass(frozen=True, slots=True)
class Post:
    code: str
    name: str
    airport: bool


def posts_of(visit: Page) -> list[Post]:
    """The border posts, seaports and airports of the guard's state: airports first, then by name."""
    assert visit.actor is not None
    state = visit.actor.country
    services = visit.services
    posts = [
        Post(code, airport.name, True) for code, airport in services.scheme.airports.items() if airport.state == state
    ]
    for office in services.reference.offices_of(state):
        if office.kind in (OfficeKind.BORDER, OfficeKind.SEAPORT):
            name = office.name if visit.lang == "en" or not office.name_local else office.name_local
            posts.append(Post(office.code, name, False))
    return sorted(posts, key=lambda p: (not p.airport, p.name.casefold()))


class UnreadablePhoto(InvalidInput):
    """No visa seal could be read from the photo or camera frame."""

    def __init__(self, reason: str, detail: str, field: str = "photo") -> None:
        super().__init__(detail, fields={field: reason})
        self.reason = reason


def seal_from_image(data: bytes) -> str:
    """The visa seal in a photo or camera frame. Raises `UnreadablePhoto` naming why none was read."""
    if len(data) > MAX_PHOTO_BYTES:
        raise UnreadablePhoto(UnreadableReason.TOO_LARGE, f"the photo has {len(data)} bytes")
    try:
        payloads = read_payloads(data)
    except UnreadableDocument as exc:
        raise UnreadablePhoto(exc.reason, str(exc)) from None
    for payload in payloads:
        if payload.startswith(SEAL_PREFIX):
            return payload
    raise UnreadablePhoto("not_a_visa", "the QR codes in the photo are not visa seals")


def _upload(form: FormData, name: str) -> bytes | None:
    """The bytes of an uploaded file, or None when none was chosen."""
    value = form.get(name)
    if not isinstance(value, UploadFile):
        return None
    try:
        return value.file.read(MAX_PHOTO_BYTES + 1) if value.filename else None
    finally:
        value.file.close()


def _blank(visit: Page, office: str = "", direction: str = "entry") -> dict[str, str]:
    posts = {p.code for p in posts_of(visit)}
    remembered = visit.request.cookies.get(OFFICE_COOKIE, "")
    chosen = office if office in posts else remembered if remembered in posts else ""
    return {
        "office": chosen,
        "direction": direction if direction in DIRECTIONS else "entry",
        "passport_number": "",
        "visa_number": "",
        "seal": "",
        "check_key": secrets.token_urlsafe(18),
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """The result of one check as the guard reads it."""

    allowed: bool
    direction: str
    word: str
    reasons: list[str]
    warnings: list[str]
    days_remaining: int
    latest_exit: Any
    overstay_days: int
    recorded: bool
    visa_number: str | None


def answer_of(visit: Page, result: BorderCheck, direction: Direction, file: VisaApplication | None) -> Answer:
    """The verdict in the guard's words: every reason, every flag."""
    v = result.verdict
    terms = None if file is None or file.visa is None else file.visa.terms

    def said(code: str) -> str:
        if code == "overstay":
            return visit.ngettext("Overstayed by %(num)s day.", "Overstayed by %(num)s days.", v.overstay_days)
        if code == "not_yet_valid" and terms is not None:
            return visit._("The visa is not valid yet: it is valid from %(date)s.", date=visit.date(terms.valid_from))
        if code == "visa_expired" and terms is not None:
            return visit._("The visa expired on %(date)s.", date=visit.date(terms.valid_until))
        if code == "not_valid_in_state" and terms is not None:
            return visit._(
                "The visa is not valid in this state; it is valid in: %(states)s.",
                states=state_names(visit, terms.states),
            )
        if code == "visa_revoked" and file is not None and file.visa is not None and file.visa.revoked_at:
            sentence = (
                N_("The visa was annulled by %(state)s on %(date)s.")
                if file.visa.status is VisaStatus.ANNULLED
                else N_("The visa was revoked by %(state)s on %(date)s.")
            )
            return visit._(
                sentence,
                state=country_name(file.visa.revoked_by or "", visit.lang),
                date=visit.date(file.visa.revoked_at),
            )
        words = REASONS.get(code) or FLAGS.get(code)
        return visit._(words) if words else code

    allowed = v.allowed
    if direction is Direction.EXIT:
        word = visit._("Exit recorded") if result.recorded else visit._("Exit")
    else:
        word = visit._("Entry allowed") if allowed else visit._("Entry refused")
    return Answer(
        allowed=allowed,
        direction=direction.value,
        word=word,
        reasons=[said(r.code) for r in v.reasons],
        warnings=[said(f.code) for f in v.flags],
        days_remaining=v.days_remaining,
        latest_exit=v.latest_exit,
        overstay_days=v.overstay_days,
        recorded=result.recorded,
        visa_number=result.visa_number,
    )


def _page(
    visit: Page,
    values: Mapping[str, str],
    *,
    problem: FormProblem | None = None,
    answer: Answer | None = None,
    file: VisaApplication | None = None,
    status: int = 200,
) -> Response:
    posts = posts_of(visit)
    visa = None if file is None else file.visa
    stay = None if file is None else visa_stay(visit.services, file)
    applicant = None if file is None else file.applicant
    return visit.render(
        "border/check.html",
        status=status,
        values=values,
        problem=problem,
        answer=answer,
        airports=[p for p in posts if p.airport],
        land_posts=[p for p in posts if not p.airport],
        directions=[(code, visit._(words)) for code, words in DIRECTIONS.items()],
        state=country_name(visit.actor.country if visit.actor else "", visit.lang),
        file=file,
        visa=visa,
        applicant=applicant,
        stay=stay,
        nationality=None if applicant is None else nationality_name(visit, applicant.nationality),
        sex_word=None if applicant is None else visit._(SEXES[applicant.sex]),
        visa_status=None if visa is None else visit._(VISA_STATUSES[visa.status]),
        visa_entries=None if visa is None else visit._(ENTRIES[visa.terms.entries]),
        visa_states=None if visa is None else state_names(visit, visa.terms.states),
        excluded_states=None if visa is None else state_names(visit, visa.terms.excluded_states),
    )


@router.get("/border")
def check_form(visit: BorderPage) -> Response:
    return _page(visit, _blank(visit))


def _claim(visit: Page, values: Mapping[str, str]) -> IdempotencyKey | None:
    """The form's key as an idempotency claim: a second send of the same form records nothing more."""
    assert visit.actor is not None
    key = values.get("check_key", "")
    if not key or len(key) > 100:
        return None
    canonical = json.dumps({k: v for k, v in values.items() if k != "check_key"}, sort_keys=True)
    # keyed, like the API's: a stored fingerprint must not give back the passport number it covers
    fingerprint = hmac.new(
        visit.services.settings.secret_key.encode(), f"POST /border\n{canonical}".encode(), "sha256"
    ).hexdigest()
    return IdempotencyKey(owner=visit.actor.username, key=f"border-page:{key}", fingerprint=fingerprint)


@router.post("/border")
def check(visit: BorderPage, form: FormDep) -> Response:
    """Judge the traveller, record the crossing, and show the answer above a fresh form for the next one."""
    assert visit.actor is not None
    values = {
        "office": form_text(form, "office", limit=40),
        "direction": form_text(form, "direction", limit=10),
        "passport_number": form_text(form, "passport_number", limit=40),
        "visa_number": form_text(form, "visa_number", limit=20).upper(),
        "seal": form_text(form, "seal", limit=2000),
        "check_key": form_text(form, "check_key", limit=200),
    }
    services = visit.services
    try:
        fields: dict[str, str] = {}
        for name in ("office", "passport_number"):
            if not values[name]:
                fields[name] = "missing"
        if values["direction"] not in DIRECTIONS:
            fields["direction"] = "missing"
        photo = _upload(form, "photo")
        if fields:
            raise InvalidInput("the check form is not complete", fields=fields)
        if photo is not None and not values["seal"]:
            values["seal"] = seal_from_image(photo)
        result = handlers.check_at_border(
            CheckAtBorder(
                actor=visit.actor,
                idempotency=_claim(visit, values),
                office=values["office"],
                direction=Direction(values["direction"]),
                passport_number=values["passport_number"],
                seal=values["seal"] or None,
                visa_number=values["visa_number"] or None,
            ),
            uow=services.uow(),
            clock=services.clock,
            scheme=services.scheme,
            countries=services.countries,
            seals=services.seal_reader,
        )
    except DomainError as exc:
        if isinstance(exc, IdempotencyKeyReused):  # the result of this form is recorded: start afresh
            values = _blank(visit, values["office"], values["direction"])
        return _page(
            visit,
            {**values, "seal": "" if "photo" in exc.fields else values["seal"]},
            problem=_check_problem(visit, exc),
            status=status_of(exc),
        )
    if values["office"] in {p.code for p in posts_of(visit)}:
        visit.cookies[OFFICE_COOKIE] = values["office"]
    file = services.visa_queries.visa(result.visa_number) if result.visa_number else None
    answer = answer_of(visit, result, Direction(values["direction"]), file)
    return _page(visit, _blank(visit, values["office"], values["direction"]), answer=answer, file=file)


_CHECK_SENTENCES: Mapping[tuple[str, str], str] = {
    ("office", "missing"): N_("Choose your border post."),
    ("office", "unknown"): N_("Choose a border post, port or airport of your state."),
    ("office", "outside the scheme"): N_("This post's state does not take part in the Commonwealth Visa."),
    ("direction", "missing"): N_("Choose entry or exit."),
    ("passport_number", "missing"): N_("Type the number of the passport the traveller shows."),
    ("passport_number", "malformed"): N_("A passport number is 1 to 9 Latin letters and digits."),
    ("seal", "missing"): N_("Scan the seal, upload a photo of it, or type the visa number."),
    ("visa_number", "missing"): N_("Scan the seal, upload a photo of it, or type the visa number."),
}


def _check_problem(visit: Page, error: DomainError) -> FormProblem:
    problem = visit.problem(error)
    fields = dict(problem.fields)
    message = problem.message
    if isinstance(error, UnreadablePhoto):
        message = visit._(UNREADABLE.get(error.reason, UNREADABLE[UnreadableReason.UNRECOGNISED]))
        fields = {"photo": message}
    elif isinstance(error, IdempotencyKeyReused):
        message = visit._("This check was already sent and its result recorded. Use the form below for the next check.")
        fields = {}
    elif error.code == "not_permitted":
        message = visit._("You check travellers only at the posts of your own state.")
        fields = {"office": visit._("Choose a border post, port or airport of your state.")}
    for name, reason in error.fields.items():
        sentence = _CHECK_SENTENCES.get((name, reason))
        if sentence is not None:
            fields[name] = visit._(sentence)
    return FormProblem(message=message, fields=fields, detail=problem.detail)


@router.post("/border/decode")
def decode(visit: BorderPage, form: FormDep) -> JSONResponse:
    """Read the visa seal in a camera frame the browser could not decode itself (JSON for ``camera.js``)."""
    frame = _upload(form, "frame")
    try:
        if frame is None:
            raise UnreadablePhoto(UnreadableReason.EMPTY, "no frame was sent", field="frame")
        seal = seal_from_image(frame)
    except UnreadablePhoto as exc:
        return JSONResponse(
            {"ok": False, "reason": str(exc.reason), "message": visit._(UNREADABLE[exc.reason])}, status_code=422
        )
    return JSONResponse({"ok": True, "seal": seal})

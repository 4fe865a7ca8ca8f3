"""The carrier's pages: a new declaration, its transits with their history, the accompanying document."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Annotated

import pycountry
from fastapi import APIRouter
from fastapi.responses import Response
from starlette.datastructures import FormData

from silkway.places.model import Office, OfficeKind
from silkway.shared.actors import Actor, Role
from silkway.shared.errors import DomainError, InvalidInput
from silkway.shared.money import Money
from silkway.shared.mrn import Mrn
from silkway.storage.queries import GuaranteeBalance
from silkway.storage.trust import LoggedRecord
from silkway.transit import handlers
from silkway.transit.commands import CancelDeclaration, SubmitDeclaration
from silkway.transit.errors import TransitNotFound
from silkway.transit.lifecycle import Transit
from silkway.transit.model import (
    MAX_CONTAINERS,
    MAX_GOODS_ITEMS,
    Container,
    Declaration,
    GoodsItem,
    GuaranteeCommitment,
    Itinerary,
    Vehicle,
)
from silkway.web.api.documents import transit_document_pdf
from silkway.web.errors import status_of
from silkway.web.pages.base import N_, FormDep, FormProblem, Page, SignInNeeded, signed_in
from silkway.web.pages.transit_story import STATUS_BADGES, TransitStory

router = APIRouter(include_in_schema=False)

CarrierPage = Annotated[Page, signed_in(Role.CARRIER)]

PER_PAGE = 20
BLANK_GOODS_ROWS = 3
"""Goods rows a form shows without JavaScript (the script removes the spare ones and adds rows on demand)."""
BLANK_CROSSING_ROWS = 3
CURRENCIES = ("USD", "EUR", "CNY", "RUB", "KZT", "UZS", "KGS", "TJS", "TMT", "AZN")
"""The currencies the form offers: the usual currencies of trade on these routes and each member's own."""
MAX_MASS = Decimal(1_000_000)
MAX_AMOUNT = Decimal(10**15)
MAX_PACKAGES = 1_000_000
_PLATE = re.compile(r"[0-9A-Z][0-9A-Z -]{1,14}")
_HS6 = re.compile(r"[0-9]{6}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_GOODS_KEY = re.compile(
    r"goods\[(\d{1,3})\]\.(hs_code|description|packages|gross_mass_kg|value\.amount|value\.currency)"
)
_CROSSING_KEY = re.compile(r"crossing\[(\d{1,2})\]\.(exit|entry)")
_SPACES = re.compile(r"[\s\u00a0\u202f']")


# --- what the form holds ------------------------------------------------------------------------


@dataclass(slots=True)
class GoodsRow:
    index: int
    hs_code: str = ""
    description: str = ""
    packages: str = ""
    gross_mass_kg: str = ""
    amount: str = ""
    currency: str = "USD"
    spare: bool = False

    @property
    def blank(self) -> bool:
        return not any((self.hs_code, self.description, self.packages, self.gross_mass_kg, self.amount))


@dataclass(slots=True)
class CrossingRow:
    index: int
    exit: str = ""
    entry: str = ""
    spare: bool = False

    @property
    def blank(self) -> bool:
        return not (self.exit or self.entry)


@dataclass(slots=True)
class DeclarationForm:
    """Everything the carrier typed, kept as typed, so a refused form comes back as it was sent."""

    plate: str = ""
    country: str = ""
    containers: str = ""
    departure: str = ""
    crossings: list[CrossingRow] = field(default_factory=list)
    destination: str = ""
    goods: list[GoodsRow] = field(default_factory=list)
    guarantee: str = ""
    guarantee_amount: str = ""
    guarantee_currency: str = ""

    @classmethod
    def read(cls, form: FormData) -> DeclarationForm:
        def text(name: str, limit: int = 600) -> str:
            value = form.get(name)
            return value.strip()[:limit] if isinstance(value, str) else ""

        goods: dict[int, GoodsRow] = {}
        crossings: dict[int, CrossingRow] = {}
        for key in form:
            if m := _GOODS_KEY.fullmatch(key):
                row = goods.setdefault(int(m[1]), GoodsRow(index=int(m[1])))
                attribute = {"value.amount": "amount", "value.currency": "currency"}.get(m[2], m[2])
                setattr(row, attribute, text(key))
            elif m := _CROSSING_KEY.fullmatch(key):
                crossing = crossings.setdefault(int(m[1]), CrossingRow(index=int(m[1])))
                setattr(crossing, m[2], text(key, 40))
        return cls(
            plate=text("vehicle.plate", 40),
            country=text("vehicle.country", 10).upper(),
            containers=text("containers", 2000),
            departure=text("departure", 40),
            crossings=[crossings[i] for i in sorted(crossings)],
            destination=text("destination", 40),
            goods=[goods[i] for i in sorted(goods)],
            guarantee=text("guarantee.reference", 40),
            guarantee_amount=text("guarantee.amount", 40),
            guarantee_currency=text("guarantee.currency", 10).upper(),
        )

    def shown(self) -> DeclarationForm:
        """The form as drawn: the rows sent, then spare blank rows up to the number a form without
        JavaScript needs."""
        goods = [g for g in self.goods if not g.blank] or []
        next_goods = max((g.index for g in self.goods), default=-1) + 1
        while len(goods) < BLANK_GOODS_ROWS:
            goods.append(GoodsRow(index=next_goods, spare=bool(goods)))
            next_goods += 1
        crossings = [c for c in self.crossings if not c.blank]
        next_crossing = max((c.index for c in self.crossings), default=-1) + 1
        while len(crossings) < BLANK_CROSSING_ROWS:
            crossings.append(CrossingRow(index=next_crossing, spare=bool(crossings)))
            next_crossing += 1
        return DeclarationForm(
            plate=self.plate,
            country=self.country,
            containers=self.containers,
            departure=self.departure,
            crossings=crossings,
            destination=self.destination,
            goods=goods,
            guarantee=self.guarantee,
            guarantee_amount=self.guarantee_amount,
            guarantee_currency=self.guarantee_currency,
        )


@dataclass(slots=True)
class FormMap:
    """Where each part of a declaration came from on the form, so that a field the domain names
    (``goods[1].hs_code``, ``itinerary[2]``) marks the input the carrier filled."""

    offices: list[str] = field(default_factory=list)
    office_fields: list[str] = field(default_factory=list)
    goods_rows: list[int] = field(default_factory=list)

    def form_field(self, path: str) -> str | None:
        if m := re.fullmatch(r"itinerary\[(\d+)\]", path):
            i = int(m[1])
            return self.office_fields[i] if i < len(self.office_fields) else "itinerary"
        if m := re.fullmatch(r"goods\[(\d+)\]\.(.+)", path):
            i = int(m[1])
            return f"goods[{self.goods_rows[i]}].{m[2]}" if i < len(self.goods_rows) else "goods"
        if path in ("guarantee.reference", "guarantee.amount", "guarantee.currency"):
            return path
        if path in ("vehicle.plate", "vehicle.country", "vehicle", "containers", "itinerary", "goods"):
            return path
        return None


# --- the words of the form's own checks ---------------------------------------------------------

CORRECT_THE_FIELDS = N_("Correct the marked fields and send the declaration again.")
NEED_VEHICLE = N_("Enter the registration plate, the container numbers, or both.")
BAD_PLATE = N_("A registration plate has 2 to 15 letters, digits, spaces or dashes.")
NEED_COUNTRY = N_("Enter the country of registration as two letters, for example KZ.")
BAD_COUNTRY = N_("There is no country with this code.")
BAD_CONTAINER = N_("%(number)s is not a container number: 4 letters, 6 digits and a check digit (ISO 6346).")
TOO_MANY_CONTAINERS = N_("Declare at most %(max)s containers.")
NEED_DEPARTURE = N_("Choose the office of departure.")
NEED_DESTINATION = N_("Choose the office of destination.")
UNKNOWN_OFFICE = N_("There is no customs office with this code in the member states.")
NEED_EXIT = N_("Choose the office where the vehicle leaves, or clear this crossing.")
NEED_ENTRY = N_("Choose the office where the vehicle enters, or clear this crossing.")
NEED_GOODS = N_("Declare at least one goods item.")
TOO_MANY_GOODS = N_("Declare at most %(max)s goods items.")
BAD_HS = N_("An HS code has 6 digits: type the code or words and pick a suggestion.")
NEED_DESCRIPTION = N_("Describe the goods (up to 512 characters).")
BAD_PACKAGES = N_("Enter a whole number of packages from 1 to 1,000,000.")
BAD_MASS = N_("Enter the gross mass in kg: more than 0, at most 1,000,000, with up to 3 decimals (e.g. %(example)s).")
BAD_AMOUNT = N_("Enter an amount with up to 2 decimals (e.g. %(example)s).")
NEED_CURRENCY = N_("Choose a currency.")
NEED_GUARANTEE = N_("Choose one of your guarantees.")

# the domain's fields, in words (the general sentence of `problems.py` says only "not accepted")
NO_SUCH_HS = N_("There is no such HS 2022 subheading.")
NO_CROSSING = N_("No crossing point joins this office and the entry office after it.")
ROUTE_GAP = N_("The route has not reached this office's state: leave from the state it is in.")
DESTINATION_ELSEWHERE = N_("The office of destination must be in the state the route ends in.")
NOT_MEMBER = N_("This office is not in a member state of the transit scheme.")
ROUTE_SHAPE = N_("The route needs an office of departure, an office of destination, and offices not repeated.")
UNKNOWN_GUARANTEE = N_("There is no such guarantee of yours, or it is revoked or expired.")
OVER_GUARANTEE = N_("This is more than the guarantee's free amount (%(free)s).")
GUARANTEE_CURRENCY = N_("The guarantee is given in %(currency)s.")
BAD_GOODS_CURRENCY = N_("There is no currency with this code.")


def parse_number(text: str, lang: str, *, places: int) -> Decimal | None:
    """A number as people write it in `lang`: "2 400,5" in Russian or Kazakh, "2,400.5" in English; a dot is
    also taken as the decimal mark in Russian and Kazakh, as phones often type it. None if it is not one, or
    has more than `places` decimals."""
    bare = _SPACES.sub("", text)
    if lang == "en":
        bare = bare.replace(",", "")
    elif "," in bare:
        if "." in bare:
            return None
        bare = bare.replace(",", ".")
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", bare):
        return None
    try:
        value = Decimal(bare)
    except InvalidOperation:
        return None
    exponent = value.as_tuple().exponent
    return value if isinstance(exponent, int) and -exponent <= places else None


# --- the pages ----------------------------------------------------------------------------------


@router.get("/carrier/transits")
def my_transits(visit: CarrierPage, page: str | None = None) -> Response:
    number = int(page) if page and page.isdigit() and int(page) > 0 else 1
    found = visit.services.queries.transits(_actor(visit), limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
    pages = max(1, -(-found.total // PER_PAGE))
    if number > pages:
        return visit.redirect(f"/carrier/transits?page={pages}")
    story = TransitStory(visit, disclose_rules=False)
    rows = [
        {
            "mrn": t.mrn,
            "status": story.status(t.status),
            "badge": STATUS_BADGES.get(t.status, ""),
            "departure": story.office(t.departure_office),
            "destination": story.office(t.destination_office),
            "plate": t.plate or "",
            "submitted": visit.datetime(t.submitted_at),
            "updated": visit.datetime(t.updated_at),
        }
        for t in found.items
    ]
    return visit.render("carrier/transits.html", rows=rows, total=found.total, page_number=number, pages=pages)


@router.get("/carrier/transits/new")
def new_declaration(visit: CarrierPage) -> Response:
    blank = DeclarationForm(country=_actor(visit).country, guarantee_currency="", goods=[], crossings=[])
    return _form(visit, blank, None)


@router.post("/carrier/transits/new")
def lodge_declaration(visit: CarrierPage, form: FormDep) -> Response:
    typed = DeclarationForm.read(form)
    checked = _check(visit, typed)
    if isinstance(checked, FormProblem):
        return _form(visit, typed, checked, status=422)
    declaration, where = checked
    try:
        mrn = handlers.submit_declaration(
            SubmitDeclaration(actor=_actor(visit), declaration=declaration),
            uow=visit.services.uow(),
            clock=visit.services.clock,
            places=visit.services.places,
        )
    except DomainError as exc:
        return _form(visit, typed, _explain(visit, exc, where, typed), status=status_of(exc))
    return visit.redirect(f"/carrier/transits/{mrn}?lodged=1")


@router.get("/carrier/transits/{mrn}")
def transit_page(visit: CarrierPage, mrn: str, lodged: str | None = None) -> Response:
    transit, records = _own(visit, mrn)
    return _transit(visit, transit, records, notice=visit._("Your declaration is lodged.") if lodged else "")


@router.post("/carrier/transits/{mrn}/cancel")
def cancel(visit: CarrierPage, mrn: str, form: FormDep) -> Response:
    transit, records = _own(visit, mrn)
    reason = str(form.get("reason") or "").strip()
    if not reason or len(reason) > 1000:
        problem = FormProblem(
            message=visit._("Say why the declaration is cancelled."),
            fields={"reason": visit._("Write the reason, up to 1,000 characters.")},
            detail="",
        )
        return _transit(visit, transit, records, problem=problem, reason=reason[:1000], status=422)
    try:
        handlers.cancel_declaration(
            CancelDeclaration(actor=_actor(visit), mrn=transit.mrn, reason=reason),
            uow=visit.services.uow(),
            clock=visit.services.clock,
            places=visit.services.places,
        )
    except DomainError as exc:
        return _transit(visit, transit, records, problem=visit.problem(exc), reason=reason, status=status_of(exc))
    return visit.redirect(f"/carrier/transits/{transit.mrn}")


@router.get("/carrier/transits/{mrn}/document.pdf")
def document(visit: CarrierPage, mrn: str, lang: str | None = None) -> Response:
    transit, records = _own(visit, mrn)
    language = lang if lang in ("kk", "ru", "en") else visit.lang
    return Response(
        transit_document_pdf(visit.services, transit, records, language=language),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{transit.mrn}.pdf"',
            "Content-Language": language,
        },
    )


# --- pieces -------------------------------------------------------------------------------------


def _own(visit: Page, mrn: str) -> tuple[Transit, list[LoggedRecord]]:
    """The carrier's own transit; another holder's, or a malformed MRN, is "not found" alike."""
    try:
        number = Mrn(mrn)
    except InvalidInput:
        raise TransitNotFound(f"no transit {mrn}") from None
    found = visit.services.queries.transit_with_records(number)
    if found is None or not handlers.can_see(_actor(visit), found[0], visit.services.places):
        raise TransitNotFound(f"no transit {number}")
    return found


def _transit(
    visit: Page,
    transit: Transit,
    records: list[LoggedRecord],
    *,
    notice: str = "",
    problem: FormProblem | None = None,
    reason: str = "",
    status: int = 200,
) -> Response:
    story = TransitStory(visit, disclose_rules=False)
    declaration = transit.declaration
    return visit.render(
        "carrier/transit.html",
        status=status,
        transit=transit,
        status_name=story.status(transit.status),
        badge=STATUS_BADGES.get(transit.status, ""),
        vehicle=story.vehicle(declaration),
        route=story.route(transit),
        goods=story.goods(declaration),
        guarantee=story.money(declaration.guarantee.amount.amount, declaration.guarantee.amount.currency),
        seals=story.seals(transit.seals),
        time_limit=visit.datetime(transit.time_limit),
        recognised=None if transit.recognised_control is None else story.control(transit.recognised_control),
        pending=[(story.office(office), story.reasons(reasons, office)) for office, reasons in transit.pending.items()],
        history=story.history(transit, records),
        can_cancel="cancel" in transit.allowed_actions(),
        notice=notice,
        problem=problem,
        reason=reason,
    )


@dataclass(frozen=True, slots=True)
class OfficeOption:
    code: str
    country: str
    label: str


def _office_groups(visit: Page, kinds: tuple[OfficeKind, ...]) -> list[tuple[str, list[OfficeOption]]]:
    story = TransitStory(visit)
    reference = visit.services.reference
    groups = []
    for state in reference.member_states:
        offices = [o for o in reference.offices_of(state) if o.kind in kinds]
        if offices:
            groups.append((story.country(state), [OfficeOption(o.code, o.country, _office_label(o)) for o in offices]))
    return groups


def _office_label(office: Office) -> str:
    return f"{office.name} — {office.code}"


def _form(visit: Page, typed: DeclarationForm, problem: FormProblem | None, status: int = 200) -> Response:
    now = visit.services.clock.now()
    guarantees = [
        g for g in visit.services.queries.guarantees(_actor(visit).username) if not g.revoked and g.valid_until > now
    ]
    story = TransitStory(visit)
    guarantee_options = [
        (
            g.reference,
            visit._(
                "%(reference)s — free %(free)s of %(cover)s, valid until %(until)s",
                reference=g.reference,
                free=story.money(Decimal(g.cover) - Decimal(g.committed), g.currency),
                cover=story.money(Decimal(g.cover), g.currency),
                until=visit.date(g.valid_until),
            ),
            g.currency,
        )
        for g in guarantees
    ]
    return visit.render(
        "carrier/new.html",
        status=status,
        form=typed.shown(),
        problem=problem,
        all_offices=_office_groups(visit, (OfficeKind.INLAND, OfficeKind.SEAPORT, OfficeKind.BORDER)),
        border_offices=_office_groups(visit, (OfficeKind.BORDER, OfficeKind.SEAPORT)),
        guarantees=guarantee_options,
        currencies=[(c, c) for c in CURRENCIES],
        mass_example=visit.number(Decimal("2400.5")),
        amount_example=visit.number(Decimal("18000.00")),
    )


def _check(visit: Page, typed: DeclarationForm) -> tuple[Declaration, FormMap] | FormProblem:
    """The form's own checks (required, formats, numbers, known offices), then the declaration built as the
    API builds it; every problem found is reported at once, in the visitor's language."""
    _ = visit._
    fields: dict[str, str] = {}
    where = FormMap()
    reference = visit.services.reference

    # vehicle and containers
    vehicle = None
    plate = " ".join(typed.plate.upper().split())
    numbers = [n for n in re.split(r"[\s,;]+", typed.containers.upper()) if n]
    if not plate and not numbers:
        fields["vehicle.plate"] = fields["containers"] = _(NEED_VEHICLE)
    if plate:
        if not _PLATE.fullmatch(plate):
            fields["vehicle.plate"] = _(BAD_PLATE)
        if not re.fullmatch(r"[A-Z]{2}", typed.country):
            fields["vehicle.country"] = _(NEED_COUNTRY)
        elif pycountry.countries.get(alpha_2=typed.country) is None:
            fields["vehicle.country"] = _(BAD_COUNTRY)
        if "vehicle.plate" not in fields and "vehicle.country" not in fields:
            vehicle = Vehicle(plate=plate, country=typed.country)
    containers = []
    if len(numbers) > MAX_CONTAINERS:
        fields["containers"] = _(TOO_MANY_CONTAINERS, max=MAX_CONTAINERS)
    for number in numbers:
        try:
            containers.append(Container(number=number))
        except InvalidInput:
            fields.setdefault("containers", _(BAD_CONTAINER, number=number))

    # itinerary: departure, (exit, entry) per crossing, destination
    def office(name: str, code: str, missing: str) -> None:
        if not code:
            fields[name] = _(missing)
        elif code not in reference.offices or not reference.is_member(reference.offices[code].country):
            fields[name] = _(UNKNOWN_OFFICE)
        where.offices.append(code)
        where.office_fields.append(name)

    office("departure", typed.departure, NEED_DEPARTURE)
    for crossing in typed.crossings:
        if not crossing.blank:
            office(f"crossing[{crossing.index}].exit", crossing.exit, NEED_EXIT)
            office(f"crossing[{crossing.index}].entry", crossing.entry, NEED_ENTRY)
    office("destination", typed.destination, NEED_DESTINATION)

    # goods
    goods: list[GoodsItem] = []
    rows = [g for g in typed.goods if not g.blank]
    if not rows:
        fields["goods"] = _(NEED_GOODS)
    elif len(rows) > MAX_GOODS_ITEMS:
        fields["goods"] = _(TOO_MANY_GOODS, max=MAX_GOODS_ITEMS)
    for row in rows:
        name = f"goods[{row.index}]"
        hs_code = row.hs_code.replace(".", "").replace(" ", "")
        if not _HS6.fullmatch(hs_code):
            fields[f"{name}.hs_code"] = _(BAD_HS)
        if not row.description or len(row.description) > 512:
            fields[f"{name}.description"] = _(NEED_DESCRIPTION)
        packages = parse_number(row.packages, visit.lang, places=0)
        if packages is None or not 0 < packages <= MAX_PACKAGES:
            fields[f"{name}.packages"] = _(BAD_PACKAGES)
        mass = parse_number(row.gross_mass_kg, visit.lang, places=3)
        if mass is None or not 0 < mass <= MAX_MASS:
            fields[f"{name}.gross_mass_kg"] = _(BAD_MASS, example=visit.number(Decimal("2400.5")))
        amount = parse_number(row.amount, visit.lang, places=2)
        if amount is None or amount >= MAX_AMOUNT:
            fields[f"{name}.value.amount"] = _(BAD_AMOUNT, example=visit.number(Decimal("18000.00")))
        if not _CURRENCY.fullmatch(row.currency):
            fields[f"{name}.value.currency"] = _(NEED_CURRENCY)
        if packages is None or mass is None or amount is None or any(k.startswith(name + ".") for k in fields):
            continue
        goods.append(
            GoodsItem(
                hs_code=hs_code,
                description=row.description,
                packages=int(packages),
                gross_mass_kg=mass,
                value=Money(amount=_cents(amount), currency=row.currency),
            )
        )
        where.goods_rows.append(row.index)

    # guarantee
    if not typed.guarantee:
        fields["guarantee.reference"] = _(NEED_GUARANTEE)
    guarantee_amount = parse_number(typed.guarantee_amount, visit.lang, places=2)
    if guarantee_amount is None or guarantee_amount >= MAX_AMOUNT:
        fields["guarantee.amount"] = _(BAD_AMOUNT, example=visit.number(Decimal("18000.00")))
    if not _CURRENCY.fullmatch(typed.guarantee_currency):
        fields["guarantee.currency"] = _(NEED_CURRENCY)

    if fields or guarantee_amount is None:
        return FormProblem(message=_(CORRECT_THE_FIELDS), fields=fields, detail="")
    try:
        declaration = Declaration(
            holder=_actor(visit).username,
            vehicle=vehicle,
            containers=tuple(containers),
            itinerary=Itinerary(offices=tuple(where.offices)),
            goods=tuple(goods),
            guarantee=GuaranteeCommitment(
                reference=typed.guarantee,
                amount=Money(amount=_cents(guarantee_amount), currency=typed.guarantee_currency),
            ),
        )
    except DomainError as exc:
        return _explain(visit, exc, where, typed)
    return declaration, where


def _explain(visit: Page, exc: DomainError, where: FormMap, typed: DeclarationForm) -> FormProblem:
    """The domain's refusal, with each field it names put on the input the carrier filled, in words that say
    what to change (the domain's own English stays in the details)."""
    base = visit.problem(exc)
    fields: dict[str, str] = {}
    for path in exc.fields:
        name = where.form_field(path)
        if name is not None:
            fields[name] = _field_words(visit, path, where.offices, typed) or base.fields[path]
    return FormProblem(message=base.message, fields=fields, detail=base.detail)


def _field_words(visit: Page, path: str, offices: list[str], typed: DeclarationForm) -> str | None:
    _ = visit._
    reference = visit.services.reference
    if path == "itinerary":
        return _(ROUTE_SHAPE)
    if m := re.fullmatch(r"itinerary\[(\d+)\]", path):
        i = int(m[1])
        found = reference.offices.get(offices[i]) if i < len(offices) else None
        if found is None:
            return _(UNKNOWN_OFFICE)
        if not reference.is_member(found.country):
            return _(NOT_MEMBER)
        if i == len(offices) - 1:
            return _(DESTINATION_ELSEWHERE)
        if i % 2 == 1 and reference.crossing_between(offices[i], offices[i + 1]) is None:
            return _(NO_CROSSING)
        return _(ROUTE_GAP)
    if path.startswith("goods[") and path.endswith(".hs_code"):
        return _(NO_SUCH_HS)
    if path.startswith("goods[") and path.endswith(".currency"):
        return _(BAD_GOODS_CURRENCY)
    if path == "guarantee.reference":
        return _(UNKNOWN_GUARANTEE)
    guarantee = _guarantee(visit, typed.guarantee)
    if path == "guarantee.currency" and guarantee is not None:
        return _(GUARANTEE_CURRENCY, currency=guarantee.currency)
    if path == "guarantee.amount" and guarantee is not None:
        free = Decimal(guarantee.cover) - Decimal(guarantee.committed)
        return _(OVER_GUARANTEE, free=TransitStory(visit).money(free, guarantee.currency))
    return None


def _guarantee(visit: Page, reference: str) -> GuaranteeBalance | None:
    return next(
        (g for g in visit.services.queries.guarantees(_actor(visit).username) if g.reference == reference), None
    )


def _actor(visit: Page) -> Actor:
    if visit.actor is None:  # `signed_in` lets no anonymous visitor this far
        raise SignInNeeded(visit.request.url.path)
    return visit.actor


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))

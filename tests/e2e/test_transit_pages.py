"""The carrier's and the customs officer's pages without a browser: every page's happy path, who may see what,
and every bad input on every form — refused with a message in the visitor's language, and nothing written."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from babel.numbers import format_decimal
from fastapi.testclient import TestClient
from httpx2 import Response
from PIL import Image
from pypdf import PdfReader

from silkway import i18n
from silkway.accounts.handlers import CreateAccount, create_account
from silkway.documents.qr import qr_png
from silkway.documents.reading import read_payloads
from silkway.services import Services
from silkway.shared.actors import SYSTEM, Actor, Role
from silkway.shared.money import Money
from silkway.shared.mrn import Mrn
from silkway.signing.keys import SigningKey
from silkway.signing.seal import open_seal, seal
from silkway.transit import handlers
from silkway.transit.commands import (
    ControlReport,
    PresentVehicle,
    RecordPassage,
    ReleaseForTransit,
    SubmitDeclaration,
)
from silkway.transit.model import (
    ControlKind,
    ControlOutcome,
    Declaration,
    GoodsItem,
    GuaranteeCommitment,
    Itinerary,
    Vehicle,
)
from silkway.web.pages import carrier, customs
from silkway.web.pages.base import Page
from silkway.web.pages.problems import MESSAGES
from silkway.web.pages.transit_story import REASONS, TransitStory

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ROUTE = ("KZ-ALA-ZHETYSU", "KZ-ZHIBEKZHOLY", "UZ-GISHTKUPRIK", "UZ-TAS-CUSTOMS")
SEALS = ("KZ1234567", "KZ1234568")
CARRIER = Actor(username="carrier-kz", role=Role.CARRIER, country="KZ")


def customs_of(country: str) -> Actor:
    return Actor(username=f"customs-{country.lower()}", role=Role.CUSTOMS, country=country)


# --- a browser without a browser --------------------------------------------------------------------


class Visitor:
    """One browser: its own cookies, one account, one language (chosen with ?lang= and kept by its cookie)."""

    def __init__(self, client: TestClient, username: str | None = None, *, lang: str = "en") -> None:
        self.http = TestClient(client.app, raise_server_exceptions=False)
        self.lang = lang
        self.http.get(f"/signin?lang={lang}")
        if username is not None:
            token = self.token("/signin")
            answer = self.http.post(
                "/signin", data={"csrf": token, "username": username, "password": "demo"}, follow_redirects=False
            )
            assert answer.status_code == 303, answer.text

    def token(self, page: str) -> str:
        """The CSRF token, read from the form of `page` as a browser would send it back."""
        found = CSRF.search(self.http.get(page).text)
        assert found is not None, f"no form on {page}"
        return found.group(1)

    def get(self, path: str) -> Response:
        return self.http.get(path, follow_redirects=False)

    def post(self, path: str, data: dict[str, str], *, page: str, files: dict[str, Any] | None = None) -> Response:
        return self.http.post(path, data={"csrf": self.token(page), **data}, files=files, follow_redirects=False)

    def work_at(self, office: str) -> None:
        answer = self.post("/customs", {"office": office, "next": ""}, page="/customs")
        assert answer.status_code == 303, answer.text


def said(lang: str, message: str, **values: str) -> str:
    """`message` as the catalogue of `lang` says it (English until a translation is merged)."""
    text = i18n.translator(lang).gettext(message)
    return text % values if values else text


def text_of(response: Response) -> str:
    return html.unescape(response.text)


def field_id(name: str) -> str:
    return "f-" + name.replace(".", "-").replace("[", "-").replace("]", "")


def error_on(response: Response, name: str) -> str:
    """The error shown beside the input `name`, which must be marked invalid."""
    fid = field_id(name)
    found = re.search(rf'<p class="error" id="{fid}-error">([^<]*)</p>', response.text)
    assert found is not None, f"no error shown on {name}: {re.findall(r'class=.error.[^>]*>([^<]*)', response.text)}"
    assert re.search(rf'id="{fid}"[^>]*aria-invalid="true"', response.text), f"{name} is not marked invalid"
    return html.unescape(found.group(1))


def problem_message(response: Response) -> str:
    found = re.search(r'<div class="problem" role="alert"[^>]*>\s*<p><strong>([^<]*)</strong>', response.text)
    assert found is not None, "no problem box"
    return html.unescape(found.group(1))


def transit_count(services: Services) -> int:
    return services.queries.transits(CARRIER).total


def records(services: Services, mrn: str) -> int:
    return len(services.queries.transit_records(Mrn(mrn)))


# --- transits made directly, for the pages to show ----------------------------------------------------


def run(services: Services, handler: Any, command: Any) -> Any:
    return handler(command, uow=services.uow(), clock=services.clock, places=services.places)


def lodge(
    services: Services,
    *,
    route: tuple[str, ...] = ROUTE,
    hs_code: str = "847130",
    plate: str = "777ZZZ02",
    amount: str = "1000.00",
) -> str:
    declaration = Declaration(
        holder="carrier-kz",
        vehicle=Vehicle(plate=plate, country="KZ"),
        containers=(),
        itinerary=Itinerary(offices=route),
        goods=(
            GoodsItem(
                hs_code=hs_code,
                description="Goods for a page test",
                packages=10,
                gross_mass_kg=Decimal("250.5"),
                value=Money.of("9000.00", "USD"),
            ),
        ),
        guarantee=GuaranteeCommitment(reference="GRN-KZ-0001", amount=Money.of(amount, "USD")),
    )
    return str(run(services, handlers.submit_declaration, SubmitDeclaration(actor=CARRIER, declaration=declaration)))


def release(services: Services, mrn: str, kind: ControlKind | None = ControlKind.PHYSICAL) -> None:
    control = None if kind is None else ControlReport(kind=kind, outcome=ControlOutcome.SATISFACTORY)
    command = ReleaseForTransit(actor=customs_of("KZ"), mrn=Mrn(mrn), office=ROUTE[0], seals=SEALS, control=control)
    run(services, handlers.release_for_transit, command)


def present(services: Services, mrn: str, office: str, seals: tuple[str, ...] = SEALS) -> None:
    command = PresentVehicle(actor=customs_of(office[:2]), mrn=Mrn(mrn), office=office, seals=seals)
    run(services, handlers.present_vehicle, command)


def passage(services: Services, mrn: str, office: str) -> None:
    run(services, handlers.record_passage, RecordPassage(actor=customs_of(office[:2]), mrn=Mrn(mrn), office=office))


def declaration_form(**changes: str) -> dict[str, str]:
    """The new-declaration form as a browser sends it: the KZ → UZ route, one goods item and a blank spare row."""
    form = {
        "vehicle.plate": "123 ABC 02",
        "vehicle.country": "KZ",
        "containers": "",
        "departure": ROUTE[0],
        "crossing[0].exit": ROUTE[1],
        "crossing[0].entry": ROUTE[2],
        "crossing[1].exit": "",
        "crossing[1].entry": "",
        "destination": ROUTE[3],
        "goods[0].hs_code": "847130",
        "goods[0].description": "Laptops",
        "goods[0].packages": "120",
        "goods[0].gross_mass_kg": "2400.5",
        "goods[0].value.amount": "180000",
        "goods[0].value.currency": "USD",
        "goods[1].hs_code": "",
        "goods[1].description": "",
        "goods[1].packages": "",
        "goods[1].gross_mass_kg": "",
        "goods[1].value.amount": "",
        "goods[1].value.currency": "USD",
        "guarantee.reference": "GRN-KZ-0001",
        "guarantee.amount": "50000",
        "guarantee.currency": "USD",
    }
    form.update(changes)
    return form


def lodge_through_the_form(visitor: Visitor, **changes: str) -> str:
    answer = visitor.post("/carrier/transits/new", declaration_form(**changes), page="/carrier/transits/new")
    assert answer.status_code == 303, problem_message(answer) if "problem" in answer.text else answer.text
    found = re.fullmatch(r"/carrier/transits/([0-9A-Z]{18})\?lodged=1", answer.headers["location"])
    assert found is not None, answer.headers["location"]
    return found.group(1)


# --- the carrier ------------------------------------------------------------------------------------


def test_a_carrier_lodges_a_declaration_through_the_form_and_finds_it_in_its_list(
    client: TestClient, services: Services
) -> None:
    carrier_kz = Visitor(client, "carrier-kz")
    form = carrier_kz.get("/carrier/transits/new")
    assert form.status_code == 200
    assert 'name="goods[0].hs_code"' in form.text
    assert '<option value="UZ-GISHTKUPRIK" data-country="UZ"' in form.text
    assert "GRN-KZ-0001" in form.text
    # without JavaScript the form offers a fixed number of blank rows; the script removes the spare ones
    assert 'name="goods[2].hs_code"' in form.text
    assert 'name="crossing[2].entry"' in form.text
    assert form.text.count("data-spare") == 4
    # what the script asks for is public reference data
    assert Visitor(client).http.get("/api/v1/hs?q=portable+processing").json()[0]["code"] == "847130"
    assert Visitor(client).http.get("/api/v1/crossings").status_code == 200

    mrn = lodge_through_the_form(carrier_kz, containers="MSCU1234566")

    page = carrier_kz.get(f"/carrier/transits/{mrn}?lodged=1")
    assert page.status_code == 200
    shown = text_of(page)
    assert "Your declaration is lodged." in shown
    assert "Declaration lodged" in shown
    assert "by carrier-kz" in shown
    assert "123 ABC 02 (KZ), MSCU1234566" in shown
    assert "Gishtkuprik (UZ-GISHTKUPRIK)" in shown
    assert "180,000.00 USD" in shown
    listing = text_of(carrier_kz.get("/carrier/transits"))
    assert mrn in listing
    assert "Submitted" in listing
    [transit] = services.queries.transits(CARRIER).items
    assert (transit.mrn, transit.plate, transit.destination_office) == (mrn, "123 ABC 02", ROUTE[3])


def test_numbers_are_read_as_the_visitors_language_writes_them(client: TestClient, services: Services) -> None:
    carrier_ru = Visitor(client, "carrier-kz", lang="ru")
    mrn = lodge_through_the_form(
        carrier_ru,
        **{"goods[0].gross_mass_kg": "2 400,5", "goods[0].value.amount": "180 000,00", "guarantee.amount": "50000,5"},
    )
    transit = services.queries.transit(Mrn(mrn))
    assert transit is not None
    assert transit.declaration.goods[0].gross_mass_kg == Decimal("2400.5")
    assert transit.declaration.guarantee.amount == Money.of("50000.50", "USD")
    shown = text_of(carrier_ru.get(f"/carrier/transits/{mrn}"))
    assert "2\xa0400,5" in shown
    assert "Декларация подана" in shown  # the status, in Russian
    assert 'lang="ru"' in carrier_ru.get("/carrier/transits").text


def test_a_route_within_one_state_needs_no_crossing(client: TestClient, services: Services) -> None:
    carrier_kz = Visitor(client, "carrier-kz")
    mrn = lodge_through_the_form(
        carrier_kz,
        **{"crossing[0].exit": "", "crossing[0].entry": "", "destination": "KZ-AST-CUSTOMS"},
    )
    transit = services.queries.transit(Mrn(mrn))
    assert transit is not None
    assert transit.declaration.itinerary.offices == ("KZ-ALA-ZHETYSU", "KZ-AST-CUSTOMS")


def test_the_list_is_newest_first_and_paged(client: TestClient, services: Services) -> None:
    made = [lodge(services) for _ in range(carrier.PER_PAGE + 1)]
    carrier_kz = Visitor(client, "carrier-kz")

    first = carrier_kz.get("/carrier/transits")
    second = carrier_kz.get("/carrier/transits?page=2")

    on_first = re.findall(r'href="/carrier/transits/([0-9A-Z]{18})"', first.text)
    on_second = re.findall(r'href="/carrier/transits/([0-9A-Z]{18})"', second.text)
    assert on_first == sorted(made, reverse=True)[: carrier.PER_PAGE]
    assert on_second == [min(made)]
    assert "Page 1 of 2" in first.text
    assert 'rel="next"' in first.text
    assert 'rel="prev"' in second.text
    assert carrier_kz.get("/carrier/transits?page=junk").status_code == 200
    assert carrier_kz.get("/carrier/transits?page=9").headers["location"] == "/carrier/transits?page=2"


BAD_DECLARATIONS: list[tuple[str, dict[str, str], str, str, dict[str, str]]] = [
    ("no vehicle nor containers", {"vehicle.plate": ""}, "containers", carrier.NEED_VEHICLE, {}),
    ("malformed plate", {"vehicle.plate": "№ 1!"}, "vehicle.plate", carrier.BAD_PLATE, {}),
    ("country not two letters", {"vehicle.country": "KAZ"}, "vehicle.country", carrier.NEED_COUNTRY, {}),
    ("unknown country", {"vehicle.country": "QQ"}, "vehicle.country", carrier.BAD_COUNTRY, {}),
    (
        "bad container check digit",
        {"containers": "MSCU1234567"},
        "containers",
        carrier.BAD_CONTAINER,
        {"number": "MSCU1234567"},
    ),
    ("no office of departure", {"departure": ""}, "departure", carrier.NEED_DEPARTURE, {}),
    ("unknown office", {"destination": "UZ-NOWHERE"}, "destination", carrier.UNKNOWN_OFFICE, {}),
    ("office outside the member states", {"destination": "CN-ALASHANKOU"}, "destination", carrier.UNKNOWN_OFFICE, {}),
    ("exit office without entry", {"crossing[0].entry": ""}, "crossing[0].entry", carrier.NEED_ENTRY, {}),
    ("no crossing joins the offices", {"crossing[0].entry": "UZ-YALLAMA"}, "crossing[0].exit", carrier.NO_CROSSING, {}),
    (
        "leaves from a state not reached",
        {"crossing[0].exit": "UZ-OYBEK", "crossing[0].entry": "TJ-FOTEHOBOD", "destination": "TJ-DUSHANBE-HQ"},
        "crossing[0].exit",
        carrier.ROUTE_GAP,
        {},
    ),
    (
        "destination in another state",
        {"destination": "KG-BISHKEK-CENTRAL"},
        "destination",
        carrier.DESTINATION_ELSEWHERE,
        {},
    ),
    ("HS code not 6 digits", {"goods[0].hs_code": "8471"}, "goods[0].hs_code", carrier.BAD_HS, {}),
    ("HS code not in HS 2022", {"goods[0].hs_code": "999999"}, "goods[0].hs_code", carrier.NO_SUCH_HS, {}),
    ("no description", {"goods[0].description": ""}, "goods[0].description", carrier.NEED_DESCRIPTION, {}),
    ("no packages", {"goods[0].packages": "0"}, "goods[0].packages", carrier.BAD_PACKAGES, {}),
    ("half a package", {"goods[0].packages": "1.5"}, "goods[0].packages", carrier.BAD_PACKAGES, {}),
    ("mass zero", {"goods[0].gross_mass_kg": "0"}, "goods[0].gross_mass_kg", carrier.BAD_MASS, {"example": "2400.5"}),
    (
        "mass over 1000 t",
        {"goods[0].gross_mass_kg": "1000001"},
        "goods[0].gross_mass_kg",
        carrier.BAD_MASS,
        {"example": "2400.5"},
    ),
    (
        "mass in words",
        {"goods[0].gross_mass_kg": "heavy"},
        "goods[0].gross_mass_kg",
        carrier.BAD_MASS,
        {"example": "2400.5"},
    ),
    (
        "mass to the gram and less",
        {"goods[0].gross_mass_kg": "1.2345"},
        "goods[0].gross_mass_kg",
        carrier.BAD_MASS,
        {"example": "2400.5"},
    ),
    (
        "value with three decimals",
        {"goods[0].value.amount": "10.005"},
        "goods[0].value.amount",
        carrier.BAD_AMOUNT,
        {"example": "18000"},
    ),
    (
        "negative value",
        {"goods[0].value.amount": "-5"},
        "goods[0].value.amount",
        carrier.BAD_AMOUNT,
        {"example": "18000"},
    ),
    ("unknown currency", {"goods[0].value.currency": "QQQ"}, "goods[0].value.currency", carrier.BAD_GOODS_CURRENCY, {}),
    ("no guarantee", {"guarantee.reference": ""}, "guarantee.reference", carrier.NEED_GUARANTEE, {}),
    ("unknown guarantee", {"guarantee.reference": "GRN-XX-9999"}, "guarantee.reference", carrier.UNKNOWN_GUARANTEE, {}),
    (
        "guarantee in another currency",
        {"guarantee.currency": "EUR"},
        "guarantee.currency",
        carrier.GUARANTEE_CURRENCY,
        {"currency": "USD"},
    ),
    (
        "guarantee amount in words",
        {"guarantee.amount": "lots"},
        "guarantee.amount",
        carrier.BAD_AMOUNT,
        {"example": "18000"},
    ),
]


@pytest.mark.parametrize(
    ("lang", "changes", "name", "message", "values"),
    [("ru" if i % 2 else "kk", *case[1:]) for i, case in enumerate(BAD_DECLARATIONS)],
    ids=[case[0] for case in BAD_DECLARATIONS],
)
def test_every_bad_declaration_is_refused_in_the_visitors_language_and_nothing_is_lodged(
    client: TestClient,
    services: Services,
    lang: str,
    changes: dict[str, str],
    name: str,
    message: str,
    values: dict[str, str],
) -> None:
    carrier_kz = Visitor(client, "carrier-kz", lang=lang)
    if "example" in values:
        values = {"example": i18n.format_decimal(Decimal(values["example"]), lang)}

    answer = carrier_kz.post("/carrier/transits/new", declaration_form(**changes), page="/carrier/transits/new")

    assert answer.status_code in (403, 404, 409, 422), answer.status_code
    assert 'lang="' + lang + '"' in answer.text
    assert error_on(answer, name) == said(lang, message, **values)
    assert transit_count(services) == 0
    typed = declaration_form(**changes)  # what was typed comes back as it was typed
    assert f'value="{html.escape(typed["vehicle.plate"])}"' in answer.text
    assert f'value="{html.escape(typed["goods[0].gross_mass_kg"])}"' in answer.text
    destination = services.reference.offices.get(typed["destination"])
    if destination is not None and services.reference.is_member(destination.country):
        assert f'<option value="{destination.code}" data-country="{destination.country}" selected>' in answer.text


def test_an_incoherent_itinerary_is_explained_at_the_top_and_beside_the_office(
    client: TestClient, services: Services
) -> None:
    carrier_ru = Visitor(client, "carrier-kz", lang="ru")
    answer = carrier_ru.post(
        "/carrier/transits/new", declaration_form(**{"crossing[0].entry": "UZ-YALLAMA"}), page="/carrier/transits/new"
    )
    assert answer.status_code == 422
    assert problem_message(answer) == said("ru", MESSAGES["incoherent_itinerary"])
    assert '<option value="UZ-YALLAMA" data-country="UZ" selected>' in answer.text
    assert transit_count(services) == 0


def test_a_repeated_office_marks_the_itinerary(client: TestClient, services: Services) -> None:
    carrier_kz = Visitor(client, "carrier-kz")
    answer = carrier_kz.post(
        "/carrier/transits/new",
        declaration_form(**{"crossing[0].exit": "", "crossing[0].entry": "", "destination": ROUTE[0]}),
        page="/carrier/transits/new",
    )
    assert answer.status_code == 422
    assert (
        f'<p class="error" id="f-itinerary" tabindex="-1">{html.escape(carrier.ROUTE_SHAPE, quote=True)}</p>'
        in answer.text
    )
    assert transit_count(services) == 0


def test_a_declaration_without_goods_is_refused(client: TestClient, services: Services) -> None:
    carrier_kz = Visitor(client, "carrier-kz")
    blank = {f"goods[0].{f}": "" for f in ("hs_code", "description", "packages", "gross_mass_kg", "value.amount")}
    answer = carrier_kz.post("/carrier/transits/new", declaration_form(**blank), page="/carrier/transits/new")
    assert answer.status_code == 422
    assert carrier.NEED_GOODS in text_of(answer)
    assert transit_count(services) == 0


def test_an_unknown_hs_code_is_told_in_russian(client: TestClient, services: Services) -> None:
    carrier_ru = Visitor(client, "carrier-kz", lang="ru")
    answer = carrier_ru.post(
        "/carrier/transits/new", declaration_form(**{"goods[0].hs_code": "999999"}), page="/carrier/transits/new"
    )
    assert error_on(answer, "goods[0].hs_code") == "Такой субпозиции HS 2022 нет."
    assert transit_count(services) == 0


def test_an_overcommitted_guarantee_is_refused_with_its_free_amount(client: TestClient, services: Services) -> None:
    lodge(services, amount="450000.00")
    before = transit_count(services)
    carrier_kk = Visitor(client, "carrier-kz", lang="kk")

    answer = carrier_kk.post(
        "/carrier/transits/new", declaration_form(**{"guarantee.amount": "50000,01"}), page="/carrier/transits/new"
    )

    assert answer.status_code == 409
    assert problem_message(answer) == "Кепілдік бұл транзитті жаппайды: оның бос сомасы тым аз."
    free = format_decimal(Decimal("50000.00"), format="#,##0.00", locale="kk")  # written the Kazakh way
    assert error_on(answer, "guarantee.amount") == said("kk", carrier.OVER_GUARANTEE, free=f"{free} USD")
    assert transit_count(services) == before


@pytest.mark.parametrize("sent", [None, "forged-token"], ids=["missing", "forged"])
def test_a_declaration_without_this_browsers_csrf_token_is_refused(
    client: TestClient, services: Services, sent: str | None
) -> None:
    carrier_ru = Visitor(client, "carrier-kz", lang="ru")
    data = declaration_form()
    if sent is not None:
        data["csrf"] = sent
    answer = carrier_ru.http.post("/carrier/transits/new", data=data, follow_redirects=False)
    assert answer.status_code == 403
    assert "Срок действия формы истёк" in answer.text
    assert transit_count(services) == 0


def test_pages_need_the_carriers_sign_in_and_role(client: TestClient, services: Services) -> None:
    mrn = lodge(services)
    anonymous = Visitor(client)
    for path in ("/carrier/transits", "/carrier/transits/new", f"/carrier/transits/{mrn}"):
        answer = anonymous.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/signin?next=/carrier/transits")
    officer = Visitor(client, "customs-kz", lang="ru")
    refused = officer.get("/carrier/transits")
    assert refused.status_code == 403
    assert "Недоступно для вашей роли" in refused.text
    assert officer.get(f"/carrier/transits/{mrn}/document.pdf").status_code == 403


def test_a_carrier_never_sees_another_holders_transit(client: TestClient, services: Services) -> None:
    mrn = lodge(services)
    create_account(
        CreateAccount(
            actor=SYSTEM, username="carrier-two", password="demo-password-2", role=Role.CARRIER, country="KZ"
        ),
        uow=services.uow(),
        clock=services.clock,
        hasher=services.hasher,
    )
    other = Visitor(client)
    token = other.token("/signin")
    other.http.post("/signin", data={"csrf": token, "username": "carrier-two", "password": "demo-password-2"})

    page = other.get(f"/carrier/transits/{mrn}")
    assert page.status_code == 404
    assert "No transit with this reference is visible to you." in text_of(page)
    assert other.get(f"/carrier/transits/{mrn}/document.pdf").status_code == 404
    assert mrn not in other.get("/carrier/transits").text
    cancelled = other.post(f"/carrier/transits/{mrn}/cancel", {"reason": "not mine"}, page="/carrier/transits")
    assert cancelled.status_code == 404
    assert records(services, mrn) == 1
    assert other.get("/carrier/transits/NOT-AN-MRN").status_code == 404


def test_the_carrier_downloads_the_same_document_the_api_serves(client: TestClient, services: Services) -> None:
    mrn = lodge(services)
    release(services, mrn)
    carrier_kz = Visitor(client, "carrier-kz")
    assert f'href="/carrier/transits/{mrn}/document.pdf?lang=ru"' in carrier_kz.get(f"/carrier/transits/{mrn}").text

    page_pdf = carrier_kz.get(f"/carrier/transits/{mrn}/document.pdf?lang=ru")
    token = client.post("/api/v1/auth/token", data={"username": "carrier-kz", "password": "demo"}).json()
    api_pdf = client.get(
        f"/api/v1/transits/{mrn}/document?lang=ru", headers={"Authorization": f"Bearer {token['access_token']}"}
    )

    assert page_pdf.status_code == 200
    assert page_pdf.headers["content-type"] == "application/pdf"
    assert page_pdf.content.startswith(b"%PDF")
    page_text = PdfReader(BytesIO(page_pdf.content)).pages[0].extract_text()
    assert "Транзитный сопроводительный" in page_text
    assert page_text == PdfReader(BytesIO(api_pdf.content)).pages[0].extract_text()
    assert read_payloads(page_pdf.content) == read_payloads(api_pdf.content)


def test_the_carrier_cancels_before_release_and_not_after(client: TestClient, services: Services) -> None:
    mrn = lodge(services)
    carrier_ru = Visitor(client, "carrier-kz", lang="ru")
    page = f"/carrier/transits/{mrn}"

    empty = carrier_ru.post(f"{page}/cancel", {"reason": "  "}, page=page)
    assert empty.status_code == 422
    assert error_on(empty, "reason") == said("ru", "Write the reason, up to 1,000 characters.")
    assert records(services, mrn) == 1

    done = carrier_ru.post(f"{page}/cancel", {"reason": "Order withdrawn"}, page=page)
    assert done.status_code == 303
    shown = text_of(carrier_ru.get(page))
    assert "Аннулирован" in shown
    assert "Order withdrawn" in shown
    assert 'action="' + page + '/cancel"' not in shown

    released = lodge(services)
    release(services, released)
    assert f"/carrier/transits/{released}/cancel" not in carrier_ru.get(f"/carrier/transits/{released}").text
    late = carrier_ru.post(f"/carrier/transits/{released}/cancel", {"reason": "too late"}, page=page)
    assert late.status_code == 409
    assert problem_message(late) == "Это действие невозможно в текущем состоянии транзита."
    assert records(services, released) == 2


def test_the_carrier_reads_each_decision_but_not_the_states_risk_criteria(
    client: TestClient, services: Services
) -> None:
    mrn = lodge(services, hs_code="240220")  # cigarettes: Uzbekistan's tobacco rule asks for a physical inspection
    release(services, mrn, kind=ControlKind.DOCUMENTARY)
    present(services, mrn, ROUTE[1])
    passage(services, mrn, ROUTE[1])
    present(services, mrn, ROUTE[2], seals=("KZ1234567",))

    shown = text_of(Visitor(client, "carrier-kz").get(f"/carrier/transits/{mrn}"))

    assert "GREEN — proceed" in shown
    assert "INSPECT" in shown
    assert REASONS["seal_mismatch"] in shown
    assert "A risk rule of Uzbekistan asks for a control (tobacco)." in shown
    assert "Tobacco and manufactured substitutes" not in shown
    assert "Left Kazakhstan" in shown
    assert shown.count("Signed record") == 5


# --- the customs officer: the office ---------------------------------------------------------------


def test_customs_pages_ask_for_the_office_first_and_remember_it(client: TestClient, services: Services) -> None:
    mrn = lodge(services)
    officer = Visitor(client, "customs-kz")
    for path in ("/customs/arrivals", "/customs/lookup", f"/customs/transits/{mrn}"):
        answer = officer.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/customs?next=/customs/")

    posted = officer.post(f"/customs/transits/{mrn}/present", {"presentation.seals": ""}, page="/customs")
    assert posted.headers["location"] == f"/customs?next=/customs/transits/{mrn}"  # back to the page, not the POST
    assert records(services, mrn) == 1

    chosen = officer.post("/customs", {"office": "KZ-ZHIBEKZHOLY", "next": "/customs/arrivals"}, page="/customs")

    assert chosen.status_code == 303
    assert chosen.headers["location"] == "/customs/arrivals"
    assert officer.http.cookies["silkway_office"] == "KZ-ZHIBEKZHOLY"
    desk = text_of(officer.get("/customs"))
    assert "Zhibek Zholy (KZ-ZHIBEKZHOLY)" in desk
    assert 'href="/customs/arrivals"' in desk
    assert 'href="/customs/lookup"' in desk
    assert officer.get("/customs/arrivals").status_code == 200


@pytest.mark.parametrize(
    ("office", "status", "message", "values"),
    [
        (
            "UZ-GISHTKUPRIK",
            403,
            "%(office)s is an office of %(country)s: a customs officer of %(yours)s cannot work there.",
            {"office": "Gishtkuprik (UZ-GISHTKUPRIK)", "country": "Өзбекстан", "yours": "Қазақстан"},
        ),
        ("KZ-NOWHERE", 422, "There is no customs office with this code.", {}),
        ("", 422, "Choose your office.", {}),
    ],
    ids=["office of another state", "unknown office", "no office"],
)
def test_an_office_that_is_not_the_officers_is_refused_in_kazakh(
    client: TestClient, office: str, status: int, message: str, values: dict[str, str]
) -> None:
    officer = Visitor(client, "customs-kz", lang="kk")
    answer = officer.post("/customs", {"office": office, "next": ""}, page="/customs")
    assert answer.status_code == status
    assert error_on(answer, "office") == said("kk", message, **values)
    if office == "UZ-GISHTKUPRIK":
        expected = (
            "Gishtkuprik (UZ-GISHTKUPRIK) — Өзбекстан бекеті: Қазақстан кеден қызметкері онда жұмыс істей алмайды."
        )
        assert error_on(answer, "office") == expected
    assert "silkway_office" not in officer.http.cookies


def test_a_remembered_office_of_another_state_counts_as_none(client: TestClient) -> None:
    officer = Visitor(client, "customs-kg")
    officer.http.cookies.set("silkway_office", "KZ-ZHIBEKZHOLY")
    assert officer.get("/customs/arrivals").status_code == 303
    desk = text_of(officer.get("/customs"))
    assert "Zhibek Zholy (KZ-ZHIBEKZHOLY), is not an office of your state" in desk


def test_customs_pages_are_for_customs_officers(client: TestClient) -> None:
    assert Visitor(client).get("/customs").headers["location"] == "/signin?next=/customs"
    assert Visitor(client, "carrier-kz").get("/customs/lookup").status_code == 403


# --- expected arrivals and lookup --------------------------------------------------------------------


def test_expected_arrivals_list_released_transits_not_yet_presented_here(
    client: TestClient, services: Services
) -> None:
    waiting = lodge(services)  # not released: expected nowhere yet
    released = lodge(services, plate="555AAA02")
    release(services, released)
    at_border = lodge(services)
    release(services, at_border)
    present(services, at_border, ROUTE[1])

    border = Visitor(client, "customs-kz")
    border.work_at(ROUTE[1])
    expected_at_border = border.get("/customs/arrivals").text
    entry = Visitor(client, "customs-uz", lang="ru")
    entry.work_at(ROUTE[2])
    at_entry = text_of(entry.get("/customs/arrivals"))

    assert released in expected_at_border
    assert at_border not in expected_at_border
    assert waiting not in expected_at_border
    assert released in at_entry
    assert at_border in at_entry
    assert waiting not in at_entry
    assert "555AAA02 (KZ)" in at_entry
    assert "Almaty: customs post 'Zhetysu' (State Revenue Dept. for Almaty city) (KZ-ALA-ZHETYSU)" in at_entry
    desk = text_of(border.get("/customs"))
    assert at_border in desk
    assert "Presented: passage to record" in desk
    departure = Visitor(client, "customs-kz")
    departure.work_at(ROUTE[0])
    assert waiting in departure.get("/customs").text
    assert released not in departure.get("/customs/arrivals").text


def test_lookup_by_mrn_plate_and_photo_of_the_qr_code(client: TestClient, services: Services) -> None:
    mrn = lodge(services, plate="321 XYZ 02")
    release(services, mrn)
    officer = Visitor(client, "customs-uz")
    officer.work_at(ROUTE[2])

    assert officer.get(f"/customs/lookup?mrn={mrn.lower()}").headers["location"] == f"/customs/transits/{mrn}"
    by_plate = text_of(officer.get("/customs/lookup?plate=321xyz-02"))
    assert f'href="/customs/transits/{mrn}"' in by_plate
    assert "In transit" in by_plate

    pdf = Visitor(client, "carrier-kz").get(f"/carrier/transits/{mrn}/document.pdf").content
    photo = qr_png(read_payloads(pdf)[0])
    opened = officer.post(
        "/customs/lookup", {}, page="/customs/lookup", files={"photo": ("qr.png", photo, "image/png")}
    )
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/customs/transits/{mrn}"


def forged_photo(services: Services, client: TestClient, mrn: str) -> bytes:
    pdf = Visitor(client, "carrier-kz").get(f"/carrier/transits/{mrn}/document.pdf").content
    summary = dict(open_seal(read_payloads(pdf)[0]).summary)
    return qr_png(seal(summary, SigningKey.generate()))


BAD_LOOKUPS: list[tuple[str, str, int, str]] = [
    ("mrn=26KZ000", "mrn", 422, customs.BAD_MRN),
    (
        "mrn=" + str(Mrn.issue(year=2026, country="KZ", serial=999)),
        "mrn",
        404,
        customs.NO_SUCH_MRN,
    ),
    ("plate=+", "plate", 422, customs.NEED_PLATE),
    ("plate=000NONE00", "plate", 404, customs.NO_SUCH_PLATE),
]


@pytest.mark.parametrize(("query", "name", "status", "message"), BAD_LOOKUPS, ids=[q for q, *_ in BAD_LOOKUPS])
def test_a_lookup_that_finds_nothing_says_why_in_russian(
    client: TestClient, services: Services, query: str, name: str, status: int, message: str
) -> None:
    lodge(services)
    officer = Visitor(client, "customs-kz", lang="ru")
    officer.work_at(ROUTE[1])
    answer = officer.get(f"/customs/lookup?{query}")
    assert answer.status_code == status
    assert error_on(answer, name) == said("ru", message)


@pytest.mark.parametrize("photo", ["garbage", "no QR code", "empty", "forged seal"])
def test_an_unreadable_or_forged_photo_is_refused(client: TestClient, services: Services, photo: str) -> None:
    mrn = lodge(services)
    release(services, mrn)
    officer = Visitor(client, "customs-uz", lang="kk")
    officer.work_at(ROUTE[2])
    blank = BytesIO()
    Image.new("RGB", (120, 80), "white").save(blank, format="PNG")
    upload = {
        "garbage": b"\x00\x01 not an image",
        "no QR code": blank.getvalue(),
        "empty": b"",
        "forged seal": forged_photo(services, client, mrn),
    }[photo]

    answer = officer.post(
        "/customs/lookup", {}, page="/customs/lookup", files={"photo": ("photo.png", upload, "image/png")}
    )

    expected = {
        "garbage": customs.NO_QR,
        "no QR code": customs.NO_QR,
        "empty": customs.NO_PHOTO,
        "forged seal": customs.NOT_GENUINE,
    }[photo]
    assert answer.status_code in (409, 422)
    assert error_on(answer, "photo") == said("kk", expected)
    assert records(services, mrn) == 2


def test_a_photo_without_this_browsers_csrf_token_is_refused(client: TestClient, services: Services) -> None:
    officer = Visitor(client, "customs-uz")
    officer.work_at(ROUTE[2])
    answer = officer.http.post("/customs/lookup", files={"photo": ("qr.png", b"x", "image/png")})
    assert answer.status_code == 403


# --- the customs officer: deciding and recording -----------------------------------------------------


def decision_words(response: Response) -> list[str]:
    return [html.unescape(w) for w in re.findall(r'<p class="decision-word">([^<]*)</p>', response.text)]


def reasons_shown(response: Response) -> list[str]:
    block = re.search(r'<section class="decision[^"]*"[^>]*>(.*?)</section>', response.text, re.S)
    assert block is not None
    return [html.unescape(r) for r in re.findall(r"<li>([^<]*)</li>", block.group(1))]


def test_release_present_green_passage_arrival_discharge_all_through_the_pages(
    client: TestClient, services: Services
) -> None:
    mrn = lodge(services)
    page = f"/customs/transits/{mrn}"

    departure = Visitor(client, "customs-kz", lang="kk")
    departure.work_at(ROUTE[0])
    offered = departure.get(page).text
    assert 'id="release-form"' in offered
    assert 'id="refuse-form"' in offered
    assert 'id="present-form"' not in offered
    released = departure.post(
        f"{page}/release",
        {
            "release.seals": "KZ1234567, kz1234568",
            "release.control.kind": "physical",
            "release.control.result": "satisfactory",
            "release.control.note": "",
            "release.time_limit": "",
        },
        page=page,
    )
    assert released.status_code == 303
    assert released.headers["location"] == f"{page}?done=release"
    assert said("kk", "Released for transit.") in text_of(departure.get(released.headers["location"]))

    border = Visitor(client, "customs-kz")
    border.work_at(ROUTE[1])
    assert 'id="present-form"' in border.get(page).text
    assert 'id="passage-form"' not in border.get(page).text
    assert border.post(f"{page}/present", {"presentation.seals": "KZ1234568 KZ1234567"}, page=page).status_code == 303
    decided = border.get(page)
    assert decision_words(decided) == ["GREEN — proceed"]
    assert 'id="passage-form"' in decided.text
    assert "Record the exit from Kazakhstan" in decided.text
    assert border.post(f"{page}/passage", {}, page=page).headers["location"] == f"{page}?done=passage"
    assert "The vehicle has already passed this office." in border.get(page).text

    entry = Visitor(client, "customs-uz", lang="ru")
    entry.work_at(ROUTE[2])
    entry.post(f"{page}/present", {"presentation.seals": "KZ1234567,KZ1234568"}, page=page)
    assert decision_words(entry.get(page)) == ["ЗЕЛЁНЫЙ — проезжайте"]
    entry.post(f"{page}/passage", {}, page=page)

    destination = Visitor(client, "customs-uz")
    destination.work_at(ROUTE[3])
    assert "Record arrival and decide" in destination.get(page).text
    destination.post(f"{page}/present", {"presentation.seals": "KZ1234567 KZ1234568"}, page=page)
    arrived = destination.get(page)
    assert decision_words(arrived) == ["GREEN — proceed"]
    assert 'id="discharge-form"' in arrived.text
    assert destination.post(f"{page}/discharge", {}, page=page).status_code == 303
    closed = text_of(destination.get(page))
    assert "Discharged" in closed
    assert "This transit is closed: nothing more can be recorded." in closed
    transit = services.queries.transit(Mrn(mrn))
    assert transit is not None
    assert transit.status.value == "discharged"
    assert records(services, mrn) == 8


def test_an_inspection_is_shown_with_its_reasons_and_answered_by_a_control(
    client: TestClient, services: Services
) -> None:
    mrn = lodge(services)
    release(services, mrn, kind=None)  # released without a control: nothing to recognise yet
    page = f"/customs/transits/{mrn}"
    border = Visitor(client, "customs-kz", lang="ru")
    border.work_at(ROUTE[1])

    border.post(f"{page}/present", {"presentation.seals": "KZ1234567"}, page=page)
    decided = border.get(page)

    assert decision_words(decided) == [said("ru", "INSPECT")] == ["ДОСМОТР"]
    assert reasons_shown(decided) == [said("ru", REASONS["no_prior_control"]), said("ru", REASONS["seal_mismatch"])]
    assert 'id="passage-form"' not in decided.text
    assert 'id="control-form"' in decided.text
    blocked = border.post(f"{page}/passage", {}, page=page)
    assert blocked.status_code == 409
    assert problem_message(blocked) == "Требуемый досмотр ещё не зарегистрирован."
    assert records(services, mrn) == 3

    controlled = border.post(
        f"{page}/control",
        {
            "control.kind": "scan",
            "control.result": "satisfactory",
            "control.note": "Scanned, nothing found",
            "control.seals": "KZ7000001",
        },
        page=page,
    )
    assert controlled.status_code == 303
    answered = border.get(page)
    assert said("ru", "The inspection asked for here has been answered by a satisfactory control.") in text_of(answered)
    assert 'id="passage-form"' in answered.text
    transit = services.queries.transit(Mrn(mrn))
    assert transit is not None
    assert transit.seals == ("KZ7000001",)


def test_a_risk_rule_is_shown_to_the_officer_by_its_description(client: TestClient, services: Services) -> None:
    mrn = lodge(services, hs_code="240220")
    release(services, mrn, kind=ControlKind.DOCUMENTARY)
    present(services, mrn, ROUTE[1])
    passage(services, mrn, ROUTE[1])
    page = f"/customs/transits/{mrn}"
    entry = Visitor(client, "customs-uz")
    entry.work_at(ROUTE[2])

    entry.post(f"{page}/present", {"presentation.seals": " ".join(SEALS)}, page=page)

    assert reasons_shown(entry.get(page)) == [
        "Risk rule tobacco of Uzbekistan: Tobacco and manufactured substitutes (HS chapter 24): physical inspection"
    ]


def test_an_incident_closes_the_green_lane(client: TestClient, services: Services) -> None:
    mrn = lodge(services)
    release(services, mrn)
    page = f"/customs/transits/{mrn}"
    border = Visitor(client, "customs-kz")
    border.work_at(ROUTE[1])

    reported = border.post(
        f"{page}/incident",
        {
            "incident.kind": "seal_broken",
            "incident.description": "Seal KZ1234568 found cut",
            "incident.seals": "KZ1234567 KZ9000001",
        },
        page=page,
    )
    assert reported.headers["location"] == f"{page}?done=incident"
    border.post(f"{page}/present", {"presentation.seals": "KZ1234567 KZ9000001"}, page=page)
    shown = border.get(page)
    assert "Incident reported: Seal broken" in text_of(shown)
    assert reasons_shown(shown) == [REASONS["incident_open"]]


def test_an_unknown_reason_code_is_still_told(services: Services) -> None:
    visit = Page(request=None, services=services, actor=None, lang="en", csrf="")  # type: ignore[arg-type]
    story = TransitStory(visit)
    assert story.reason("new_kind_of_reason", ROUTE[1]) == (
        "Another reason, not described on this page (new_kind_of_reason)."
    )
    assert story.reason("risk_rule:gone", "UZ-GISHTKUPRIK") == "A risk rule of Uzbekistan asks for a control (gone)."


RELEASE = {"release.seals": "KZ1234567", "release.control.kind": "", "release.control.result": "satisfactory"}
BAD_ACTIONS: list[tuple[str, str, str, dict[str, str], int, str | None, str]] = [
    # (id, state, action, form, status, field or None for the message at the top, message)
    (
        "seal listed twice",
        "submitted",
        "release",
        {**RELEASE, "release.seals": "KZ1 kz1"},
        422,
        "release.seals",
        customs.BAD_SEALS,
    ),
    (
        "seal with a space inside",
        "submitted",
        "release",
        {**RELEASE, "release.seals": "KZ1,#2"},
        422,
        "release.seals",
        customs.BAD_SEALS,
    ),
    (
        "unknown control kind",
        "submitted",
        "release",
        {**RELEASE, "release.control.kind": "sniffing"},
        422,
        "release.control.kind",
        customs.CHOOSE_KIND,
    ),
    (
        "control without result",
        "submitted",
        "release",
        {**RELEASE, "release.control.kind": "scan", "release.control.result": ""},
        422,
        "release.control.result",
        customs.CHOOSE_RESULT,
    ),
    (
        "note too long",
        "submitted",
        "release",
        {**RELEASE, "release.control.kind": "scan", "release.control.note": "n" * 501},
        422,
        "release.control.note",
        customs.NOTE_TOO_LONG,
    ),
    (
        "time limit in the past",
        "submitted",
        "release",
        {**RELEASE, "release.time_limit": "2026-11-01"},
        422,
        "release.time_limit",
        customs.BAD_TIME_LIMIT,
    ),
    (
        "time limit not a date",
        "submitted",
        "release",
        {**RELEASE, "release.time_limit": "soon"},
        422,
        "release.time_limit",
        customs.BAD_TIME_LIMIT,
    ),
    ("released twice", "released", "release", RELEASE, 409, None, MESSAGES["action_not_allowed"]),
    (
        "refusal without reason",
        "submitted",
        "refuse",
        {"refusal.reason": ""},
        422,
        "refusal.reason",
        customs.NEED_REASON,
    ),
    (
        "refused after release",
        "released",
        "refuse",
        {"refusal.reason": "late"},
        409,
        None,
        MESSAGES["action_not_allowed"],
    ),
    (
        "malformed seal seen",
        "released",
        "present",
        {"presentation.seals": "KZ1 ?!"},
        422,
        "presentation.seals",
        customs.BAD_SEALS,
    ),
    (
        "presented before release",
        "submitted",
        "present",
        {"presentation.seals": ""},
        409,
        None,
        MESSAGES["action_not_allowed"],
    ),
    (
        "control without kind",
        "presented",
        "control",
        {"control.kind": "", "control.result": "satisfactory"},
        422,
        "control.kind",
        customs.CHOOSE_KIND,
    ),
    (
        "control without result",
        "presented",
        "control",
        {"control.kind": "scan", "control.result": "maybe"},
        422,
        "control.result",
        customs.CHOOSE_RESULT,
    ),
    ("passage before presentation", "released", "passage", {}, 409, None, MESSAGES["action_not_allowed"]),
    (
        "incident without kind",
        "released",
        "incident",
        {"incident.kind": "", "incident.description": "x"},
        422,
        "incident.kind",
        customs.CHOOSE_INCIDENT,
    ),
    (
        "incident without description",
        "released",
        "incident",
        {"incident.kind": "accident", "incident.description": " "},
        422,
        "incident.description",
        customs.NEED_DESCRIPTION,
    ),
    ("discharge in transit", "released", "discharge", {}, 409, None, MESSAGES["action_not_allowed"]),
]


@pytest.mark.parametrize(
    ("state", "action", "form", "status", "name", "message"),
    [c[1:] for c in BAD_ACTIONS],
    ids=[c[0] for c in BAD_ACTIONS],
)
def test_every_bad_action_is_refused_in_russian_and_records_nothing(
    client: TestClient,
    services: Services,
    state: str,
    action: str,
    form: dict[str, str],
    status: int,
    name: str | None,
    message: str,
) -> None:
    mrn = lodge(services)
    office = ROUTE[0] if state == "submitted" or action in ("release", "refuse") else ROUTE[1]
    if state != "submitted":
        release(services, mrn)
    if state == "presented":
        present(services, mrn, ROUTE[1])
    before = records(services, mrn)
    officer = Visitor(client, "customs-kz", lang="ru")
    officer.work_at(office)
    page = f"/customs/transits/{mrn}"

    answer = officer.post(f"{page}/{action}", form, page=page)

    assert answer.status_code == status
    if name is None:
        assert problem_message(answer) == said("ru", message)
    else:
        assert error_on(answer, name) == said("ru", message)
        for typed_name, typed in form.items():
            if typed and "seals" in typed_name:
                assert f'value="{html.escape(typed)}"' in answer.text  # the officer's words come back
    assert records(services, mrn) == before


def test_an_action_at_another_office_is_refused(client: TestClient, services: Services) -> None:
    mrn = lodge(services)
    page = f"/customs/transits/{mrn}"
    officer = Visitor(client, "customs-kz", lang="kk")
    officer.work_at(ROUTE[1])  # a border office, not the office of departure
    assert 'id="release-form"' not in officer.get(page).text

    answer = officer.post(f"{page}/release", RELEASE, page=page)

    assert answer.status_code == 403
    assert problem_message(answer) == "Бұл әрекет басқа бекетке немесе басқа мемлекетке тиесілі."
    assert records(services, mrn) == 1


def test_customs_of_another_state_neither_see_nor_act(client: TestClient, services: Services) -> None:
    mrn = lodge(services)
    officer = Visitor(client, "customs-kg", lang="ru")
    officer.work_at("KG-BISHKEK-CENTRAL")
    page = f"/customs/transits/{mrn}"

    seen = officer.get(page)
    assert seen.status_code == 404
    assert "Транзит с таким номером вам недоступен." in seen.text
    acted = officer.post(f"{page}/release", RELEASE, page="/customs")
    assert acted.status_code == 404
    assert records(services, mrn) == 1
    assert f"/customs/transits/{mrn}" not in officer.get("/customs/lookup?plate=777ZZZ02").text


@pytest.mark.parametrize("sent", [None, "forged-token"], ids=["missing", "forged"])
def test_a_customs_action_without_this_browsers_csrf_token_is_refused(
    client: TestClient, services: Services, sent: str | None
) -> None:
    mrn = lodge(services)
    officer = Visitor(client, "customs-kz")
    officer.work_at(ROUTE[0])
    data = dict(RELEASE)
    if sent is not None:
        data["csrf"] = sent
    answer = officer.http.post(f"/customs/transits/{mrn}/release", data=data, follow_redirects=False)
    assert answer.status_code == 403
    assert "The form has expired" in answer.text
    assert records(services, mrn) == 1


def test_a_refusal_and_a_time_limit_are_recorded_as_typed(client: TestClient, services: Services) -> None:
    refused, released = lodge(services), lodge(services)
    officer = Visitor(client, "customs-kz")
    officer.work_at(ROUTE[0])

    officer.post(f"/customs/transits/{refused}/refuse", {"refusal.reason": "Goods do not match"}, page="/customs")
    limit = (services.clock.now() + timedelta(days=9)).date().isoformat()
    officer.post(f"/customs/transits/{released}/release", {**RELEASE, "release.time_limit": limit}, page="/customs")

    refused_page = text_of(officer.get(f"/customs/transits/{refused}"))
    assert "Release refused" in refused_page
    assert "Goods do not match" in refused_page
    transit = services.queries.transit(Mrn(released))
    assert transit is not None
    assert transit.time_limit is not None
    assert transit.time_limit.date().isoformat() == limit

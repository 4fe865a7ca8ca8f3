"""The analyst's dashboard and the administrator's pages in a real browser.

The live server holds only the demo accounts, so this module first drives two transits through the
handlers on the server's own services: one crawling through Temir Baba (two hours at each side of the
Kazakh–Turkmen border) and one slipping through Saryagash (a quarter of an hour), then moves the server's
clock past them. Non-English pages are checked by roles, ids and `html[lang]`, never by translated words.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from browsing import LiveServer, shot, sign_in
from playwright.sync_api import Page, expect

from silkway.shared.actors import Actor, Role
from silkway.shared.clock import FixedClock
from silkway.shared.money import Money
from silkway.shared.mrn import Mrn
from silkway.transit import handlers
from silkway.transit.commands import (
    ControlReport,
    DischargeTransit,
    PresentVehicle,
    RecordArrival,
    RecordControl,
    RecordPassage,
    ReleaseForTransit,
    SubmitDeclaration,
)
from silkway.transit.model import (
    ControlKind,
    ControlOutcome,
    Decision,
    Declaration,
    GoodsItem,
    GuaranteeCommitment,
    Itinerary,
    Vehicle,
)

CARRIER = Actor(username="carrier-kz", role=Role.CARRIER, country="KZ")
THROUGH_TEMIR_BABA = ("KZ-ALA-ZHETYSU", "KZ-TEMIRBABA", "TM-GARABOGAZ", "TM-ASHGABAT-ICT")
THROUGH_SARYAGASH = ("KZ-ALA-ZHETYSU", "KZ-SARYAGASH-RAIL", "UZ-KELES-RAIL", "UZ-TAS-CUSTOMS")


def _customs(office: str) -> Actor:
    return Actor(username=f"customs-{office[:2].lower()}", role=Role.CUSTOMS, country=office[:2])


def drive(live: LiveServer, clock: FixedClock, offices: tuple[str, ...], minutes_at_post: int) -> Mrn:
    """One transit of table grapes from lodging to discharge, `minutes_at_post` at each border post."""
    services = live.services
    ports = {"uow": services.uow, "places": services.places}

    def run(handler, command):  # type: ignore[no-untyped-def]
        return handler(command, uow=ports["uow"](), clock=clock, places=ports["places"])

    seals = ("KZ8800001",)
    goods = GoodsItem(
        hs_code="080610",
        description="Fresh table grapes in crates",
        packages=200,
        gross_mass_kg=Decimal("1600"),
        value=Money.of("2400", "USD"),
    )
    mrn: Mrn = run(
        handlers.submit_declaration,
        SubmitDeclaration(
            actor=CARRIER,
            declaration=Declaration(
                holder=CARRIER.username,
                vehicle=Vehicle(plate="515 GRP 02", country="KZ"),
                containers=(),
                itinerary=Itinerary(offices=offices),
                goods=(goods,),
                guarantee=GuaranteeCommitment(reference="GRN-KZ-0001", amount=Money.of("800", "USD")),
            ),
        ),
    )
    clock.advance(minutes=20)
    control = ControlReport(kind=ControlKind.DOCUMENTARY, outcome=ControlOutcome.SATISFACTORY)
    run(
        handlers.release_for_transit,
        ReleaseForTransit(actor=_customs(offices[0]), mrn=mrn, office=offices[0], seals=seals, control=control),
    )
    for post in offices[1:-1]:
        clock.advance(minutes=10)
        decision = run(
            handlers.present_vehicle, PresentVehicle(actor=_customs(post), mrn=mrn, office=post, seals=seals)
        )
        if decision.decision is Decision.INSPECT:  # a risk rule some other test left in force
            physical = ControlReport(kind=ControlKind.PHYSICAL, outcome=ControlOutcome.SATISFACTORY)
            run(handlers.record_control, RecordControl(actor=_customs(post), mrn=mrn, office=post, control=physical))
        clock.advance(minutes=minutes_at_post)
        run(handlers.record_passage, RecordPassage(actor=_customs(post), mrn=mrn, office=post))
    destination = offices[-1]
    clock.advance(minutes=30)
    run(handlers.record_arrival, RecordArrival(actor=_customs(destination), mrn=mrn, office=destination, seals=seals))
    clock.advance(minutes=10)
    run(handlers.discharge_transit, DischargeTransit(actor=_customs(destination), mrn=mrn, office=destination))
    return mrn


@pytest.fixture(scope="module")
def traffic(live_server: LiveServer) -> list[Mrn]:
    """Two transits on the live server, both over by the time the server's clock is moved on."""
    clock = FixedClock(live_server.clock.now())
    mrns = [drive(live_server, clock, THROUGH_TEMIR_BABA, 120), drive(live_server, clock, THROUGH_SARYAGASH, 15)]
    ahead = clock.now() - live_server.clock.now() + timedelta(minutes=5)
    live_server.clock.advance(seconds=ahead.total_seconds())
    return mrns


SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def check_dashboard(page: Page, lang: str) -> None:
    """The charts, the map with its points coloured by pace, and its legend are there."""
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("svg.map")).to_be_visible()
    expect(page.locator("svg.map > title")).to_have_count(1)
    congested = page.locator('svg.map g.post[data-code="KZTM-TEMIRBABA"]')
    smooth = page.locator('svg.map g.post[data-code="KZUZ-SARYAGASH-RAIL"]')
    expect(congested).to_have_class(re.compile(r"\bpace-congested\b"))
    expect(smooth).to_have_class(re.compile(r"\bpace-smooth\b"))
    assert congested.locator("polygon").get_attribute("fill") == "#b3261e"
    assert smooth.locator("circle").get_attribute("fill") == "#0a7a3a"
    expect(page.locator(".legend li")).to_have_count(4)
    assert page.locator("svg.chart").count() >= 3
    expect(page.locator("svg.chart").first).to_have_attribute("role", "img")
    expect(page.locator("table caption#map-caption")).to_be_attached()


def test_the_analyst_reads_its_dashboard_in_kazakh_and_english(
    new_page,  # type: ignore[no-untyped-def]
    traffic: list[Mrn],
) -> None:
    kk = new_page("kk")
    sign_in(kk, "analyst-kz", lang="kk")
    expect(kk).to_have_url(re.compile(r"/analyst$"))
    check_dashboard(kk, "kk")
    expect(kk.locator("#tab-state")).to_have_attribute("aria-current", "page")
    shot(kk, "dashboard-analyst-kz-state-kk")

    # the keyboard reaches the tabs and follows them
    for _ in range(40):
        kk.keyboard.press("Tab")
        if kk.evaluate("() => document.activeElement && document.activeElement.id") == "tab-region":
            break
    expect(kk.locator("#tab-region")).to_be_focused()
    kk.keyboard.press("Enter")
    expect(kk).to_have_url(re.compile(r"view=region"))
    expect(kk.locator("#tab-region")).to_have_attribute("aria-current", "page")
    check_dashboard(kk, "kk")
    shot(kk, "dashboard-analyst-kz-region-kk")

    en = new_page("en")
    sign_in(en, "analyst-kz", lang="en")
    check_dashboard(en, "en")
    expect(en.get_by_role("heading", name="Crossing points now")).to_be_visible()
    expect(en.locator(".legend")).to_contain_text("Congested: median over 90 minutes")
    temir_baba = en.locator("#crossing-map tbody tr", has_text="Temir Baba")
    expect(temir_baba).to_contain_text("congested")
    expect(temir_baba).to_contain_text("120 min")
    expect(en.locator("#crossing-map tbody tr", has_text="Saryagash")).to_contain_text("smooth")
    en.locator("#f-days").select_option("7")
    en.get_by_role("button", name="Show").click()
    expect(en).to_have_url(re.compile(r"days=7"))
    expect(en.locator("#f-days")).to_have_value("7")
    shot(en, "dashboard-analyst-kz-state-en")


def test_the_dashboard_fits_a_phone(new_page, traffic: list[Mrn]) -> None:  # type: ignore[no-untyped-def]
    page = new_page("ru", phone=True)
    sign_in(page, "analyst-kz", lang="ru")

    check_dashboard(page, "ru")
    assert page.evaluate(SIDEWAYS_SCROLL) <= 1
    shot(page, "dashboard-analyst-kz-phone-ru")


def test_the_administrator_creates_an_account_and_a_risk_rule_in_russian(phone: Page, live_server: LiveServer) -> None:
    suffix = uuid.uuid4().hex[:8]
    username = f"customs-kz-{suffix}"
    sign_in(phone, "admin-kz", lang="ru")
    expect(phone).to_have_url(re.compile(r"/admin/accounts"))
    expect(phone.locator("html")).to_have_attribute("lang", "ru")

    # a bad form first: a name already taken and passwords that differ
    phone.locator("#f-username").fill("customs-kz")
    phone.locator("#f-display_name").fill("Ержан Сапаров, пост Темир Баба")
    phone.locator("#f-role").select_option("customs")
    phone.locator("#f-password").fill("temir-baba-1")
    phone.locator("#f-password_again").fill("temir-baba-2")
    phone.locator("form[action='/admin/accounts'] button[type=submit]").click()
    expect(phone.get_by_role("alert")).to_be_visible()
    expect(phone.locator("#f-password_again")).to_have_attribute("aria-invalid", "true")
    expect(phone.locator("#f-display_name")).to_have_value("Ержан Сапаров, пост Темир Баба")
    shot(phone, "admin-account-refused-ru")

    phone.locator("#f-username").fill(username)
    phone.locator("#f-password").fill("temir-baba-1")
    phone.locator("#f-password_again").fill("temir-baba-1")
    phone.locator("form[action='/admin/accounts'] button[type=submit]").click()
    expect(phone).to_have_url(re.compile(rf"created={username}"))
    expect(phone.locator(".notice")).to_be_visible()
    expect(phone.locator("#accounts tbody tr", has_text=username)).to_contain_text("Ержан Сапаров")
    assert any(a.username == username for a in live_server.services.queries.accounts("KZ"))
    shot(phone, "admin-account-created-ru")

    rule = f"horses-{suffix}"
    phone.goto("/admin/risk-rules")
    phone.locator("#f-id").fill(rule)
    phone.locator("#f-description").fill("Живые лошади (HS 0101): сканирование")
    phone.locator("#f-hs_prefix").fill("0101")
    phone.locator("#f-required_control").select_option("scan")
    phone.locator("#rule-form button[type=submit]").click()
    expect(phone).to_have_url(re.compile(rf"saved={rule}"))
    row = phone.locator(f"#rule-{rule}")
    expect(row).to_contain_text("0101")
    assert any(r.id == rule for r in live_server.services.queries.risk_rules("KZ"))
    shot(phone, "admin-risk-rule-saved-ru")

    row.locator("button[name=delete]").click()
    expect(phone).to_have_url(re.compile(rf"deleted={rule}"))
    expect(phone.locator(f"#rule-{rule}")).to_have_count(0)
    assert all(r.id != rule for r in live_server.services.queries.risk_rules("KZ"))
    shot(phone, "admin-risk-rule-deleted-ru")


def test_the_administrator_sees_its_offices_as_reference_data(new_page) -> None:  # type: ignore[no-untyped-def]
    page = new_page("en")
    sign_in(page, "admin-kz", lang="en")

    page.get_by_role("link", name="Offices").click()

    expect(page.locator("h1")).to_have_text("Offices of Kazakhstan")
    expect(page.locator("#offices tbody tr", has_text="KZ-TEMIRBABA")).to_contain_text("TM-GARABOGAZ")
    expect(page.locator("main form")).to_have_count(0)
    shot(page, "admin-offices-en")

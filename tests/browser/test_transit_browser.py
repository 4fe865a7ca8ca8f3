"""The inspect-once path in a real browser: a carrier declares KZ → UZ in Russian, customs of Kazakhstan release
it and pass it at the border in Kazakh, customs of Uzbekistan see GREEN on a phone in English, and the carrier
downloads the accompanying document.

Non-English pages are driven by ids and names, so a reworded translation does not break the walk; the language is
checked on ``html[lang]``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from browsing import LiveServer, shot, sign_in
from playwright.sync_api import Page, expect

from silkway.shared.actors import Actor, Role
from silkway.shared.money import Money
from silkway.transit import handlers
from silkway.transit.commands import ReleaseForTransit, SubmitDeclaration
from silkway.transit.model import Declaration, GoodsItem, GuaranteeCommitment, Itinerary, Vehicle

ROUTE = ("KZ-ALA-ZHETYSU", "KZ-ZHIBEKZHOLY", "UZ-GISHTKUPRIK", "UZ-TAS-CUSTOMS")
MRN_URL = re.compile(r"/carrier/transits/([0-9A-Z]{18})\?lodged=1$")


def work_at(page: Page, office: str) -> None:
    """Choose the office on the officer's desk page and wait for the desk to name it."""
    page.goto("/customs")
    page.locator("#f-office").select_option(office)
    page.locator("form[action='/customs'] button[type=submit]").click()
    expect(page.locator("#current-office")).to_have_attribute("data-office", office)


def open_transit(page: Page, mrn: str) -> None:
    page.goto("/customs/lookup")
    page.locator("#f-mrn").fill(mrn)
    page.locator("form[action='/customs/lookup'][method=get]").first.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(f"/customs/transits/{mrn}$"))


def declare(carrier: Page, plate: str) -> str:
    """Fill the new-declaration form as a carrier would, with the help of its scripts; returns the new MRN."""
    carrier.goto("/carrier/transits/new")
    expect(carrier.locator("html")).to_have_attribute("lang", "ru")
    # the script removed the spare blank rows a browser without JavaScript would need
    expect(carrier.locator(".goods-row")).to_have_count(1)
    expect(carrier.locator(".crossing-row")).to_have_count(1)

    carrier.locator("#f-vehicle-plate").fill(plate)
    carrier.locator("#f-departure").select_option(ROUTE[0])
    carrier.locator("#f-crossing-0-exit").select_option(ROUTE[1])
    # a single crossing point leaves Zhibek Zholy: its other side is offered, and the pair is confirmed
    expect(carrier.locator("#f-crossing-0-entry")).to_have_value(ROUTE[2])
    expect(carrier.locator("#crossing-0-check")).to_have_class(re.compile(r"\bok\b"))
    carrier.locator("#f-destination").select_option(ROUTE[3])

    hs = carrier.locator("#f-goods-0-hs_code")
    hs.press_sequentially("portable processing", delay=20)
    suggestion = carrier.locator("#f-goods-0-hs_code-list [role=option][data-code='847130']")
    expect(suggestion).to_be_visible()
    expect(hs).to_have_attribute("aria-expanded", "true")
    expect(carrier.locator("#f-goods-0-hs_code-status")).not_to_be_empty()
    hs.press("ArrowDown")
    while carrier.locator("#f-goods-0-hs_code-list [aria-selected=true]").get_attribute("data-code") != "847130":
        hs.press("ArrowDown")
    hs.press("Enter")
    expect(hs).to_have_value("847130")
    expect(carrier.locator("#f-goods-0-description")).to_have_value(re.compile("portable"))
    carrier.locator("#f-goods-0-description").fill("Ноутбуки")
    carrier.locator("#f-goods-0-packages").fill("120")
    carrier.locator("#f-goods-0-gross_mass_kg").fill("2 400,5")
    carrier.locator("#f-goods-0-value-amount").fill("180 000")

    carrier.locator("#add-goods").click()
    expect(carrier.locator(".goods-row")).to_have_count(2)
    second = carrier.locator(".goods-row").nth(1)
    expect(second.locator(".hs-code")).to_be_focused()
    second.locator(".hs-code").fill("090230")
    shot(carrier, "transit-01-carrier-two-goods-items-ru")
    second.locator(".remove-row").click()
    expect(carrier.locator(".goods-row")).to_have_count(1)

    carrier.locator("#f-guarantee-reference").select_option("GRN-KZ-0001")
    expect(carrier.locator("#f-guarantee-currency")).to_have_value("USD")
    carrier.locator("#f-guarantee-amount").fill("1000")
    shot(carrier, "transit-02-carrier-declaration-filled-ru")
    carrier.locator("#lodge").click()
    expect(carrier).to_have_url(MRN_URL)
    found = MRN_URL.search(carrier.url)
    assert found is not None
    expect(carrier.locator("#transit-status")).to_have_attribute("data-status", "submitted")
    expect(carrier.locator(".goods td").nth(1)).to_have_text("Ноутбуки")
    shot(carrier, "transit-03-carrier-declaration-lodged-ru")
    return found.group(1)


def test_declared_in_russian_released_in_kazakh_green_at_every_border_on_a_phone(
    live_server: LiveServer, new_page: Callable[..., Page], tmp_path: Path
) -> None:
    plate = f"{secrets.randbelow(900) + 100}BRW02"

    carrier = new_page("ru")
    sign_in(carrier, "carrier-kz", lang="ru")
    mrn = declare(carrier, plate)
    carrier.goto("/carrier/transits")
    expect(carrier.locator(f"a[href='/carrier/transits/{mrn}']")).to_be_visible()

    # the office of departure releases it, with seals and a physical check, in Kazakh
    almaty = new_page("kk")
    sign_in(almaty, "customs-kz", lang="kk")
    work_at(almaty, ROUTE[0])
    expect(almaty.locator("html")).to_have_attribute("lang", "kk")
    open_transit(almaty, mrn)
    almaty.locator("#f-release-seals").fill("KZ5550001 KZ5550002")
    almaty.locator("#f-release-control-kind").select_option("physical")
    almaty.locator("#f-release-control-result").select_option("satisfactory")
    shot(almaty, "transit-04-customs-kz-release-kk")
    almaty.locator("button[name=action][value=release]").click()
    expect(almaty.locator("#transit-status")).to_have_attribute("data-status", "in_transit")
    expect(almaty.locator(".notice")).to_be_visible()
    shot(almaty, "transit-05-customs-kz-released-kk")

    # the Kazakh exit office finds it among the expected arrivals, sees GREEN and records the exit
    work_at(almaty, ROUTE[1])
    almaty.goto("/customs/arrivals")
    almaty.locator(f"a[href='/customs/transits/{mrn}']").click()
    almaty.locator("#f-presentation-seals").fill("KZ5550002, KZ5550001")
    almaty.locator("button[name=action][value=present]").click()
    expect(almaty.locator(".decision.decision-green .decision-word")).to_have_text("ЖАСЫЛ — өтіңіз")
    expect(almaty.locator(".decision .reasons")).to_have_count(0)
    shot(almaty, "transit-06-customs-kz-border-green-kk")
    almaty.locator("button[name=action][value=passage]").click()
    expect(almaty.locator(".notice")).to_be_visible()
    expect(almaty.locator("button[name=action][value=passage]")).to_have_count(0)
    shot(almaty, "transit-07-customs-kz-exit-recorded-kk")

    # the Uzbek entry office, on a phone, in English: GREEN — proceed, big and plain
    gishtkuprik = new_page("en", phone=True)
    sign_in(gishtkuprik, "customs-uz", lang="en")
    work_at(gishtkuprik, ROUTE[2])
    gishtkuprik.goto("/customs/arrivals")
    expect(gishtkuprik.get_by_role("link", name=mrn)).to_be_visible()
    gishtkuprik.get_by_role("link", name=mrn).click()
    gishtkuprik.get_by_label("Seals seen on the vehicle").fill("KZ5550001 KZ5550002")
    gishtkuprik.get_by_role("button", name="Present and decide").click()
    word = gishtkuprik.locator(".decision-word")
    expect(word).to_have_text("GREEN — proceed")
    expect(gishtkuprik.get_by_role("status").filter(has_text="GREEN — proceed")).to_be_visible()
    box = word.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    overflowing = gishtkuprik.evaluate(
        "() => Array.from(document.querySelectorAll('main *')).filter(e => e.getBoundingClientRect().right > 390"
        " && !e.closest('.table-wrap')).map(e => e.tagName + '.' + e.className)"
    )
    assert overflowing == []
    assert gishtkuprik.evaluate("document.documentElement.scrollWidth") <= 390  # nothing to scroll sideways
    shot(gishtkuprik, "transit-08-customs-uz-green-phone-en")
    gishtkuprik.get_by_role("button", name="Record the entry into Uzbekistan").click()
    expect(gishtkuprik.get_by_text("The passage is recorded.")).to_be_visible()
    expect(gishtkuprik.locator("#history-heading")).to_be_visible()
    shot(gishtkuprik, "transit-09-customs-uz-entry-recorded-phone-en")

    # the carrier reads the history and downloads the accompanying document
    carrier.goto(f"/carrier/transits/{mrn}")
    expect(carrier.locator(".timeline > li")).to_have_count(6)
    expect(carrier.locator(".event-presented .event-decision.decision-green")).to_have_count(2)
    shot(carrier, "transit-10-carrier-history-ru")
    with carrier.expect_download() as download:
        carrier.locator("#document-link").click()
    saved = tmp_path / "document.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    assert download.value.suggested_filename == f"{mrn}.pdf"


def test_an_inspection_is_decided_and_answered_by_a_control_in_english(
    live_server: LiveServer, new_page: Callable[..., Page]
) -> None:
    services = live_server.services
    declaration = Declaration(
        holder="carrier-kz",
        vehicle=Vehicle(plate=f"{secrets.randbelow(900) + 100}INS02", country="KZ"),
        containers=(),
        itinerary=Itinerary(offices=ROUTE),
        goods=(
            GoodsItem(
                hs_code="847130",
                description="Laptops",
                packages=12,
                gross_mass_kg=Decimal("240"),
                value=Money.of("18000.00", "USD"),
            ),
        ),
        guarantee=GuaranteeCommitment(reference="GRN-KZ-0001", amount=Money.of("1000.00", "USD")),
    )
    carrier = Actor(username="carrier-kz", role=Role.CARRIER, country="KZ")
    mrn = handlers.submit_declaration(
        SubmitDeclaration(actor=carrier, declaration=declaration),
        uow=services.uow(),
        clock=services.clock,
        places=services.places,
    )
    officer = Actor(username="customs-kz", role=Role.CUSTOMS, country="KZ")
    release = ReleaseForTransit(actor=officer, mrn=mrn, office=ROUTE[0], seals=("KZ7770001",), control=None)
    handlers.release_for_transit(release, uow=services.uow(), clock=services.clock, places=services.places)

    border = new_page("en")
    sign_in(border, "customs-kz", lang="en")
    work_at(border, ROUTE[1])
    open_transit(border, mrn)
    border.get_by_label("Seals seen on the vehicle").fill("KZ7770001")
    border.get_by_role("button", name="Present and decide").click()
    expect(border.locator(".decision-word")).to_have_text("INSPECT")
    expect(border.locator(".decision .reasons li")).to_have_text(["No control has been recorded on this transit yet."])
    expect(border.get_by_role("button", name="Record the exit from Kazakhstan")).to_have_count(0)
    shot(border, "transit-11-customs-kz-inspect-en")

    border.locator("#f-control-kind").select_option("physical")
    border.locator("#f-control-result").select_option("satisfactory")
    border.locator("#f-control-note").fill("Opened and checked: 12 boxes of laptops")
    border.get_by_role("button", name="Record the control").click()
    expect(
        border.get_by_text("The inspection asked for here has been answered by a satisfactory control.")
    ).to_be_visible()
    border.get_by_role("button", name="Record the exit from Kazakhstan").click()
    expect(border.get_by_text("The passage is recorded.")).to_be_visible()
    shot(border, "transit-12-customs-kz-controlled-and-passed-en")

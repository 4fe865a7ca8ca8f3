"""The Commonwealth Visa end to end in a real browser: a traveller applies in Russian on a phone, a Kazakh consul
issues the visa in Kazakh, the traveller downloads the e-visa, and an English-speaking border guard checks it by
number, by a photo of its seal and with a wrong passport.

The live server is shared with other tests: the traveller's passport number is unique to this run, and the
clock is only ever moved forward, with the travel dates taken from it.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from pathlib import Path

from browsing import LiveServer, shot, sign_in
from playwright.sync_api import Page, expect

from silkway.documents import qr_png
from silkway.i18n import format_date


def test_apply_issue_download_and_cross_the_border(
    phone: Page, new_page: object, live_server: LiveServer, tmp_path: Path
) -> None:
    passport = "B" + "".join(secrets.choice("0123456789") for _ in range(7))
    today = live_server.clock.now().date()
    arrive, leave = today + timedelta(days=10), today + timedelta(days=40)

    # --- the traveller applies in Russian on a phone, watching the live MRZ preview --------------------------
    phone.goto("/visa/apply")
    expect(phone.locator("html")).to_have_attribute("lang", "ru")
    phone.locator("#f-surname").press_sequentially("Шарма", delay=20)
    expect(phone.locator("#mrz-zone")).to_have_text(re.compile(r"^SHARMA<{33}$"))
    phone.locator("#f-given_names").press_sequentially("王", delay=20)
    expect(phone.locator("#mrz-warning")).to_be_visible()
    expect(phone.locator("#mrz-warning")).to_contain_text("王")
    expect(phone.locator("#mrz-zone")).to_have_text("")
    shot(phone, "visa-apply-ru-no-mrz-form")
    phone.locator("#f-given_names").fill("")
    phone.locator("#f-given_names").press_sequentially("Прия", delay=20)
    expect(phone.locator("#mrz-zone")).to_have_text(re.compile(r"^SHARMA<<PRIIA<+$"))
    expect(phone.locator("#mrz-warning")).to_be_hidden()
    phone.locator("#f-nationality").select_option("IND")
    phone.locator("#f-date_of_birth").fill("1990-04-12")
    phone.locator("#f-sex").select_option("F")
    phone.locator("#f-passport_number").fill(passport)
    phone.locator("#f-passport_expiry").fill("2031-03-31")
    phone.locator("#f-from").fill(arrive.isoformat())
    phone.locator("#f-to").fill(leave.isoformat())
    phone.locator("#f-entries").select_option("multiple")
    phone.locator("#f-states-0").select_option("KZ")
    phone.locator("#f-states-1").select_option("KG")
    expect(phone.locator("#f-states-5")).to_be_hidden()  # the rows not needed wait behind "add another state"
    phone.locator("#add-state").click()
    expect(phone.locator("#f-states-2")).to_be_focused()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the form is {width}px wide on a 390px phone"
    shot(phone, "visa-apply-ru-phone")
    phone.locator("form.apply button[type=submit]").click()

    link = phone.locator("#status-link")
    expect(link).to_be_visible()
    status_url = link.get_attribute("href") or ""
    found = re.fullmatch(r"/visa/status/([0-9a-f]+)\?token=([\w-]+)", status_url)
    assert found is not None, status_url
    application_id = found.group(1)
    expect(link).to_have_text(live_server.url + status_url)
    shot(phone, "visa-lodged-secret-link-ru")

    # --- the consul of Kazakhstan, in Kazakh, finds it in the queue and issues a multiple-entry visa --------------
    consul: Page = new_page("kk")  # type: ignore[operator]
    sign_in(consul, "consul-kz", lang="kk")
    consul.goto("/consul/applications")
    expect(consul.locator("html")).to_have_attribute("lang", "kk")
    row = consul.locator(f"tr[data-application='{application_id}']")
    expect(row).to_be_visible()
    shot(consul, "visa-consul-queue-kk")
    row.get_by_role("link").click()
    expect(consul.locator("#decision-form")).to_be_visible()
    consul.locator("#f-decision-issue").check()
    consul.locator("#f-valid_from").fill(arrive.isoformat())
    consul.locator("#f-valid_until").fill((leave + timedelta(days=5)).isoformat())
    consul.locator("#f-duration_of_stay_days").fill("30")
    consul.locator("#f-entries").select_option("multiple")
    shot(consul, "visa-consul-decision-kk")
    consul.locator("#decision-form button[type=submit]").click()
    expect(consul).to_have_url(re.compile(r"\?done=decided$"))
    visa_link = consul.locator("a[href^='/consul/visas/']").first
    number = (visa_link.get_attribute("href") or "").rsplit("/", 1)[-1]
    assert re.fullmatch(r"KZ\d{7}", number), number
    expect(consul.locator("pre.mrz")).to_contain_text("V<KAZSHARMA<<PRIIA")
    shot(consul, "visa-consul-issued-kk")

    # --- the traveller opens the secret link: issued, and the e-visa downloads as a PDF ----------------------------
    phone.goto(status_url)
    expect(phone.locator(".decision-allowed")).to_be_visible()
    expect(phone.locator("#standing")).to_contain_text(number)
    expect(phone.locator("figure.seal img")).to_be_visible()
    with phone.expect_download() as download:
        phone.locator("a[data-evisa='ru']").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert download.value.suggested_filename == f"{number}.pdf"
    shot(phone, "visa-status-issued-ru")

    # --- the journey starts: a guard of Kazakhstan, in English, checks the visa at Korday ---------------------------
    live_server.clock.advance(days=10)
    guard: Page = new_page("en", phone=True)  # type: ignore[operator]
    sign_in(guard, "border-kz", lang="en")
    guard.goto("/border")
    guard.locator("#f-office").select_option("KZ-KORDAY")
    guard.locator("#f-passport_number").fill(passport)
    guard.locator("#f-visa_number").fill(number)
    shot(guard, "visa-border-form-en")
    guard.get_by_role("button", name="Check", exact=True).click()
    expect(guard.locator(".decision-allowed .decision-word")).to_have_text("Entry allowed")
    expect(guard.locator("#days-remaining")).to_have_text("30")  # Kazakhstan allows 30 days in a row
    expect(guard.locator("#latest-exit")).to_have_text(format_date(arrive + timedelta(days=29), "en"))
    expect(guard.locator("#recorded")).to_have_text("The entry is recorded.")
    expect(guard.locator("#answer")).to_contain_text("Шарма")
    expect(guard.locator("#answer")).to_contain_text("India")
    expect(guard.locator("#f-office")).to_have_value("KZ-KORDAY")  # the post is remembered for the next traveller
    shot(guard, "visa-border-allowed-en")

    # the traveller leaves the same day: checked by a photo of the seal's QR code
    photo = tmp_path / "seal.png"
    photo.write_bytes(qr_png(live_server.services.visa_seal(number), scale=6))
    guard.locator("#f-direction-exit").check()
    guard.locator("#f-passport_number").fill(passport)
    guard.locator("#f-photo").set_input_files(str(photo))
    guard.get_by_role("button", name="Check", exact=True).click()
    expect(guard.locator(".decision-word")).to_have_text("Exit recorded")
    expect(guard.locator("#recorded")).to_have_text("The exit is recorded.")
    shot(guard, "visa-border-photo-exit-en")

    # someone else's passport with this visa
    guard.locator("#f-direction-entry").check()
    guard.locator("#f-passport_number").fill("Q0000000")
    guard.locator("#f-visa_number").fill(number)
    guard.get_by_role("button", name="Check", exact=True).click()
    expect(guard.locator(".decision-refused .decision-word")).to_have_text("Entry refused")
    expect(guard.locator(".decision-refused .reasons")).to_contain_text("The visa was issued for another passport.")
    shot(guard, "visa-border-refused-en")

    # the traveller's own count, on the status page
    phone.goto(status_url)
    expect(phone.locator("#days-used")).to_have_text("1")
    shot(phone, "visa-status-after-travel-ru")


def test_the_camera_scans_in_the_page_and_can_be_stopped(new_page: object, live_server: LiveServer) -> None:
    guard: Page = new_page("en", phone=True)  # type: ignore[operator]
    guard.context.grant_permissions(["camera"], origin=live_server.url)
    sign_in(guard, "border-kz", lang="en")
    guard.goto("/border")
    start = guard.get_by_role("button", name="Scan the seal with the camera")
    start.click()
    expect(guard.locator("#camera-video")).to_be_visible()
    expect(guard.locator("#camera-status")).to_have_text("Point the camera at the QR code of the visa seal.")
    shot(guard, "visa-border-camera-en")
    guard.get_by_role("button", name="Stop the camera").click()
    expect(guard.locator("#camera-video")).to_be_hidden()
    expect(guard.locator("#camera-status")).to_have_text("The camera is off.")
    expect(start).to_be_visible()

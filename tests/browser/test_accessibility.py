"""Every role's pages, as a keyboard and a screen reader meet them, and on a phone's screen.

For each page of each role's menu, in each language: the page says its language, has one main heading,
gives every form control an accessible name, lets the keyboard skip to the content, and fits a 390 px
wide screen without scrolling sideways (wide tables scroll inside their own box).
"""

from __future__ import annotations

import pytest
from browsing import shot, sign_in
from playwright.sync_api import Page, expect

from silkway.shared.actors import Role
from silkway.web.pages.base import NAV

ACCOUNTS = {
    Role.CARRIER: "carrier-kz",
    Role.CUSTOMS: "customs-kz",
    Role.CONSULAR: "consul-kz",
    Role.BORDER_GUARD: "border-kz",
    Role.ANALYST: "analyst-kz",
    Role.ADMIN: "admin-kz",
}
PUBLIC_PAGES = ("/", "/signin", "/visa/apply")

UNNAMED_CONTROLS = """() => Array.from(document.querySelectorAll('input, select, textarea, button'))
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !e.getAttribute('aria-labelledby') && !(e.tagName === 'BUTTON' && e.innerText.trim()))
  .map(e => e.outerHTML.slice(0, 120))"""
SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def check_page(page: Page, path: str, lang: str) -> None:
    response = page.goto(f"{path}?lang={lang}")
    assert response is not None
    assert response.status == 200, f"{path} answered {response.status}"
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("h1")).to_have_count(1)
    assert page.evaluate(UNNAMED_CONTROLS) == [], f"{path}: form controls without a label"
    assert page.evaluate(SIDEWAYS_SCROLL) <= 1, f"{path} scrolls sideways on a phone"
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_public_pages(new_page, lang: str) -> None:  # type: ignore[no-untyped-def]
    page = new_page(lang, phone=True)
    for path in PUBLIC_PAGES:
        check_page(page, path, lang)
    shot(page, f"a11y-public-{lang}")


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_every_page_of_each_roles_menu(new_page, role: Role) -> None:  # type: ignore[no-untyped-def]
    page = new_page("kk", phone=True)
    sign_in(page, ACCOUNTS[role])
    if role is Role.CUSTOMS:  # the customs pages need an office chosen first
        page.goto("/customs")
        page.locator("form button[type=submit]").first.click()
    for lang in ("kk", "ru", "en"):
        for path, _label in NAV[role]:
            check_page(page, path, lang)
    shot(page, f"a11y-{role.value}-phone")

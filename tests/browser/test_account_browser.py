"""Signing in and out, the language switch, and what an anonymous visitor or a wrong role sees."""

from __future__ import annotations

import re

from browsing import LiveServer, shot, sign_in
from playwright.sync_api import Page, expect


def test_landing_speaks_each_language_and_remembers_the_choice(desktop: Page) -> None:
    desktop.goto("/")
    expect(desktop.locator("html")).to_have_attribute("lang", "en")
    desktop.get_by_role("link", name="Русский").click()
    expect(desktop.locator("html")).to_have_attribute("lang", "ru")
    expect(desktop.get_by_role("link", name="Войти").first).to_be_visible()
    desktop.goto("/signin")  # no ?lang= any more: the cookie remembers Russian
    expect(desktop.locator("html")).to_have_attribute("lang", "ru")
    desktop.get_by_role("link", name="Қазақша").click()
    expect(desktop.locator("h1")).to_have_text("Кіру")
    shot(desktop, "account-signin-kk")


def test_wrong_password_is_refused_in_the_visitors_language(desktop: Page) -> None:
    desktop.goto("/signin?lang=ru")
    desktop.get_by_label("Имя пользователя").fill("customs-kz")
    desktop.get_by_label("Пароль").fill("not-the-password")
    desktop.get_by_role("button", name="Войти").click()
    expect(desktop.get_by_role("alert")).to_contain_text("Неверное имя пользователя или пароль")
    shot(desktop, "account-bad-password-ru")


def test_empty_form_marks_both_fields(desktop: Page) -> None:
    desktop.goto("/signin?lang=en")
    desktop.get_by_role("button", name="Sign in").click()
    expect(desktop.locator("#f-username")).to_have_attribute("aria-invalid", "true")
    expect(desktop.locator("#f-password")).to_have_attribute("aria-invalid", "true")


def test_a_page_behind_sign_in_brings_the_visitor_back_after_signing_in(desktop: Page) -> None:
    desktop.goto("/analyst?days=7")
    expect(desktop).to_have_url(re.compile(r"/signin\?next=/analyst%3Fdays%3D7$"))
    desktop.get_by_label("User name").fill("analyst-kz")
    desktop.get_by_label("Password").fill("demo")
    desktop.get_by_role("button", name="Sign in").click()
    expect(desktop).to_have_url(re.compile(r"/analyst\?days=7$"))


def test_sign_out_ends_the_session(desktop: Page, live_server: LiveServer) -> None:
    sign_in(desktop, "analyst-kz")
    desktop.get_by_role("button", name="Sign out").click()
    desktop.goto("/analyst")
    expect(desktop).to_have_url(re.compile(r"/signin"))


def test_another_roles_page_is_refused(desktop: Page) -> None:
    sign_in(desktop, "carrier-kz")
    response = desktop.goto("/consul/applications")
    assert response is not None
    assert response.status == 403
    expect(desktop.locator("h1")).to_have_text("Not for your role")

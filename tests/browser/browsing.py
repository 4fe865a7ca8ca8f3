"""What browser tests share besides fixtures: the live server's handle, signing in, screenshots."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

from silkway.services import Services
from silkway.shared.clock import FixedClock

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
"""Screenshots of every step, kept as test artifacts (ignored by git)."""


@dataclass(slots=True)
class LiveServer:
    url: str
    services: Services
    clock: FixedClock


def shot(page: Page, name: str) -> Path:
    """Keep a full-page screenshot as a test artifact, named after the test step."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^a-z0-9_-]+", "-", name.lower()) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Page, username: str, *, lang: str | None = None, password: str = "demo") -> None:
    """Sign in through the form (in `lang` if given) and wait for the role's landing page."""
    page.goto("/signin" + (f"?lang={lang}" if lang else ""))
    page.locator("#f-username").fill(username)
    page.locator("#f-password").fill(password)
    page.locator("form[action='/signin'] button[type=submit]").click()
    page.wait_for_load_state()
    if "/signin" in page.url:
        raise AssertionError(f"signing in as {username} failed: {page.locator('.problem').inner_text()}")

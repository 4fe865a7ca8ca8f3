"""A real browser against a real server: Debian's chromium driven by Playwright, headless.

Each xdist worker starts one Silkway (uvicorn in a thread, its own SQLite database with the demo data,
a `FixedClock` the tests may move) and one chromium; every test gets a fresh browser context, so no
cookie leaks between tests. Screenshots go to ``test-artifacts/browser/`` (kept by CI as artifacts).

Playwright never downloads a browser here: it launches ``/usr/bin/chromium`` (``SILKWAY_CHROMIUM`` to
override), which the Makefile installs from Debian's packages.
Tests import `LiveServer`, `sign_in` and `shot` from ``browsing`` (tests/browser/browsing.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from browsing import LiveServer
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from silkway import bootstrap
from silkway.demo import load_demo
from silkway.settings import Settings
from silkway.shared.clock import FixedClock
from silkway.web.app import create_app

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
START = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def chromium_path() -> str:
    path = os.environ.get("SILKWAY_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium); "
            "or set SILKWAY_CHROMIUM to a chromium binary"
        )
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path_factory.mktemp('browser-db') / 'silkway.db'}"
    bootstrap.migrate(url)
    clock = FixedClock(START)
    services = bootstrap.build(Settings(env="test", database_url=url), clock=clock)
    services.establish_trust()
    load_demo(services)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="silkway-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the live server did not start")
        time.sleep(0.05)
    yield LiveServer(url=f"http://127.0.0.1:{port}", services=services, clock=clock)
    server.should_exit = True
    thread.join(timeout=10)
    services.close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
    yield launched
    launched.close()


def _context(browser: Browser, live_server: LiveServer, viewport: dict[str, int], lang: str) -> BrowserContext:
    context = browser.new_context(
        base_url=live_server.url,
        viewport=viewport,
        locale={"kk": "kk-KZ", "ru": "ru-RU", "en": "en-GB"}[lang],
        extra_http_headers={"Accept-Language": lang},
    )
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def desktop(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A desktop page (1280×900) that asks for English unless the test switches language."""
    context = _context(browser, live_server, DESKTOP, "en")
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A phone-sized page (390×844) with a touch screen, asking for Russian."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="ru-RU",
        extra_http_headers={"Accept-Language": "ru"},
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer) -> Iterator[object]:
    """A factory of extra pages in their own contexts: ``new_page(lang="kk", phone=False)``."""
    contexts: list[BrowserContext] = []

    def make(lang: str = "en", *, phone: bool = False) -> Page:
        context = _context(browser, live_server, PHONE if phone else DESKTOP, lang)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()

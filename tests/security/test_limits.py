"""Limits on what one client may send and how often, and the pages' own defences, on SQLite and PostgreSQL.

Bodies over their size (declared, or chunked as they stream), lists and strings over theirs, sign-in failures per
address and per username, visa applications per address, the lock-out of an account, CSRF, the pages' headers
and every cookie's flags. Time only moves when a test moves the node's `FixedClock`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, table, text
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send
from visawalk import application

from loops import run
from silkway import bootstrap
from silkway.accounts.handlers import BadCredentials, UnlockAccount, authenticate, unlock_account
from silkway.accounts.model import LockOut
from silkway.auth.passwords import Argon2Hasher
from silkway.services import Services
from silkway.settings import Rate, Settings, SettingsError
from silkway.shared.actors import Actor, Role
from silkway.shared.clock import FixedClock
from silkway.shared.errors import NotFound
from silkway.storage.limits import Count
from silkway.transit.model import MAX_CONTAINERS, MAX_GOODS_ITEMS, MAX_ITINERARY
from silkway.web.app import create_app
from silkway.web.limits import UPLOAD_PATHS, BodyLimit, client_address

PROBLEM = "application/problem+json"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
HERE = "203.0.113.7"
THERE = "198.51.100.9"

APPLICATION: dict[str, Any] = application()
FORM: dict[str, str] = {
    **{k: v for k, v in APPLICATION.items() if isinstance(v, str)},
    "states[0]": "KZ",
    "states[1]": "KG",
    "states[2]": "UZ",
}
DECLARATION: dict[str, Any] = {
    "vehicle": {"plate": "123ABC02", "country": "KZ"},
    "itinerary": ["KZ-ALA-ZHETYSU", "KZ-ZHIBEKZHOLY", "UZ-GISHTKUPRIK", "UZ-OYBEK", "TJ-FOTEHOBOD", "TJ-DUSHANBE-HQ"],
    "goods": [
        {
            "hs_code": "847130",
            "description": "Laptops",
            "packages": 120,
            "gross_mass_kg": "2400.5",
            "value": {"amount": "180000.00", "currency": "USD"},
        }
    ],
    "guarantee": {"reference": "GRN-KZ-0001", "amount": "50000.00", "currency": "USD"},
}


def application(passport: str = "Z1234567", **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(APPLICATION), "passport_number": passport, **changes}


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert (body["status"], body["code"]) == (status, code), body
    return body


def fields_of(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


def token(client: TestClient, username: str, password: str = "demo") -> Any:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def csrf_of(client: TestClient, path: str = "/signin") -> str:
    found = CSRF.search(client.get(path).text)
    assert found is not None
    return found.group(1)


def page_sign_in(client: TestClient, username: str, password: str = "demo") -> Any:
    data = {"csrf": csrf_of(client), "username": username, "password": password}
    return client.post("/signin", data=data, follow_redirects=False)


@pytest.fixture
def app_with(services: Services) -> Iterator[Callable[..., TestClient]]:
    """A client of the node with some settings changed, from a client address of the test's choice. Every app
    made shares the node's database, as the worker processes of one server do."""
    opened: list[TestClient] = []

    def make(*, address: str = HERE, https: bool = False, node: Services = services, **changes: Any) -> TestClient:
        tuned = dataclasses.replace(node, settings=dataclasses.replace(node.settings, **changes))
        base_url = "https://testserver" if https else "http://testserver"
        client = TestClient(
            create_app(tuned), raise_server_exceptions=False, client=(address, 50000), base_url=base_url
        )
        opened.append(client.__enter__())
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def rows(database_url: str) -> Iterator[Callable[[str], int]]:
    engine = create_engine(database_url)

    def count(name: str) -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())

    yield count
    engine.dispose()


@pytest.fixture
def failures(database_url: str) -> Iterator[Callable[[str], int]]:
    """An account's failed sign-ins as its row holds them."""
    engine = create_engine(database_url)

    def of(username: str) -> int:
        with engine.connect() as conn:
            query = text("SELECT failed_sign_ins FROM accounts WHERE username = :u")
            return int(conn.execute(query, {"u": username}).scalar_one())

    yield of
    engine.dispose()


# --- bodies ---------------------------------------------------------------------------------------------------


def test_a_body_declared_over_the_limit_is_refused_unread_and_nothing_is_lodged(
    app_with: Callable[..., TestClient], rows: Callable[[str], int]
) -> None:
    body = (json.dumps(application()) + " " * 70_000).encode()  # valid JSON: lodged where the limit allows it

    refused = app_with(max_body_bytes=64 * 1024).post(
        "/api/v1/visa-applications", content=body, headers={"content-type": "application/json"}
    )

    problem(refused, 413, "body_too_large")
    assert refused.headers["connection"] == "close"
    assert (rows("visa_applications"), rows("limit_counters")) == (0, 0)  # not even counted
    lodged = app_with().post("/api/v1/visa-applications", content=body, headers={"content-type": "application/json"})
    assert lodged.status_code == 201, lodged.text


def test_a_chunked_body_over_the_limit_is_refused_and_nothing_is_lodged(
    app_with: Callable[..., TestClient], rows: Callable[[str], int]
) -> None:
    body = (json.dumps(application()) + " " * 70_000).encode()

    def chunks() -> Iterator[bytes]:
        yield from (body[i : i + 16_384] for i in range(0, len(body), 16_384))

    refused = app_with(max_body_bytes=64 * 1024).post(
        "/api/v1/visa-applications", content=chunks(), headers={"content-type": "application/json"}
    )

    assert "content-length" not in refused.request.headers
    assert refused.request.headers["transfer-encoding"] == "chunked"
    problem(refused, 413, "body_too_large")
    assert rows("visa_applications") == 0


def run_body_limit(
    chunks: list[bytes], headers: list[tuple[bytes, bytes]], limit: int
) -> tuple[list[Message], int, list[bytes]]:
    """Send `chunks` through `BodyLimit` to an app that reads the whole body, then answers 200. What was sent
    back, how many chunks were read, and the bodies the app got whole."""
    read = 0
    got: list[bytes] = []
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        got.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive() -> Message:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/v1/transits", "headers": headers}
    run(BodyLimit(app, max_body=limit, max_upload=limit)(scope, receive, send))  # a fresh thread: see loops.py
    return sent, read, got


def test_a_streamed_body_is_refused_as_soon_as_it_goes_over_and_the_rest_is_never_read() -> None:
    sent, read, got = run_body_limit([b"x" * 1000] * 10, [(b"transfer-encoding", b"chunked")], limit=2500)

    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["code"] == "body_too_large"
    assert (read, got) == (3, [])  # the third chunk went over: the app never had a body, seven chunks unread


def test_a_declared_length_over_the_limit_never_reaches_the_app() -> None:
    sent, read, got = run_body_limit([b"x" * 3000], [(b"content-length", b"3000")], limit=2500)

    assert (sent[0]["status"], read, got) == (413, 0, [])


@pytest.mark.parametrize("headers", [[(b"content-length", b"2500")], [(b"transfer-encoding", b"chunked")]])
def test_a_body_within_the_limit_reaches_the_app_whole(headers: list[tuple[bytes, bytes]]) -> None:
    sent, read, got = run_body_limit([b"x" * 1000, b"x" * 1000, b"x" * 500], headers, limit=2500)

    assert (sent[0]["status"], read, got) == (200, 3, [b"x" * 2500])


def test_a_page_gets_the_same_refusal_with_the_pages_headers(app_with: Callable[..., TestClient]) -> None:
    client = app_with(max_body_bytes=64 * 1024)

    refused = client.post("/signin", data={"csrf": csrf_of(client), "username": "x" * 70_000, "password": "demo"})

    problem(refused, 413, "body_too_large")
    assert refused.headers["content-security-policy"].startswith("default-src 'self'")


def test_the_largest_legitimate_declaration_fits_the_default_limit_and_1_mib_would_not() -> None:
    # every list at its longest and every string at its widest, in Cyrillic, ASCII-escaped as Python's json sends it
    item = {
        "hs_code": "847130",
        "description": "Ж" * 512,
        "packages": 1_000_000,
        "gross_mass_kg": "999999.999",
        "value": {"amount": "999999999999999.99", "currency": "USD"},
    }
    largest = {
        "vehicle": {"plate": "123ABC0212345", "country": "KZ"},
        "containers": ["C" * 20] * MAX_CONTAINERS,
        "itinerary": ["KZ-" + "A" * 37] * MAX_ITINERARY,
        "goods": [item] * MAX_GOODS_ITEMS,
        "guarantee": {"reference": "G" * 40, "amount": "999999999999999.99", "currency": "USD"},
    }

    assert 3 * 1024 * 1024 < len(json.dumps(largest)) < Settings().max_body_bytes


def test_the_upload_routes_take_a_phone_photo_that_other_routes_refuse(app_with: Callable[..., TestClient]) -> None:
    client = app_with()
    photo = {"file": ("seal.jpg", b"\xff\xd8" + b"\x00" * (6 * 1024 * 1024), "image/jpeg")}  # over the 4 MiB

    taken = {path: client.post(path, files=photo, follow_redirects=False).status_code for path in UPLOAD_PATHS}

    # each is a route that reads the photo (or asks for a signed-in officer first): none is refused for its size
    assert taken == {"/api/v1/verify": 422, "/border": 303, "/border/decode": 303, "/customs/lookup": 303}
    problem(client.post("/api/v1/transits", files=photo), 413, "body_too_large")


# --- lists and strings ------------------------------------------------------------------------------------------


def test_an_over_long_goods_list_and_an_over_long_description_are_refused_and_no_transit_is_lodged(
    app_with: Callable[..., TestClient], rows: Callable[[str], int]
) -> None:
    client = app_with()
    carrier = {"Authorization": f"Bearer {token(client, 'carrier-kz').json()['access_token']}"}
    wordy = {**DECLARATION["goods"][0], "description": "x" * 513}

    too_many = client.post(
        "/api/v1/transits", json={**DECLARATION, "goods": DECLARATION["goods"] * 1000}, headers=carrier
    )
    too_long = client.post("/api/v1/transits", json={**DECLARATION, "goods": [wordy]}, headers=carrier)

    assert fields_of(problem(too_many, 422, "validation_error")) == {"goods"}
    assert fields_of(problem(too_long, 422, "validation_error")) == {"goods.0.description"}
    assert rows("transits") == 0
    assert client.post("/api/v1/transits", json=DECLARATION, headers=carrier).status_code == 201  # the rest is valid


def test_an_over_long_list_of_states_and_an_over_long_surname_are_refused_and_nothing_is_lodged(
    app_with: Callable[..., TestClient], rows: Callable[[str], int]
) -> None:
    client = app_with()

    too_many = client.post("/api/v1/visa-applications", json=application(states=["KZ", "KG", "UZ", "TJ"] * 3))
    too_long = client.post("/api/v1/visa-applications", json=application(surname="S" * 101))

    assert fields_of(problem(too_many, 422, "validation_error")) == {"states"}
    assert fields_of(problem(too_long, 422, "validation_error")) == {"surname"}
    assert rows("visa_applications") == 0
    assert client.post("/api/v1/visa-applications", json=application()).status_code == 201


# --- sign-in rate limits --------------------------------------------------------------------------------------


def test_failed_sign_ins_from_one_address_are_limited_whatever_the_username_until_the_window_ends(
    app_with: Callable[..., TestClient], clock: FixedClock
) -> None:
    limit = {"sign_in_per_address": Rate(count=3, seconds=600)}
    here, there = app_with(address=HERE, **limit), app_with(address=THERE, **limit)
    for username in ("nobody", "customs-kz", "carrier-kz"):
        problem(token(here, username, "wrong"), 401, "bad_credentials")

    refused = token(here, "admin-kz")  # the right password: not even checked

    problem(refused, 429, "too_many_requests")
    assert refused.headers["retry-after"] == "600"
    assert token(there, "admin-kz").status_code == 200  # another address
    clock.advance(seconds=599)
    assert token(here, "admin-kz").headers["retry-after"] == "1"
    clock.advance(seconds=1)
    assert token(here, "admin-kz").status_code == 200


def test_failed_sign_ins_with_one_username_are_limited_from_every_address(
    app_with: Callable[..., TestClient], clock: FixedClock
) -> None:
    limit = {"sign_in_per_username": Rate(count=2, seconds=900)}
    here, there = app_with(address=HERE, **limit), app_with(address=THERE, **limit)
    problem(token(here, "carrier-kz", "wrong"), 401, "bad_credentials")
    problem(token(there, "Carrier-KZ ", "wrong"), 401, "bad_credentials")  # the same username, as typed

    refused = token(app_with(address="192.0.2.1", **limit), "carrier-kz")

    problem(refused, 429, "too_many_requests")
    assert refused.headers["retry-after"] == "900"
    assert token(here, "customs-kz").status_code == 200  # another username, from the same address
    clock.advance(minutes=15)
    assert token(there, "carrier-kz").status_code == 200


def test_the_sign_in_page_is_limited_with_the_api_and_says_when_to_come_back(
    app_with: Callable[..., TestClient],
) -> None:
    client = app_with(sign_in_per_address=Rate(count=2, seconds=600))
    problem(token(client, "nobody", "wrong"), 401, "bad_credentials")
    assert page_sign_in(client, "customs-kz", "wrong").status_code == 401

    refused = page_sign_in(client, "customs-kz")

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "600"
    assert "try again in 10 minutes" in refused.text
    assert not any(c.startswith("silkway_session=") for c in refused.headers.get_list("set-cookie"))


def test_the_counts_hold_for_every_process_of_the_node_and_after_a_restart(
    app_with: Callable[..., TestClient], services: Services, clock: FixedClock
) -> None:
    limit = {"sign_in_per_address": Rate(count=2, seconds=600)}
    for _ in range(2):
        problem(token(app_with(**limit), "customs-kz", "wrong"), 401, "bad_credentials")
    restarted = bootstrap.build(dataclasses.replace(services.settings, **limit), clock=clock)
    try:
        problem(token(app_with(node=restarted), "customs-kz"), 429, "too_many_requests")
    finally:
        restarted.close()


def test_parallel_counts_all_count(services: Services, clock: FixedClock) -> None:
    count = Count("parallel", "203.0.113.7", timedelta(minutes=5))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: services.limits.count([count], now=clock.now()), range(40)))

    assert services.limits.tallies([count], now=clock.now())[0].hits == 40
    assert services.limits.tallies([count], now=clock.now() + timedelta(minutes=5))[0].hits == 0


@pytest.mark.parametrize(
    ("host", "counted_as"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),  # one subscriber's network, one count
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
    ],
)
def test_a_client_is_counted_by_its_address_and_an_ipv6_one_by_its_network(host: str, counted_as: str) -> None:
    request = Request({"type": "http", "client": (host, 50000), "headers": []})

    assert client_address(request) == counted_as


# --- visa applications ----------------------------------------------------------------------------------------


def test_visa_applications_from_one_address_are_limited_on_the_api_and_the_page_and_nothing_more_is_lodged(
    app_with: Callable[..., TestClient], clock: FixedClock, rows: Callable[[str], int]
) -> None:
    limit = {"visa_applications_per_address": Rate(count=2, seconds=3600)}
    client = app_with(**limit)
    for passport in ("Z1234567", "Z1234568"):
        assert client.post("/api/v1/visa-applications", json=application(passport)).status_code == 201

    refused = client.post("/api/v1/visa-applications", json=application("Z1234569"))
    on_the_page = client.post(
        "/visa/apply", data={**FORM, "passport_number": "Z1234569", "csrf": csrf_of(client, "/visa/apply")}
    )

    problem(refused, 429, "too_many_requests")
    assert refused.headers["retry-after"] == "3600"
    assert (on_the_page.status_code, on_the_page.headers["retry-after"]) == (429, "3600")
    assert 'value="Z1234569"' in on_the_page.text  # the form comes back filled in
    assert rows("visa_applications") == 2
    assert (
        app_with(address=THERE, **limit).post("/api/v1/visa-applications", json=application("Z1234569")).status_code
        == 201
    )
    clock.advance(hours=1)
    assert client.post("/api/v1/visa-applications", json=application("Z1234570")).status_code == 201


def test_a_form_sent_back_for_corrections_does_not_count_as_an_application(
    app_with: Callable[..., TestClient], rows: Callable[[str], int]
) -> None:
    client = app_with(visa_applications_per_address=Rate(count=1, seconds=3600))
    csrf = csrf_of(client, "/visa/apply")
    for _ in range(3):
        assert client.post("/visa/apply", data={**FORM, "surname": "", "csrf": csrf}).status_code == 422

    lodged = client.post("/visa/apply", data={**FORM, "csrf": csrf}, follow_redirects=False)

    assert lodged.status_code == 303
    assert rows("visa_applications") == 1


# --- the lock-out ---------------------------------------------------------------------------------------------


def test_failures_in_a_row_lock_the_account_against_even_its_right_password_until_the_lock_out_ends(
    app_with: Callable[..., TestClient], clock: FixedClock
) -> None:
    client = app_with(lock_out_after=3, lock_out_minutes=15)
    for _ in range(2):
        problem(token(client, "customs-kz", "wrong"), 401, "bad_credentials")

    locked = token(client, "customs-kz", "wrong")
    right = token(client, "customs-kz")

    assert problem(locked, 429, "sign_in_locked")["locked_until"] == "2026-11-21T08:15:00+00:00"
    assert "locked until 2026-11-21 08:15 UTC" in locked.json()["detail"]
    assert (right.status_code, right.json(), right.headers["retry-after"]) == (429, locked.json(), "900")
    clock.advance(minutes=14, seconds=59)
    assert token(client, "customs-kz").headers["retry-after"] == "1"
    clock.advance(seconds=1)
    assert token(client, "customs-kz").status_code == 200


def test_a_success_forgets_the_failures_before_it(
    app_with: Callable[..., TestClient], failures: Callable[[str], int]
) -> None:
    client = app_with(lock_out_after=3)
    for _ in range(2):
        problem(token(client, "customs-kz", "wrong"), 401, "bad_credentials")
    assert failures("customs-kz") == 2

    assert token(client, "customs-kz").status_code == 200

    assert failures("customs-kz") == 0
    for _ in range(2):
        problem(token(client, "customs-kz", "wrong"), 401, "bad_credentials")
    problem(token(client, "customs-kz", "wrong"), 429, "sign_in_locked")


def test_a_failure_is_forgotten_once_the_lock_out_s_duration_has_passed(
    app_with: Callable[..., TestClient], clock: FixedClock
) -> None:
    client = app_with(lock_out_after=3, lock_out_minutes=15)
    for _ in range(2):
        problem(token(client, "customs-kz", "wrong"), 401, "bad_credentials")
    clock.advance(minutes=15)

    problem(token(client, "customs-kz", "wrong"), 401, "bad_credentials")  # one in a row, not three


class CountingHasher:
    """The node's hasher, counting what it is asked to do."""

    def __init__(self, hasher: Argon2Hasher) -> None:
        self._hasher = hasher
        self.calls: Counter[str] = Counter()

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        self.calls["verify"] += 1
        return self._hasher.verify(password_hash, password)

    def burn(self, password: str) -> None:
        self.calls["burn"] += 1
        self._hasher.burn(password)


def test_an_unknown_username_is_answered_as_a_wrong_password_is_locked_out_included(
    app_with: Callable[..., TestClient], services: Services
) -> None:
    hasher = CountingHasher(services.hasher)
    client = app_with(node=dataclasses.replace(services, hasher=hasher), lock_out_after=3)

    def answers(username: str) -> list[tuple[int, Any, str | None]]:
        tried = [token(client, username, "wrong") for _ in range(5)]
        return [(r.status_code, r.json(), r.headers.get("retry-after")) for r in tried]

    known = answers("customs-kz")
    assert hasher.calls == {"verify": 3}  # once locked, the password is not even checked
    unknown = answers("nobody-kz")

    assert unknown == known
    assert [status for status, _, _ in known] == [401, 401, 429, 429, 429]
    assert hasher.calls == {"verify": 3, "burn": 3}  # as long a wait for each answer as a wrong password's


def test_parallel_failures_all_count(services: Services, clock: FixedClock, failures: Callable[[str], int]) -> None:
    def fail(_: int) -> None:
        with pytest.raises(BadCredentials):
            authenticate(
                "customs-kz",
                "wrong",
                uow=services.uow(),
                hasher=services.hasher,
                clock=clock,
                lock_out=LockOut(after=100),
                unknown=services.limits,
            )

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(fail, range(12)))

    assert failures("customs-kz") == 12


def test_an_admin_of_the_account_s_state_unlocks_it(
    app_with: Callable[..., TestClient], services: Services, failures: Callable[[str], int]
) -> None:
    client = app_with(lock_out_after=2)
    for _ in range(2):
        token(client, "customs-kz", "wrong")
    problem(token(client, "customs-kz"), 429, "sign_in_locked")
    admin_of = {
        state: Actor(username=f"admin-{state.lower()}", role=Role.ADMIN, country=state) for state in ("KZ", "UZ")
    }

    with pytest.raises(NotFound):
        unlock_account(
            UnlockAccount(actor=admin_of["UZ"], username="customs-kz"), uow=services.uow(), clock=services.clock
        )
    assert failures("customs-kz") == 2
    unlock_account(UnlockAccount(actor=admin_of["KZ"], username="customs-kz"), uow=services.uow(), clock=services.clock)

    assert failures("customs-kz") == 0
    assert token(client, "customs-kz").status_code == 200
    # the lock-out and the unlock are signed records of the KZ audit trail, each naming its actor
    trail = [(e.type, e.actor) for e in services.audit_trail.trail("KZ") if e.subject == "account:customs-kz"]
    assert trail == [("AccountCreated", "system"), ("AccountLockedOut", "system"), ("AccountUnlocked", "admin-kz")]


# --- CSRF -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sent", [None, "forged-token"])
def test_a_page_form_without_this_browser_s_csrf_token_is_refused_and_changes_nothing(
    app_with: Callable[..., TestClient], rows: Callable[[str], int], sent: str | None
) -> None:
    client = app_with()
    assert page_sign_in(client, "admin-kz").status_code == 303
    accounts = rows("accounts")
    csrf_of(client, "/visa/apply")  # the browser has its cookie; the forms below do not carry its value
    account = {"username": "forged-kz", "display_name": "F", "role": "customs", "password": "pass word"}
    extra = {} if sent is None else {"csrf": sent}

    lodging = client.post("/visa/apply", data={**FORM, **extra})
    creating = client.post("/admin/accounts", data={**account, "password_again": "pass word", **extra})

    assert (lodging.status_code, creating.status_code) == (403, 403)
    assert "The form has expired" in creating.text
    assert (rows("visa_applications"), rows("accounts")) == (0, accounts)


# --- headers and cookies --------------------------------------------------------------------------------------

PRODUCTION = {
    "env": "production",
    "secret_key": "s" * 40,
    "key_passphrase": "k" * 20,
}


@pytest.mark.parametrize("production", [False, True])
def test_pages_carry_the_security_headers_and_the_api_none_of_the_pages_concerns(
    app_with: Callable[..., TestClient], production: bool
) -> None:
    client = app_with(https=production, **(PRODUCTION if production else {}))

    page = client.get("/signin")
    api = client.get("/api/v1/visa-scheme")

    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers.get("strict-transport-security") == (
        "max-age=63072000; includeSubDomains" if production else None
    )
    assert api.status_code == 200
    for header in ("content-security-policy", "x-frame-options", "set-cookie", "strict-transport-security"):
        assert header not in api.headers


@pytest.mark.parametrize("production", [False, True])
def test_every_cookie_the_app_sets_is_http_only_and_same_site_and_secure_in_production(
    app_with: Callable[..., TestClient], production: bool
) -> None:
    client = app_with(https=production, **(PRODUCTION if production else {}))
    lodged = client.post("/api/v1/visa-applications", json=application()).json()
    set_cookies: list[str] = []

    set_cookies += client.get("/signin?lang=ru").headers.get_list("set-cookie")  # the CSRF and language cookies
    signed_in = page_sign_in(client, "customs-kz")
    set_cookies += signed_in.headers.get_list("set-cookie")
    signed_out = client.post("/signout", data={"csrf": client.cookies["silkway_csrf"]}, follow_redirects=False)
    set_cookies += signed_out.headers.get_list("set-cookie")
    set_cookies += client.get(f"/visa/status/{lodged['id']}?token={lodged['status_token']}").headers.get_list(
        "set-cookie"
    )

    assert (signed_in.status_code, signed_out.status_code) == (303, 303)
    names = Counter(cookie.partition("=")[0] for cookie in set_cookies)
    assert set(names) == {"silkway_csrf", "silkway_lang", "silkway_session", "silkway_visa_token"}
    assert names["silkway_session"] == 2  # set, then erased
    for cookie in set_cookies:
        flags = {flag.strip().partition("=")[0].lower() for flag in cookie.split(";")[1:]}
        assert {"httponly", "samesite"} <= flags, cookie
        assert ("secure" in flags) is production, cookie


# --- settings -------------------------------------------------------------------------------------------------


def test_the_limits_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "SILKWAY_MAX_BODY_BYTES": "2097152",
            "SILKWAY_MAX_UPLOAD_BYTES": "10485760",
            "SILKWAY_SIGN_IN_PER_ADDRESS": "50/600",
            "SILKWAY_SIGN_IN_PER_USERNAME": "5/900",
            "SILKWAY_VISA_APPLICATIONS_PER_ADDRESS": "100/86400",
            "SILKWAY_LOCK_OUT_AFTER": "3",
            "SILKWAY_LOCK_OUT_MINUTES": "30",
        }
    )

    assert (settings.max_body_bytes, settings.max_upload_bytes) == (2 * 1024 * 1024, 10 * 1024 * 1024)
    assert (settings.sign_in_per_address, settings.sign_in_per_username) == (
        Rate(count=50, seconds=600),
        Rate(count=5, seconds=900),
    )
    assert settings.visa_applications_per_address == Rate(count=100, seconds=86400)
    assert (settings.lock_out_after, settings.lock_out_minutes) == (3, 30)

    defaults = Settings.from_env({})
    assert (defaults.max_body_bytes, defaults.max_upload_bytes) == (4 * 1024 * 1024, 24 * 1024 * 1024)
    assert (defaults.sign_in_per_address, defaults.sign_in_per_username) == (
        Rate(count=30, seconds=3600),
        Rate(count=10, seconds=3600),
    )
    assert defaults.visa_applications_per_address == Rate(count=20, seconds=3600)
    assert (defaults.lock_out_after, defaults.lock_out_minutes) == (5, 15)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SILKWAY_SIGN_IN_PER_ADDRESS", "30", "COUNT/SECONDS"),
        ("SILKWAY_SIGN_IN_PER_USERNAME", "0/60", "SILKWAY_SIGN_IN_PER_USERNAME must be COUNT/SECONDS"),
        ("SILKWAY_VISA_APPLICATIONS_PER_ADDRESS", "10/a-day", "COUNT/SECONDS"),
        ("SILKWAY_MAX_BODY_BYTES", "1000", "SILKWAY_MAX_BODY_BYTES must be at least 65536"),
        ("SILKWAY_MAX_BODY_BYTES", str(64 * 1024 * 1024), "at most SILKWAY_MAX_UPLOAD_BYTES"),
        ("SILKWAY_LOCK_OUT_AFTER", "0", "SILKWAY_LOCK_OUT_AFTER"),
        ("SILKWAY_LOCK_OUT_MINUTES", "0", "SILKWAY_LOCK_OUT_MINUTES"),
    ],
)
def test_malformed_or_unsafe_limits_are_refused(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({name: value})

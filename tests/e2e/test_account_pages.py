"""The pages' common ground without a browser: signing in, CSRF, language, headers, page errors."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(client: TestClient, path: str = "/signin") -> str:
    found = CSRF.search(client.get(path).text)
    assert found is not None
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = "demo") -> None:
    response = client.post(
        "/signin",
        data={"csrf": csrf_of(client), "username": username, "password": password},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_signing_in_sets_a_protected_session_cookie_and_lands_on_the_roles_home(client: TestClient) -> None:
    token = csrf_of(client)

    response = client.post(
        "/signin", data={"csrf": token, "username": "customs-uz", "password": "demo"}, follow_redirects=False
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/customs"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("silkway_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie


def test_the_csrf_cookie_is_strict_and_http_only(client: TestClient) -> None:
    response = client.get("/signin")

    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("silkway_csrf="))
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie


@pytest.mark.parametrize("sent", [None, "", "forged-token"])
def test_a_form_without_this_browsers_csrf_token_is_refused_and_signs_nobody_in(
    client: TestClient, sent: str | None
) -> None:
    csrf_of(client)  # the browser has its cookie; the form does not carry it
    data = {"username": "customs-kz", "password": "demo"}
    if sent is not None:
        data["csrf"] = sent

    response = client.post("/signin?lang=ru", data=data, follow_redirects=False)

    assert response.status_code == 403
    assert "Срок действия формы истёк" in response.text
    assert not any(c.startswith("silkway_session=") for c in response.headers.get_list("set-cookie"))


def test_wrong_credentials_are_told_in_the_visitors_language(client: TestClient) -> None:
    token = csrf_of(client)

    response = client.post(
        "/signin",
        data={"csrf": token, "username": "customs-kz", "password": "wrong"},
        headers={"Accept-Language": "kk"},
    )

    assert response.status_code == 401
    assert "Пайдаланушы аты немесе құпиясөз қате." in response.text
    assert 'value="customs-kz"' in response.text  # what was typed stays


def test_empty_fields_are_each_marked(client: TestClient) -> None:
    token = csrf_of(client)

    response = client.post("/signin?lang=en", data={"csrf": token, "username": " ", "password": ""})

    assert response.status_code == 422
    assert 'id="f-username"' in response.text
    assert response.text.count('aria-invalid="true"') == 2


@pytest.mark.parametrize(
    ("next_path", "landing"),
    [
        ("/analyst", "/analyst"),
        ("https://evil.example/", "/analyst"),
        ("//evil.example/", "/analyst"),
        ("/\\evil.example", "/analyst"),
    ],
)
def test_the_return_path_never_leaves_the_site(client: TestClient, next_path: str, landing: str) -> None:
    token = csrf_of(client)

    response = client.post(
        "/signin",
        data={"csrf": token, "username": "analyst-kz", "password": "demo", "next": next_path},
        follow_redirects=False,
    )

    assert response.headers["location"] == landing


def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(client: TestClient) -> None:
    response = client.get("/analyst?state=KZ", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/analyst%3Fstate%3DKZ"


def test_signing_out_forgets_the_session(client: TestClient) -> None:
    sign_in(client, "analyst-kz")

    response = client.post("/signout", data={"csrf": csrf_of(client, "/")}, follow_redirects=False)

    assert response.status_code == 303
    assert any(c.startswith('silkway_session=""') for c in response.headers.get_list("set-cookie"))
    assert client.get("/analyst", follow_redirects=False).headers["location"].startswith("/signin")


def test_a_forged_session_cookie_counts_as_signed_out(client: TestClient) -> None:
    client.cookies.set("silkway_session", "not-a-token")

    assert client.get("/analyst", follow_redirects=False).headers["location"].startswith("/signin")


def test_pages_carry_security_headers_and_the_api_keeps_its_own(client: TestClient) -> None:
    page = client.get("/")
    api = client.get("/api/v1/states")

    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "content-security-policy" not in api.headers


@pytest.mark.parametrize(
    ("query", "header", "lang"),
    [("?lang=kk", "en", "kk"), ("", "ru-RU,ru;q=0.9", "ru"), ("?lang=fr", "kk", "kk"), ("", "de", "en")],
)
def test_the_language_comes_from_the_switch_then_the_browser(
    client: TestClient, query: str, header: str, lang: str
) -> None:
    response = client.get("/" + query, headers={"Accept-Language": header})

    assert f'<html lang="{lang}">' in response.text


def test_the_language_switch_is_remembered(client: TestClient) -> None:
    client.get("/?lang=ru")

    assert '<html lang="ru">' in client.get("/signin", headers={"Accept-Language": "en"}).text


def test_an_unknown_page_is_a_page_and_an_unknown_api_path_is_a_problem(client: TestClient) -> None:
    page = client.get("/no-such-page?lang=ru")
    api = client.get("/api/v1/no-such-thing")

    assert page.status_code == 404
    assert "Страница не найдена" in page.text
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"

"""Server-rendered pages for every role, in Kazakh, Russian and English.

Each role's pages live in their own module; `install` mounts them with the page-level answers to a
visitor who must sign in, lacks the role, or sends a stale form, and the headers every page carries.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from silkway.shared.errors import DomainError
from silkway.web import errors
from silkway.web.pages import account, admin, analyst, border, carrier, consul, customs, traveller
from silkway.web.pages.base import (
    CSRF_COOKIE,
    FormExpired,
    PageForbidden,
    SignInNeeded,
    environment,
    page,
    sign_in_path,
)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _is_page(request: Request) -> bool:
    return _is_page_path(request.url.path)


def _is_page_path(path: str) -> bool:
    return not (path.startswith("/api/") or path in ("/openapi.json", "/docs", "/healthz"))


STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"
"""Production only: browsers come back over HTTPS alone for two years, the node's subdomains included. Not
``preload``: that commits the domain to browsers' built-in lists, a decision for its owner, not the app."""


class PageHeaders:
    """The headers every page carries, and the CSRF cookie a page handler asked for (``request.state.new_csrf``).

    In production pages also carry ``Strict-Transport-Security``, and every cookie a page sets is ``Secure`` (the
    handlers ask for it on theirs; this makes sure of any other, such as the language's).

    Plain ASGI rather than ``@app.middleware("http")``: that wrapper runs every request, API calls included,
    through an extra task and stream, which the load benchmark showed costs more than a border check's
    own HTTP handling. API answers pass through untouched."""

    def __init__(self, app: ASGIApp, *, production: bool = False) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not _is_page_path(path) or path.startswith("/static/"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                new_csrf = scope.get("state", {}).get("new_csrf")
                if new_csrf:
                    cookie = Response()
                    cookie.set_cookie(
                        CSRF_COOKIE, new_csrf, httponly=True, samesite="strict", secure=self.production, path="/"
                    )
                    headers.append("set-cookie", cookie.headers["set-cookie"])
                if self.production:
                    _secure_cookies(headers)
                    headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                # a traveller's status link carries its secret in the URL: never send it on as a referrer
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _secure_cookies(headers: MutableHeaders) -> None:
    cookies = headers.getlist("set-cookie")
    if all("; secure" in cookie.lower() for cookie in cookies):
        return
    del headers["set-cookie"]
    for cookie in cookies:
        headers.append("set-cookie", cookie if "; secure" in cookie.lower() else cookie + "; Secure")


def install(app: FastAPI) -> None:
    app.state.page_templates = environment()
    for module in (account, carrier, customs, consul, traveller, border, analyst, admin):
        app.include_router(module.router)

    app.add_middleware(PageHeaders, production=app.state.services.settings.production)

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, exc: SignInNeeded) -> Response:
        visit = page(request, request.app.state.services)
        return visit.redirect(sign_in_path(exc.next_path))

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, exc: PageForbidden) -> Response:
        visit = page(request, request.app.state.services)
        return visit.render(
            "pages/error.html",
            status=403,
            heading=visit._("Not for your role"),
            message=visit._("Your account's role cannot open this page. Your own pages are in the menu."),
        )

    @app.exception_handler(FormExpired)
    async def _expired(request: Request, exc: FormExpired) -> Response:
        visit = page(request, request.app.state.services)
        return visit.render(
            "pages/error.html",
            status=403,
            heading=visit._("The form has expired"),
            message=visit._("Go back, reload the page and send the form again."),
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if not _is_page(request):
            return errors.domain_problem(exc, request.url.path)
        visit = page(request, request.app.state.services)
        explained = visit.problem(exc)
        return visit.render(
            "pages/error.html",
            status=errors.status_of(exc),
            heading=explained.message,
            message="",
            detail=explained.detail,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if not _is_page(request) or exc.status_code != 404:
            return await errors.http_problem(request, exc)
        visit = page(request, request.app.state.services)
        return visit.render(
            "pages/error.html",
            status=404,
            heading=visit._("Page not found"),
            message=visit._("There is no page at this address."),
        )

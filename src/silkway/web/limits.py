"""What one client may send, and how often: body sizes, rate limits, and the sign-in lock-out's answer.

**Bodies.** `BodyLimit` refuses a request body over ``SILKWAY_MAX_BODY_BYTES`` (4 MiB; the largest legitimate
body, a declaration of 999 goods items described at length in Cyrillic, is 3.2 MB JSON-escaped), or over
``SILKWAY_MAX_UPLOAD_BYTES`` (24 MiB) on the few routes that take a photo or a PDF (`UPLOAD_PATHS`), with 413
``application/problem+json`` — on pages too: a browser only meets it with a forged form or a file far beyond
what the page's own check allows, and the page's own check answers before it does. A declared Content-Length
over the limit is refused before the body is read or the app runs; a body without one (chunked) is counted as
it arrives and refused once it goes over, before the route has it. Either way nothing is done with it.

**Rate limits.** Counted in the database (`silkway.storage.limits`), so they hold across the server's worker
processes and a restart; each answer beyond a limit is 429 problem+json with ``Retry-After``, and nothing done:

- unsuccessful sign-ins per client address and per username (``SILKWAY_SIGN_IN_PER_ADDRESS``,
  ``SILKWAY_SIGN_IN_PER_USERNAME``). Only failures count: the officers of a post behind one address all sign
  in at the change of shift, and a success costs no write. The check comes before the password is, so a
  refused guess costs one read, and tells nothing of the password or of whether the username exists;
- visa applications per client address (``SILKWAY_VISA_APPLICATIONS_PER_ADDRESS``), counted as each reaches
  the lodging: a page form sent back by its own checks does not count; an application the scheme's rules then
  refuse does, since a flood of them costs the node the same work.

**The client's address** is the ASGI client host. Behind a reverse proxy that is the proxy's own address, for
every client at once, unless uvicorn is started with ``--proxy-headers`` and ``--forwarded-allow-ips`` naming
the proxy: then it is the address the proxy saw (and an ``X-Forwarded-For`` from anyone else is ignored). An
IPv6 client is counted by its /64 network, which one subscriber holds whole.

**The lock-out** itself is the accounts' rule (`silkway.accounts.handlers.authenticate`); here it is answered:
429 with ``Retry-After`` until it ends.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from silkway.accounts.handlers import BadCredentials, SignInLocked, authenticate
from silkway.accounts.model import LockOut
from silkway.services import Services
from silkway.settings import Rate, Settings
from silkway.shared.actors import Actor
from silkway.storage.limits import Count, Tally
from silkway.web.errors import problem

UPLOAD_PATHS = frozenset({"/api/v1/verify", "/border", "/border/decode", "/customs/lookup"})
"""The routes that take a photo or a PDF, and read it with a limit of their own (8 or 20 MB)."""

TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "Too many lately (or the sign-in is locked out): nothing was done; try again after Retry-After",
        "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
        "content": {"application/problem+json": {}},
    }
}
"""The OpenAPI answer of a route with a rate limit."""

SIGN_IN_ADDRESS = "sign_in_address"
SIGN_IN_USERNAME = "sign_in_username"
VISA_APPLICATION = "visa_application"


# --- bodies -----------------------------------------------------------------------------------------------


class BodyTooLarge(StarletteHTTPException):
    """The body went over its limit while it was read. An HTTP exception so that FastAPI, reading a route's body,
    passes it on as it is; `install` answers it."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"a request body here is at most {limit} bytes")
        self.limit = limit


class BodyLimit:
    """Refuses request bodies over their limit with 413 problem+json (see the module's docstring).

    Plain ASGI, as `PageHeaders` is, and cheaper still for a body with a Content-Length: that is checked once,
    and the server (h11, httptools) holds the body to it, so its messages pass unwrapped."""

    def __init__(self, app: ASGIApp, *, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_upload if scope["path"] in UPLOAD_PATHS else self.max_body
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not (declared.isascii() and declared.isdigit()):  # `int` takes ² and ٣; HTTP does not
                await _refusal(400, "malformed_content_length", "Malformed Content-Length", declared[:40], scope)(
                    scope, receive, send
                )
            elif int(declared) > limit:
                await _too_large(limit, scope)(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return

        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            # read outside a route (where `install`'s handler answers it): answer here, if nothing was sent yet
            if started:
                raise
            await _too_large(limit, scope)(scope, receive, send)


def _too_large(limit: int, scope: Scope) -> JSONResponse:
    return _refusal(
        413, "body_too_large", "Request body too large", f"a request body here is at most {limit} bytes", scope
    )


def _refusal(status: int, code: str, title: str, detail: str, scope: Scope) -> JSONResponse:
    response = problem(status, code=code, title=title, detail=detail, instance=scope.get("path"))
    response.headers["Connection"] = "close"  # the rest of the body is not read: this connection cannot go on
    return response


# --- rate limits ------------------------------------------------------------------------------------------


class TooManyRequests(Exception):
    """A client went over a rate limit: nothing was done, and it may try again in `retry_after` seconds."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


def client_address(request: Request) -> str:
    """Who the request counts against: the client's address (an IPv6 one by its /64), or ``unknown``."""
    host = request.client.host if request.client is not None else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def lock_out_of(settings: Settings) -> LockOut:
    return LockOut(after=settings.lock_out_after, duration=timedelta(minutes=settings.lock_out_minutes))


def sign_in(services: Services, request: Request, username: str, password: str) -> Actor:
    """`authenticate`, within the sign-in limits: refused first when the client's address or the username failed
    too often lately, counted against both when it fails.

    Raises `TooManyRequests` (nothing checked), and `authenticate`'s `BadCredentials` and `SignInLocked`."""
    counts = _sign_in_counts(services.settings, request, username)
    now = services.clock.now()
    tallies = services.limits.tallies([c for c, _ in counts], now=now)
    _refuse_over(counts, tallies, now, "unsuccessful sign-ins", coming=1)
    try:
        return authenticate(
            username,
            password,
            uow=services.uow(),
            hasher=services.hasher,
            clock=services.clock,
            lock_out=lock_out_of(services.settings),
            unknown=services.limits,
        )
    except (BadCredentials, SignInLocked):
        services.limits.count([c for c, _ in counts], now=now)
        raise


def count_visa_application(services: Services, request: Request) -> None:
    """Count a visa application about to be lodged from the client's address; raises `TooManyRequests` (and it is
    not to be lodged) when that goes over the limit."""
    rate = services.settings.visa_applications_per_address
    counts = [(Count(VISA_APPLICATION, client_address(request), timedelta(seconds=rate.seconds)), rate)]
    now = services.clock.now()
    tallies = services.limits.count([c for c, _ in counts], now=now)
    _refuse_over(counts, tallies, now, "visa applications", coming=0)


def _sign_in_counts(settings: Settings, request: Request, username: str) -> list[tuple[Count, Rate]]:
    by_address, by_username = settings.sign_in_per_address, settings.sign_in_per_username
    return [
        (Count(SIGN_IN_ADDRESS, client_address(request), timedelta(seconds=by_address.seconds)), by_address),
        (Count(SIGN_IN_USERNAME, username.strip().lower(), timedelta(seconds=by_username.seconds)), by_username),
    ]


def _refuse_over(
    counts: list[tuple[Count, Rate]], tallies: list[Tally], now: datetime, what: str, *, coming: int
) -> None:
    """Raise `TooManyRequests` when any tally, with the `coming` hits not counted yet, is over its rate."""
    waits = [
        _seconds_until(ends, now)
        for (count, rate), tally in zip(counts, tallies, strict=True)
        if tally.hits + coming > rate.count and (ends := tally.ends(count.window)) is not None
    ]
    if waits:
        wait = max(waits)
        raise TooManyRequests(f"too many {what} lately; try again in {_spoken(wait)}", retry_after=wait)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _spoken(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return f"{seconds} seconds" if seconds < 120 else f"{minutes} minutes"


# --- the answers --------------------------------------------------------------------------------------------


def install(app: FastAPI, settings: Settings) -> None:
    """The body limit and the answers to a refusal; before `pages.install`, so that pages' headers wrap it."""
    app.add_middleware(BodyLimit, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes)

    @app.exception_handler(BodyTooLarge)
    async def _body(request: Request, exc: BodyTooLarge) -> JSONResponse:
        return _too_large(exc.limit, request.scope)

    @app.exception_handler(TooManyRequests)
    async def _too_many(request: Request, exc: TooManyRequests) -> JSONResponse:
        response = problem(
            429, code="too_many_requests", title="Too many requests", detail=exc.detail, instance=request.url.path
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(SignInLocked)
    async def _locked(request: Request, exc: SignInLocked) -> JSONResponse:
        response = problem(
            429,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            instance=request.url.path,
            locked_until=exc.until.isoformat(),
        )
        response.headers["Retry-After"] = str(lock_wait(exc, request.app.state.services))
        return response


def lock_wait(exc: SignInLocked, services: Services) -> int:
    """Seconds until the lock-out `exc` tells of ends (at least one)."""
    return _seconds_until(exc.until, services.clock.now())

"""Signing in and out, the landing page and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from silkway.accounts.handlers import BadCredentials, SignInLocked
from silkway.web import limits
from silkway.web.pages.base import (
    HOME_OF,
    SESSION_COOKIE,
    FormDep,
    FormProblem,
    Page,
    PageDep,
    safe_next,
)
from silkway.web.pages.problems import FALLBACK

router = APIRouter(include_in_schema=False)


@router.get("/")
def landing(visit: PageDep) -> Response:
    if visit.actor is not None:
        return visit.redirect(HOME_OF[visit.actor.role])
    services = visit.services
    return visit.render(
        "pages/landing.html",
        states=list(services.reference.member_states.values()),
        offices=len(services.reference.offices),
        crossings=len(services.reference.crossings),
        demo=not services.settings.production,
        visa_states=sorted(services.scheme.states),
    )


@router.get("/signin")
def sign_in_form(visit: PageDep, next: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    if visit.actor is not None:
        return visit.redirect(safe_next(next) or HOME_OF[visit.actor.role])
    return visit.render("pages/signin.html", next=safe_next(next) or "", username="", problem=None)


@router.post("/signin")
def sign_in(visit: PageDep, form: FormDep) -> Response:
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    back = safe_next(str(form.get("next") or ""))
    fields: dict[str, str] = {}
    if not username:
        fields["username"] = visit._("Enter your user name.")
    if not password:
        fields["password"] = visit._("Enter your password.")
    if fields:
        return visit.render(
            "pages/signin.html",
            status=422,
            next=back or "",
            username=username,
            problem=FormProblem(message=visit._("Enter your user name and password."), fields=fields, detail=""),
        )
    services = visit.services
    try:
        actor = limits.sign_in(services, visit.request, username[:100], password[:200])
    except (limits.TooManyRequests, SignInLocked, BadCredentials) as exc:
        return _refused(visit, exc, next_path=back or "", username=username)
    response = visit.redirect(back or HOME_OF[actor.role])
    response.set_cookie(
        SESSION_COOKIE,
        services.tokens.issue(actor),
        httponly=True,
        samesite="lax",
        secure=services.settings.production,
        max_age=services.settings.token_minutes * 60,
    )
    return response


def _refused(
    visit: Page, exc: limits.TooManyRequests | SignInLocked | BadCredentials, *, next_path: str, username: str
) -> Response:
    """The sign-in form again, saying why: wrong credentials (401), or wait — the lock-out or a rate limit (429,
    with Retry-After). What was typed as the user name stays."""
    if isinstance(exc, BadCredentials):
        return visit.render(
            "pages/signin.html", status=401, next=next_path, username=username, problem=visit.problem(exc)
        )
    if isinstance(exc, SignInLocked):
        problem, wait = visit.problem(exc), limits.lock_wait(exc, visit.services)
    else:
        problem, wait = FormProblem(message=visit._(FALLBACK), fields={}, detail=exc.detail), exc.retry_after
    response = visit.render("pages/signin.html", status=429, next=next_path, username=username, problem=problem)
    response.headers["Retry-After"] = str(wait)
    return response


@router.post("/signout")
def sign_out(visit: PageDep, form: FormDep) -> Response:
    response = visit.redirect("/")
    # with the flags it was set with, so that even the cookie that erases it is never sent in the clear
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=visit.services.settings.production)
    return response

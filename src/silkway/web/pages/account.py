"""Signing in and out, the landing page and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from silkway.accounts.handlers import authenticate
from silkway.shared.errors import DomainError
from silkway.web.pages.base import (
    HOME_OF,
    SESSION_COOKIE,
    FormDep,
    FormProblem,
    PageDep,
    safe_next,
)

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
        actor = authenticate(username[:100], password[:200], uow=services.uow(), hasher=services.hasher)
    except DomainError as exc:
        return visit.render(
            "pages/signin.html", status=401, next=back or "", username=username, problem=visit.problem(exc)
        )
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


@router.post("/signout")
def sign_out(visit: PageDep, form: FormDep) -> Response:
    response = visit.redirect("/")
    response.delete_cookie(SESSION_COOKIE)
    return response

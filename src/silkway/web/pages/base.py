"""What every page shares: who is signed in, the language, the CSRF token, and rendering a template.

A page is signed in by the ``silkway_session`` cookie, which holds the same signed bearer token the API
takes (HttpOnly, SameSite=Lax), so the pages and the API share one notion of an actor and its rights.

Forms are protected by a double-submit token: a random ``silkway_csrf`` cookie (HttpOnly, SameSite=Strict)
set on the first page, and the same value in each form's hidden ``csrf`` field. A cross-site form cannot
read the cookie, so it cannot send the matching field; every page POST is checked by `checked_form`.

Words in templates go through ``_()`` (and ``ngettext``), bound per request to the visitor's catalogue,
so one Jinja2 environment serves every language at once.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import AsyncIterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.datastructures import FormData

from silkway import i18n
from silkway.auth.tokens import InvalidToken
from silkway.i18n import N_ as N_  # re-exported: the pages mark their words with it
from silkway.services import Services
from silkway.shared.actors import Actor, Role
from silkway.shared.errors import DomainError
from silkway.web.deps import ServicesDep
from silkway.web.pages.problems import FormProblem as FormProblem  # re-exported: every form page shows one
from silkway.web.pages.problems import explain

SESSION_COOKIE = "silkway_session"
LANG_COOKIE = "silkway_lang"
CSRF_COOKIE = "silkway_csrf"
OFFICE_COOKIE = "silkway_office"
CSRF_FIELD = "csrf"
MAX_FORM_FIELDS = 400
"""A declaration of 99 goods items has about 500 fields; beyond that a form is refused unread."""

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


HOME_OF: Mapping[Role, str] = {
    Role.CARRIER: "/carrier/transits",
    Role.CUSTOMS: "/customs",
    Role.CONSULAR: "/consul/applications",
    Role.BORDER_GUARD: "/border",
    Role.ANALYST: "/analyst",
    Role.ADMIN: "/admin/accounts",
}
"""Where each role lands after signing in."""

NAV: Mapping[Role, tuple[tuple[str, str], ...]] = {
    Role.CARRIER: (("/carrier/transits", N_("My transits")), ("/carrier/transits/new", N_("New declaration"))),
    Role.CUSTOMS: (
        ("/customs", N_("My office")),
        ("/customs/arrivals", N_("Expected arrivals")),
        ("/customs/lookup", N_("Find a transit")),
    ),
    Role.CONSULAR: (
        ("/consul/applications", N_("Applications")),
        ("/consul/consultations", N_("Consultations")),
        ("/consul/notifications", N_("Notifications")),
    ),
    Role.BORDER_GUARD: (("/border", N_("Check a visa")),),
    Role.ANALYST: (("/analyst", N_("Dashboard")),),
    Role.ADMIN: (
        ("/admin/accounts", N_("Accounts")),
        ("/admin/offices", N_("Offices")),
        ("/admin/risk-rules", N_("Risk rules")),
        ("/analyst", N_("Dashboard")),
    ),
}
"""The menu of each role: (path, label)."""

ROLE_NAMES: Mapping[Role, str] = {
    Role.CARRIER: N_("Carrier"),
    Role.CUSTOMS: N_("Customs officer"),
    Role.BORDER_GUARD: N_("Border guard"),
    Role.CONSULAR: N_("Consular officer"),
    Role.ANALYST: N_("Analyst"),
    Role.ADMIN: N_("Administrator"),
}

LANGUAGE_NAMES: Mapping[str, str] = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
"""Each language in its own words, as a language switch shows it."""


_RENDERING_LANG: ContextVar[str] = ContextVar("silkway_page_lang", default=i18n.DEFAULT_LANGUAGE)
"""The language of the page being rendered: set around each render, so macros imported without context
speak it too."""


def _words(message: str, **values: Any) -> Markup:
    # the catalogue is ours and trusted; the values are escaped by Markup's % operator
    text = Markup(i18n.translator(_RENDERING_LANG.get()).gettext(message))  # noqa: S704 - our own catalogue
    return text % values if values else text


def _plural(singular: str, plural: str, n: int, **values: Any) -> Markup:
    lang = _RENDERING_LANG.get()
    text = Markup(i18n.translator(lang).ngettext(singular, plural, n))  # noqa: S704 - our own catalogue
    return text % {"num": i18n.format_decimal(n, lang), **values}


def environment() -> Environment:
    """The one Jinja2 environment of the pages; ``_`` and ``ngettext`` speak the language of the page being
    rendered (see `Page.render`). An undefined name is an error, never a blank."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )
    env.globals["_"] = _words
    env.globals["ngettext"] = _plural
    return env


# --- who, in which language ---------------------------------------------------------------------


def page_language(request: Request) -> str:
    """``?lang=`` if it names a language Silkway speaks, else the cookie, else Accept-Language."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in i18n.LANGUAGES:
            return candidate
    return i18n.negotiate(None, request.headers.get("accept-language"))


def session_actor(request: Request, services: Services) -> Actor | None:
    """The account signed in by the session cookie, or None (no cookie, or it is forged or expired)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return services.tokens.read(token)
    except InvalidToken:
        return None


def csrf_token(request: Request) -> str:
    """This browser's CSRF token: its cookie, or a new one that `PageCookies` will set."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return str(token)


class SignInNeeded(Exception):
    """The page needs an account; the visitor is sent to sign in and brought back to `next_path`."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageForbidden(Exception):
    """The signed-in account's role may not open this page."""


class FormExpired(Exception):
    """A form came back without this browser's CSRF token (a forged cross-site post, or a stale tab)."""


# --- the page object ----------------------------------------------------------------------------


@dataclass(slots=True)
class Page:
    """One request to a page: the services, the visitor, their language and their CSRF token."""

    request: Request
    services: Services
    actor: Actor | None
    lang: str
    csrf: str
    cookies: dict[str, str] = field(default_factory=dict)

    # words and numbers in the visitor's language

    def _(self, message: str, **values: Any) -> str:
        text = i18n.translator(self.lang).gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        text = i18n.translator(self.lang).ngettext(singular, plural, n)
        return text % {"num": self.number(n), **values}  # written as the templates' ngettext writes it

    def date(self, value: date | datetime | None) -> str:
        return "" if value is None else i18n.format_date(value, self.lang)

    def datetime(self, value: datetime | None) -> str:
        return "" if value is None else i18n.format_datetime(value, self.lang)

    def number(self, value: Decimal | int | float | None) -> str:
        return "" if value is None else i18n.format_decimal(value, self.lang)

    def problem(self, error: DomainError) -> FormProblem:
        """`error` as a form shows it: a sentence in the visitor's language, and the fields to fix."""
        return explain(error, self._)

    # answers

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        env: Environment = self.request.app.state.page_templates
        bound = _RENDERING_LANG.set(self.lang)
        try:
            html = env.get_template(template).render(
                page=self,
                actor=self.actor,
                lang=self.lang,
                languages=LANGUAGE_NAMES,
                nav=self.nav(),
                role_name=None if self.actor is None else self._(ROLE_NAMES[self.actor.role]),
                csrf_field=Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, self.csrf),
                path=self.request.url.path,
                **context,
            )
        finally:
            _RENDERING_LANG.reset(bound)
        response = HTMLResponse(html, status_code=status)
        self._apply(response)
        return response

    def redirect(self, to: str) -> RedirectResponse:
        """After a successful POST: see-other to the page that shows the result (no resubmit on reload)."""
        response = RedirectResponse(to, status_code=303)
        self._apply(response)
        return response

    def nav(self) -> list[tuple[str, str]]:
        if self.actor is None:
            return []
        return [(path, self._(label)) for path, label in NAV[self.actor.role]]

    def _apply(self, response: Response) -> None:
        for name, value in self.cookies.items():
            response.set_cookie(name, value, httponly=True, samesite="lax", max_age=365 * 24 * 3600)


def page(request: Request, services: ServicesDep) -> Page:
    lang = page_language(request)
    visit = Page(
        request=request,
        services=services,
        actor=session_actor(request, services),
        lang=lang,
        csrf=csrf_token(request),
    )
    if request.query_params.get("lang") == lang:
        visit.cookies[LANG_COOKIE] = lang
    return visit


PageDep = Annotated[Page, Depends(page)]


def signed_in(*roles: Role) -> Any:
    """A dependency: the page, when its visitor is signed in with one of `roles` (any role if none given)."""

    def check(visit: PageDep) -> Page:
        if visit.actor is None:
            raise SignInNeeded(
                visit.request.url.path + (f"?{visit.request.url.query}" if visit.request.url.query else "")
            )
        if roles and visit.actor.role not in roles:
            raise PageForbidden(visit.actor.role.value)
        return visit

    return Depends(check)


async def checked_form(request: Request) -> AsyncIterator[FormData]:
    """The POSTed form, once its CSRF field matches this browser's cookie; raises `FormExpired` otherwise.
    Its uploaded files are closed when the page has answered, or at once when the form is refused."""
    form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=1)
    try:
        sent = form.get(CSRF_FIELD)
        cookie = request.cookies.get(CSRF_COOKIE)
        if not isinstance(sent, str) or not cookie or not hmac.compare_digest(sent, cookie):
            raise FormExpired
        yield form
    finally:
        await form.close()


FormDep = Annotated[FormData, Depends(checked_form)]


def sign_in_path(next_path: str) -> str:
    return "/signin?next=" + quote(next_path, safe="/")


def safe_next(next_path: str | None) -> str | None:
    """`next_path` when it is a path on this site (never another host: no open redirect)."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path:
        return None
    return next_path

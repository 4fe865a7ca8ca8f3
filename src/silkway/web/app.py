"""The FastAPI application factory. It receives wired services; it never builds them."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from silkway import __version__
from silkway.services import Services
from silkway.web import errors
from silkway.web.api import admin, auth, documents, reference, transits, trust, visas

HERE = Path(__file__).parent

DESCRIPTION = """
Silkway lets a consignment be **declared once, inspected once, and recognised at every later border**
of the member states (KZ, UZ, KG, TJ, TM, AZ).

Sign in with `POST /api/v1/auth/token` (demo accounts: `carrier-kz`, `customs-kz`, `customs-uz`, ...,
password `demo`) and send `Authorization: Bearer <token>`. Errors are RFC 9457 `application/problem+json`.
Every POST accepts an `Idempotency-Key` header.
"""


def create_app(services: Services) -> FastAPI:
    app = FastAPI(
        title="Silkway",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.services = services
    errors.install(app)

    api = APIRouter(prefix="/api/v1")
    for module in (auth, reference, transits, documents, trust, visas, admin):
        api.include_router(module.router)
    app.include_router(api)

    templates = Jinja2Templates(directory=HERE / "templates")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            "home.html",
            {
                "states": list(services.reference.member_states.values()),
                "offices": len(services.reference.offices),
                "crossings": len(services.reference.crossings),
                "demo": not services.settings.production,
            },
        )

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app

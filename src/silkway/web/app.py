"""The FastAPI application factory. It receives wired services; it never builds them."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from silkway import __version__
from silkway.services import Services
from silkway.web import errors, limits, pages
from silkway.web.api import admin, auth, documents, exchange, reference, transits, trust, visas

HERE = Path(__file__).parent

DESCRIPTION = """
Silkway lets a consignment be **declared once, inspected once, and recognised at every later border**
of the member states (KZ, UZ, KG, TJ, TM, AZ).

Sign in with `POST /api/v1/auth/token` (demo accounts: `carrier-kz`, `customs-kz`, `customs-uz`, ...,
password `demo`) and send `Authorization: Bearer <token>`. Errors are RFC 9457 `application/problem+json`.
Every POST accepts an `Idempotency-Key` header.
"""


Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(services: Services, *, lifespan: Lifespan | None = None) -> FastAPI:
    """The app over wired `services`; `lifespan` runs beside it (a federated node's exchange with its peers)."""
    app = FastAPI(
        lifespan=lifespan,
        title="Silkway",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.services = services
    errors.install(app)
    limits.install(app, services.settings)  # before the pages, whose headers wrap its refusals

    api = APIRouter(prefix="/api/v1", responses=errors.PROBLEM_RESPONSES)
    for module in (auth, reference, transits, documents, trust, visas, admin, exchange):
        api.include_router(module.router)
    app.include_router(api)

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    pages.install(app)

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app

"""Every error leaves as RFC 9457 problem+json, mapped here in one place."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from silkway.shared.errors import (
    Conflict,
    DomainError,
    IdempotencyKeyReused,
    IllegalState,
    InvalidInput,
    NotFound,
    NotPermitted,
    RecordsAltered,
    ServiceUnavailable,
    StorageFull,
)
from silkway.transit.errors import ActionNotAllowed

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
TYPE_BASE = "https://silkway.example/problems/"

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "description": "The request was refused: an RFC 9457 problem saying why (`code`), and which fields (`errors`)",
        "content": {
            PROBLEM: {
                "schema": {
                    "type": "object",
                    "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": {"type": "string", "format": "uri"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "code": {"type": "string"},
                        "instance": {"type": "string"},
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                            },
                        },
                    },
                }
            }
        },
    }
}
"""Every API operation's error answers, as /openapi.json lists them."""

_STATUS: list[tuple[type[DomainError], int]] = [
    (IdempotencyKeyReused, 422),
    (NotFound, 404),
    (InvalidInput, 422),
    (NotPermitted, 403),
    (IllegalState, 409),
    (Conflict, 409),
]


def status_of(error: DomainError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 400


def problem(
    status: int, *, code: str, title: str, detail: str, instance: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def domain_problem(error: DomainError, instance: str | None = None) -> JSONResponse:
    extra: dict[str, Any] = {"code": error.code}
    if error.fields:
        extra["errors"] = [{"field": field, "message": message} for field, message in error.fields.items()]
    if isinstance(error, ActionNotAllowed):  # tell the state and what it allows
        extra["current_status"] = error.status
        extra["allowed_actions"] = list(error.allowed)
    if error.code in ("invalid_token", "bad_credentials"):
        return problem(401, title=error.title, detail=error.detail, instance=instance, **extra)
    return problem(status_of(error), title=error.title, detail=error.detail, instance=instance, **extra)


async def http_problem(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(exc.status_code, "http_error")
    return problem(
        exc.status_code,
        code=code,
        title=str(exc.detail),
        detail=str(exc.detail),
        instance=request.url.path,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return domain_problem(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"]} for e in exc.errors()
        ]
        return problem(
            422,
            code="validation_error",
            title="Invalid input",
            detail="; ".join(f"{e['field']}: {e['message']}" for e in errors[:10]),
            instance=request.url.path,
            errors=errors,
        )

    app.add_exception_handler(StarletteHTTPException, http_problem)  # type: ignore[arg-type]

    @app.exception_handler(ServiceUnavailable)
    async def _unavailable(request: Request, exc: ServiceUnavailable) -> JSONResponse:
        log.warning("service unavailable: %s", exc)
        response = problem(
            503, code="unavailable", title="Service unavailable", detail=str(exc), instance=request.url.path
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(StorageFull)
    async def _storage_full(request: Request, exc: StorageFull) -> JSONResponse:
        # an operator must free space: say so plainly, not "unavailable", which invites retrying at once
        log.error("the node's disk is full: %s", exc)
        response = problem(
            507, code="storage_full", title="Insufficient storage", detail=str(exc), instance=request.url.path
        )
        response.headers["Retry-After"] = "60"
        return response

    @app.exception_handler(RecordsAltered)
    async def _altered(request: Request, exc: RecordsAltered) -> JSONResponse:
        log.error("stored records fail their integrity check: %s", exc)
        return problem(
            500,
            code="records_altered",
            title="Stored records were altered",
            detail=f"{exc} Nothing was done with them; report this to the node's security officer.",
            instance=request.url.path,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(
            500,
            code="internal_error",
            title="Internal error",
            detail="Something went wrong on our side; nothing was recorded.",
            instance=request.url.path,
        )

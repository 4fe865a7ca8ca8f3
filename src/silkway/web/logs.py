"""What the server logs about requests, with the secrets and personal data of addresses left out.

Uvicorn's access log writes each request's path and query string. Silkway's addresses carry secrets there —
a traveller's status link (``/visa/status/<id>?token=…``), and passport numbers and names looked up by the
public checks (``/api/v1/visas/<number>/stay?passport_number=…``, ``/visa/apply/mrz-name?surname=…``). Only the
values of query parameters known to be harmless are logged; every other value becomes ``***``, so a parameter
added tomorrow is hidden until someone decides it is safe. Paths themselves hold no secrets: application ids,
visa numbers and MRNs name records, and reading any of them takes a token or a signed-in officer.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Literal, get_args

ACCESS_LOGGER = "uvicorn.access"
HIDDEN = "***"
SAFE_PARAMETERS = frozenset(
    {
        "lang",
        "format",
        "status",
        "limit",
        "offset",
        "page",
        "view",
        "days",
        "office",
        "country",
        "tree_size",
        "first",
        "second",
        "start",
        "end",
        "leaf_hash",
    }
)
"""Query parameters whose values say nothing about a person and open nothing: logged as they came."""
LogLevel = Literal["critical", "error", "warning", "info", "debug"]
"""The log levels `silkway serve` offers. Not uvicorn's ``trace``: it logs every request's scope, query
string included, past any filter on the access log."""
LEVELS: tuple[str, ...] = get_args(LogLevel)


def redact_target(target: str) -> str:
    """A request target (path and query string, as uvicorn logs it) with the values of all but the safe
    query parameters replaced by ``***``; a parameter without ``=`` is hidden whole."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    parts = []
    for part in query.split("&"):
        name, eq, _ = part.partition("=")
        if not eq:
            parts.append(HIDDEN if part else part)
        elif name in SAFE_PARAMETERS:
            parts.append(part)
        else:
            parts.append(f"{name}={HIDDEN}")
    return f"{path}?{'&'.join(parts)}"


class HideQueryValues(logging.Filter):
    """On uvicorn's access logger: its records carry ``(client, method, target, http_version, status)``;
    the target is logged through `redact_target`. Other records pass untouched."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact_target(args[2]), args[3], args[4])
        return True


def redact_access_log() -> None:
    """Put `HideQueryValues` on uvicorn's access logger, once (the app factory calls it in each worker)."""
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, HideQueryValues) for f in access.filters):
        access.addFilter(HideQueryValues())


def log_config(level: LogLevel) -> dict[str, Any]:
    """Uvicorn's logging configuration, with Silkway's own loggers at `level` beside uvicorn's.

    On a level that is not one of `LEVELS`, raises `ValueError`."""
    from uvicorn.config import LOGGING_CONFIG

    if level not in LEVELS:
        raise ValueError(f"a log level is one of {', '.join(LEVELS)}, not {level!r}")
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["silkway"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return config

"""The Center API's error answers: one JSON shape, a 4xx for anything the caller got wrong.

``{"error": {"type": "PersonMismatch", "field": "person.pinfl", "message": "…", "problems":
[{"field": …, "reason": …}]}}``. 422: invalid input (pydantic or a domain rule); 404: unknown
card, person, point or route; 401: a served Center without the point's client certificate;
403: another point's data; 409: a conflict with the registry (a known PINFL with another
person's data, a status transition the card does not allow, an exhausted PINFL block); 503: the
database is not reachable. Never a traceback: an unexpected failure is a bare 500 body.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from station.center.errors import (
    CenterError,
    Conflict,
    NotFound,
    NotYourPoint,
    PointUnauthenticated,
)
from station.db import ConstraintError
from station.domain.errors import DomainError, TransitionError
from station.errors import StationError

__all__ = ["error_response", "install_error_handlers", "status_of"]

log = logging.getLogger(__name__)


def status_of(exc: StationError) -> int:
    """The HTTP status of a refusal of the Center's services."""
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, PointUnauthenticated):
        return 401
    if isinstance(exc, NotYourPoint):
        return 403
    if isinstance(exc, Conflict | TransitionError | ConstraintError):
        return 409
    if isinstance(exc, DomainError | CenterError):
        return 422
    return 503  # a StationError from below: the database, the CA


def error_response(
    status: int, kind: str, field: str, message: str, problems: Sequence[tuple[str, str]] = ()
) -> JSONResponse:
    body = {
        "type": kind,
        "field": field,
        "message": message,
        "problems": [{"field": f, "reason": r} for f, r in (problems or [(field, message)])],
    }
    return JSONResponse({"error": body}, status_code=status)


def _field_of(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "path", "query"):
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        # pydantic's message, never the input value (it may be a person's data)
        problems.append((_field_of(err.get("loc", ())), str(err.get("msg", "invalid"))))
    if not problems:
        problems = [("body", "invalid request")]
    field, reason = problems[0]
    return error_response(422, "DomainError", field, reason, problems)


async def _station(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StationError)
    field = getattr(exc, "field", "")
    reason = getattr(exc, "reason", str(exc))
    problems = getattr(exc, "problems", ((field, reason),))
    status = status_of(exc)
    if status == 503:
        log.warning("service unavailable: %s", exc)
        return error_response(503, type(exc).__name__, "", "the Center cannot serve now")
    return error_response(status, type(exc).__name__, field, reason, problems)


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
    return error_response(exc.status_code, kind, "path", str(exc.detail))


async def _internal(_: Request, exc: Exception) -> JSONResponse:
    log.error("internal error: %s", type(exc).__name__)
    return error_response(500, "InternalError", "", "internal error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StationError, _station)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _internal)

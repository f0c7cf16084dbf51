"""The service's errors and the single place that renders them as problem+json (RFC 9457).

::

    ServiceError                 any error the service raises on purpose (status 500)
    ├── InvalidInputError        a request that is well-formed JSON but unusable (422)
    ├── NotFoundError            no such resource (404)
    ├── ConflictError            the resource is not in a state that allows this (409)
    ├── TooManyRequestsError     a client's rate or queue quota is spent (429, Retry-After)
    └── DependencyUnavailableError  the job database, the queue or their disk is down (503)

The errors of the dependencies themselves (SQLAlchemy's connection-level errors, SQLite's
"database or disk is full", Redis's connection errors and timeouts) become a
``DependencyUnavailableError`` wherever they come from, with ``Retry-After``; the others
remain bugs (500).

Framework errors (request validation, 404, 405) and anything unexpected are rendered by the
same handlers, so every 4xx and 5xx body is ``application/problem+json`` with ``type``,
``title``, ``status``, ``detail`` and ``instance``; validation problems add ``errors``, a list
of ``{loc, msg, type}`` whose ``loc`` names the field and, where one applies, the index.
"""

from __future__ import annotations

import logging
import math
import sqlite3
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import redis.exceptions
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.jobs.wiring import dependency_failure

__all__ = [
    "PROBLEM_JSON",
    "ConflictError",
    "DependencyUnavailableError",
    "InvalidInputError",
    "NotFoundError",
    "ServiceError",
    "TooManyRequestsError",
    "install_problem_handlers",
    "problem_response",
    "service_problem",
    "validation_problem",
]

PROBLEM_JSON = "application/problem+json"
_log = logging.getLogger("app.errors")

Loc = list[str | int]
# RFC 9110 names; Python's http module still has the older ones.
_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


class ServiceError(Exception):
    """An error the service raises on purpose; rendered with its status and title."""

    status: int = 500
    title: str = "Internal Server Error"
    headers: dict[str, str] | None = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def errors(self) -> list[dict[str, Any]] | None:
        return None


class InvalidInputError(ServiceError):
    """A value the service cannot use; ``loc`` names the field (and index) at fault."""

    status = 422
    title = _TITLES[422]

    def __init__(self, loc: Sequence[str | int], msg: str, kind: str = "invalid") -> None:
        self.loc: Loc = ["body", *loc]
        self.msg = msg
        self.kind = kind
        super().__init__(f"{_describe(self.loc)}: {msg}")

    def errors(self) -> list[dict[str, Any]]:
        return [{"loc": self.loc, "msg": self.msg, "type": self.kind}]


class NotFoundError(ServiceError):
    status = 404
    title = "Not Found"


class ConflictError(ServiceError):
    status = 409
    title = "Conflict"


class TooManyRequestsError(ServiceError):
    """A client asked too often, or has too much queued; ``Retry-After`` says when to retry
    (whole seconds, at least 1)."""

    status = 429
    title = "Too Many Requests"

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(max(1, math.ceil(retry_after)))}


class DependencyUnavailableError(ServiceError):
    """A dependency does not answer or takes no writes; the client should retry later."""

    status = 503
    title = "Service Unavailable"


def _describe(loc: Loc) -> str:
    """``["body", "p", 3]`` -> ``p[3]``."""
    parts = [str(x) for x in loc if x != "body"]
    if not parts:
        return "request body"
    name, rest = parts[0], parts[1:]
    return name + "".join(f"[{x}]" for x in rest)


def problem_response(
    status: int,
    detail: str,
    instance: str,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    error_count: int | None = None,
) -> JSONResponse:
    """Build an ``application/problem+json`` response (``errors``: the first few of
    ``error_count``, by default all of them)."""
    phrase = _TITLES.get(status) or HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors is not None:
        body["errors"] = errors
        body["error_count"] = len(errors) if error_count is None else error_count
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


MAX_REPORTED_ERRORS = 20


class CappedValidationError(RequestValidationError):
    """Request validation errors of which only the first ``MAX_REPORTED_ERRORS`` are kept,
    with their total: a million bad numbers must not cost a million error objects."""

    def __init__(self, errors: Sequence[Any], total: int | None = None) -> None:
        super().__init__(list(errors[:MAX_REPORTED_ERRORS]))
        self.total = len(errors) if total is None else total


def _printable(part: Any) -> str | int:
    """A location part as JSON can carry it: a lone surrogate in a label becomes its escape."""
    if isinstance(part, int):
        return part
    text = str(part)
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode()


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in list(exc.errors())[:MAX_REPORTED_ERRORS]:
        loc: Loc = [_printable(x) for x in err.get("loc", ())]
        index = (err.get("ctx") or {}).get("index")
        if isinstance(index, tuple | list):
            loc.extend(_printable(x) for x in index)
        elif index is not None:
            loc.append(_printable(index))
        msg, kind = _printable(str(err.get("msg", ""))), str(err.get("type"))
        out.append({"loc": loc, "msg": msg, "type": kind})
    return out


def validation_problem(exc: RequestValidationError, instance: str) -> JSONResponse:
    """422 problem+json for request validation errors (the first few, with their count)."""
    errors = _validation_errors(exc)
    total = exc.total if isinstance(exc, CappedValidationError) else len(exc.errors())
    detail = f"{_describe(errors[0]['loc'])}: {errors[0]['msg']}" if errors else "invalid request"
    if total > len(errors):
        detail += f" (and {total - 1} more errors; the first {len(errors)} are listed)"
    return problem_response(422, detail, instance, errors=errors, error_count=total)


def service_problem(
    exc: ServiceError, instance: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """problem+json for an error the service raised on purpose, with its status and title."""
    return problem_response(
        exc.status,
        exc.detail,
        instance,
        title=exc.title,
        errors=exc.errors(),
        headers={**(exc.headers or {}), **(headers or {})} or None,
    )


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return validation_problem(exc, request.url.path)


async def _on_service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    headers = None
    if isinstance(exc, DependencyUnavailableError):
        headers = {"Retry-After": str(retry_after(request))}
    return service_problem(exc, request.url.path, headers)


def retry_after(request: Request) -> int:
    """Seconds a client should wait before retrying when a dependency is down."""
    settings = getattr(request.app.state, "settings", None)
    return int(getattr(settings, "dependency_retry_after", 5))


# Raised by SQLAlchemy, the embedded queue's sqlite3, Redis, or the file system.
_DEPENDENCY_ERRORS: tuple[type[Exception], ...] = (
    sqlalchemy.exc.SQLAlchemyError,
    sqlite3.Error,
    redis.exceptions.RedisError,
    OSError,
)


async def _on_dependency_error(request: Request, exc: Exception) -> JSONResponse:
    """A dependency's own error: 503 when it says the dependency is down, else a bug (500)."""
    what = dependency_failure(exc)
    if what is None:
        return await _on_unexpected(request, exc)
    _log.warning("%s %s: %s: %s", request.method, request.url.path, what, _one_line(exc))
    unavailable = DependencyUnavailableError(f"{what}; try again later")
    return await _on_service_error(request, unavailable)


def _one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text.splitlines()[0][:300] if text else type(exc).__name__


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """Every method the app routes for this path (Starlette names only the first route's).

    Each method is tried against the app's routes, included routers too: a route that fully
    matches the path with that method allows it."""
    from starlette.routing import Match

    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.routes
        )
    ]
    return ", ".join(allowed)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return problem_response(exc.status_code, str(exc.detail), request.url.path, headers=headers)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(500, "the service failed to handle this request", request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error the app can produce as problem+json."""
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(ServiceError, _on_service_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    for kind in _DEPENDENCY_ERRORS:
        app.add_exception_handler(kind, _on_dependency_error)
    app.add_exception_handler(Exception, _on_unexpected)

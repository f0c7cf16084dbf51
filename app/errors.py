"""The service's errors and the single place that renders them as problem+json (RFC 9457).

::

    ServiceError                 any error the service raises on purpose (status 500)
    ├── InvalidInputError        a request that is well-formed JSON but unusable (422)
    ├── NotFoundError            no such resource (404)
    └── ConflictError            the resource is not in a state that allows this (409)

Framework errors (request validation, 404, 405) and anything unexpected are rendered by the
same handlers, so every 4xx and 5xx body is ``application/problem+json`` with ``type``,
``title``, ``status``, ``detail`` and ``instance``; validation problems add ``errors``, a list
of ``{loc, msg, type}`` whose ``loc`` names the field and, where one applies, the index.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "PROBLEM_JSON",
    "ConflictError",
    "InvalidInputError",
    "NotFoundError",
    "ServiceError",
    "install_problem_handlers",
    "problem_response",
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
) -> JSONResponse:
    """Build an ``application/problem+json`` response."""
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
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc: Loc = [x if isinstance(x, int | str) else str(x) for x in err.get("loc", ())]
        index = (err.get("ctx") or {}).get("index")
        if isinstance(index, tuple | list):
            loc.extend(index)
        elif index is not None:
            loc.append(index)
        out.append({"loc": loc, "msg": str(err.get("msg", "")), "type": str(err.get("type"))})
    return out


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc)
    detail = f"{_describe(errors[0]['loc'])}: {errors[0]['msg']}" if errors else "invalid request"
    return problem_response(422, detail, request.url.path, errors=errors)


async def _on_service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return problem_response(
        exc.status,
        exc.detail,
        request.url.path,
        title=exc.title,
        errors=exc.errors(),
        headers=exc.headers,
    )


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
    app.add_exception_handler(Exception, _on_unexpected)

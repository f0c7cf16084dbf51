"""The ASGI application: ``app.main:app``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.api import health, measures
from app.api.problems import Problem
from app.errors import install_problem_handlers

__all__ = ["app", "create_app"]

DESCRIPTION = """
Exact information measures over HTTP: self-information, entropy, cross-entropy,
Kullback-Leibler and Jensen-Shannon divergence, in bits, nats or bans.

Distributions are arrays, label maps, or batches (arrays of rows). Infinite values are
reported as the string `"Infinity"` together with the events that caused them. Errors are
`application/problem+json`.
"""


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(
            Problem.model_json_schema(ref_template="#/components/schemas/{model}").pop("$defs", {})
        )
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        components["Problem"].pop("$defs", None)
        app.openapi_schema = schema
    return app.openapi_schema


def create_app() -> FastAPI:
    """Build the application: routers, problem+json handlers, OpenAPI document."""
    app = FastAPI(title="Divergence service", version="0.1.0", description=DESCRIPTION)
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(measures.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


app = create_app()

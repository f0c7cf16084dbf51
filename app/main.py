"""The ASGI application: ``app.main:app``."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.api import datasets, experiments, health, losses, measures, modelfit, plots
from app.api import drift as drift_monitoring
from app.api import estimators as estimates
from app.api import joint as joint_tables
from app.api import matrix as matrices
from app.api import parametric as parametric_laws
from app.api import samples as sample_sets
from app.api.docs import install_docs
from app.api.limits import SizeLimits
from app.api.metrics import Metrics
from app.api.security import KeyGate, make_rate_limiter
from app.config import Settings, get_settings
from app.errors import install_problem_handlers
from app.infotheory import set_kernel_threads
from app.jobs.drift_store import DriftStore
from app.jobs.reaper import reap_forever
from app.jobs.wiring import get_queue, get_store
from app.measures import MEASURES
from app.schemas.problems import Problem

__all__ = ["app", "create_app"]

log = logging.getLogger("app")
try:
    VERSION = version("divergence-service")  # read from client/VERSION, the one version
except PackageNotFoundError:  # run from a source tree that was not installed: the file itself
    VERSION = (Path(__file__).resolve().parents[1] / "client" / "VERSION").read_text().strip()

DESCRIPTION = """
Exact information measures over HTTP: self-information, entropy, cross-entropy,
Kullback-Leibler and Jensen-Shannon divergence, in bits, nats or bans; and training-loss
comparison experiments (the same ConvNet trained with KL divergence and with categorical
cross-entropy) run by background workers.

Distributions are arrays, label maps, or batches (arrays of rows). Infinite values are
reported as the string `"Infinity"` together with the events that caused them. Errors are
`application/problem+json`.
"""


_REF = "#/components/schemas/{model}"


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(problem.pop("$defs", {}))
        components["Problem"] = problem
        # the numeric endpoints are raw ASGI routes, which FastAPI does not document: their
        # operations and models come from the measure registry
        schema.setdefault("paths", {}).update(measures.operations())
        schema["paths"].update(matrices.operations())  # raw ASGI too
        requests = {m.request for m in MEASURES} | set(matrices.REQUEST_MODELS)
        responses = {m.response for m in MEASURES} | set(matrices.RESPONSE_MODELS)
        modes: tuple[tuple[Literal["validation", "serialization"], set[Any]], ...] = (
            ("validation", requests),
            ("serialization", responses),
        )
        for mode, models in modes:
            for model in sorted(models, key=lambda model: model.__name__):
                model_schema = model.model_json_schema(ref_template=_REF, mode=mode)
                components.update(model_schema.pop("$defs", {}))
                components[model.__name__] = model_schema
        app.openapi_schema = schema
    return app.openapi_schema


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # reap jobs of dead workers even when no worker is left to do it
    settings: Settings = app.state.settings
    stop = threading.Event()
    reaper = threading.Thread(
        target=reap_forever, args=(settings, stop), name="reaper", daemon=True
    )
    reaper.start()
    try:
        yield
    finally:
        stop.set()


class _MetricsMiddleware:
    """Adapter so that ``app.add_middleware`` can install the metrics ASGI wrapper."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.wrapped = metrics.middleware(app)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.wrapped(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application: routers, problem+json handlers, OpenAPI document."""
    app = FastAPI(
        title="Divergence service",
        version=VERSION,
        description=DESCRIPTION,
        lifespan=_lifespan,
        docs_url=None,
        redoc_url=None,
        # FastAPI's native OpenTelemetry hooks look up three global providers on every request
        # (about 5 us of a 35 us numeric request) only to find none: this service installs no
        # OpenTelemetry SDK and exports its own Prometheus metrics (/metrics)
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings = settings or get_settings()
    set_kernel_threads(settings.kernel_threads or os.cpu_count() or 1)  # one pool per process

    def read_jobs() -> tuple[dict[str, int], int]:
        return get_store(settings).count_by_status(), get_queue(settings).depth()

    def read_drift(limit: int) -> list[tuple[str, str, dict[str, Any]]]:
        return DriftStore(get_store(settings)).latest(limit)

    app.state.metrics = Metrics(read_jobs, read_drift, settings.drift_metrics_max_series)
    app.state.experiment_rate = make_rate_limiter(settings)
    app.add_middleware(
        SizeLimits,
        json_bytes=settings.max_json_bytes,
        binary_bytes=settings.max_binary_bytes,
        document_bytes=settings.max_document_bytes,
        numeric_paths=frozenset(measures.ENDPOINTS) | {matrices.PATH},
        read_timeout=settings.body_read_timeout,
    )
    # outside the size limits: a keyed request without a valid key is refused (401/403)
    # before anything else looks at it or reads its body
    app.add_middleware(KeyGate, settings=settings)
    app.add_middleware(_MetricsMiddleware, metrics=app.state.metrics)
    install_problem_handlers(app)
    # the numeric endpoints first, in the app's own router (not an included one): the hot
    # paths are matched first, once, by one dict lookup
    app.router.routes.insert(0, measures.NumericRoutes(measures.routes))
    routers = (
        health,
        modelfit,
        losses,
        plots,
        experiments,
        datasets,
        joint_tables,
        sample_sets,
        matrices,
        parametric_laws,
        estimates,
        drift_monitoring,
    )
    for module in routers:
        app.include_router(module.router)
    # requests refused before routing (413, 415) are counted under their path's template
    app.state.metrics.templates = [
        *measures.routes,
        *(route for module in routers for route in module.router.routes if hasattr(route, "path")),
    ]
    for module in routers:
        for route in module.router.routes:
            if isinstance(route, APIRoute) and route.summary is None:
                route.summary = _summary(route)
    install_docs(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


_ACRONYMS = {"kl": "KL", "js": "JS", "svg": "SVG", "png": "PNG"}


def _summary(route: APIRoute) -> str:
    """An operation's title in the docs when its route gives none: the function's name in
    words, acronyms kept ("KL divergence", where FastAPI would show "Kl Divergence")."""
    words = [_ACRONYMS.get(w, w) for w in route.name.split("_")]
    first = words[0] if words[0].isupper() else words[0].capitalize()
    return " ".join([first, *words[1:]])


app = create_app()

"""Liveness, readiness and metrics."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from app.api.deps import SettingsDep
from app.api.metrics import CONTENT_TYPE
from app.errors import problem_response
from app.jobs.wiring import dependency_failure, get_queue, get_store

__all__ = ["WorkerProbe", "router"]

log = logging.getLogger("app.health")

# Set as ``app.state.worker_probe`` by a process that supervises a worker (``python -m app``):
# answers "ok", or why the worker is not serving.
WorkerProbe = Callable[[], str]

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    """The process is alive and serving."""
    return Health(status="ok")


def _check(probe: Callable[[], object]) -> str:
    """``ok``, or what is wrong in a few words (no server internals)."""
    try:
        probe()
        return "ok"
    except Exception as exc:
        what = dependency_failure(exc) or f"failed ({type(exc).__name__})"
        log.warning("readiness: %s: %s", what, f"{type(exc).__name__}: {exc}".splitlines()[0])
        return what


@router.get(
    "/readyz",
    summary="Readiness",
    response_model=Readiness,
    responses={
        503: {
            "description": "A dependency does not answer or takes no writes, or (`python -m "
            "app`) its worker is not running (problem+json, with `Retry-After`)."
        }
    },
)
def readyz(request: Request, settings: SettingsDep) -> Any:
    """The job database takes a write, the queue answers and, where `python -m app`
    supervises a worker, that worker is alive."""
    checks = {
        "database": _check(lambda: get_store(settings).check_writable()),
        "queue": _check(lambda: get_queue(settings).ping()),
    }
    worker: WorkerProbe | None = getattr(request.app.state, "worker_probe", None)
    if worker is not None:
        checks["worker"] = worker()
    if all(v == "ok" for v in checks.values()):
        return Readiness(status="ready", checks=checks)
    failing = "; ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok")
    headers = {"Retry-After": str(settings.dependency_retry_after)}
    return problem_response(503, f"not ready: {failing}", request.url.path, headers=headers)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format."}},
)
def metrics(request: Request) -> Response:
    """Request counts and latencies, jobs by status, queue depth (Prometheus)."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)

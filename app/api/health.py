"""Liveness, readiness and metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from app.api.deps import QueueDep, StoreDep
from app.errors import problem_response
from app.metrics import CONTENT_TYPE

__all__ = ["router"]

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is alive and serving."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"description": "A dependency does not answer (problem+json)."}},
)
def readyz(request: Request, store: StoreDep, queue: QueueDep) -> Any:
    """The job database and the queue both answer."""
    checks: dict[str, str] = {}
    for name, ping in (("database", store.ping), ("queue", queue.ping)):
        try:
            ping()
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"{type(exc).__name__}: {exc}"[:300]
    if all(v == "ok" for v in checks.values()):
        return Readiness(status="ready", checks=checks)
    failing = ", ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok")
    return problem_response(503, f"not ready: {failing}", request.url.path)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format."}},
)
def metrics(request: Request) -> Response:
    """Request counts and latencies, jobs by status, queue depth (Prometheus)."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)

"""``/v1/experiments``: submit, inspect, follow, cancel and delete loss-comparison jobs.

Every job belongs to the client that submitted it (:class:`app.security.Caller`): another
client's job answers 404 exactly as a missing one does, and lists show one's own jobs; an
admin key sees and changes all of them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from app.api.deps import QueueDep, SettingsDep, StoreDep
from app.api.problems import AUTH_PROBLEMS, JOB_PROBLEMS
from app.errors import ConflictError, InvalidInputError, NotFoundError
from app.jobs.store import JobStore, QueueFullError
from app.jobs.wiring import enqueue_new
from app.schemas.experiments import (
    FINISHED,
    Experiment,
    ExperimentConfig,
    ExperimentList,
    JobStatus,
    Progress,
    Status,
)
from app.security import Caller, TooManyRequestsError, caller
from app.services.experiment_plot import experiment_svg
from app.services.experiments import check_limits, to_resource

__all__ = ["router"]

router = APIRouter(prefix="/v1/experiments", tags=["experiments"], responses=JOB_PROBLEMS)

EXAMPLES: dict[str, dict[str, Any]] = {
    "synthetic": {
        "summary": "A quick run on the synthetic data set (offline, about a minute)",
        "value": {
            "dataset": "synthetic",
            "losses": ["kl_divergence", "categorical_crossentropy"],
            "epochs": 3,
            "batch_size": 100,
            "train_samples": 2000,
            "test_samples": 500,
            "seed": 1,
        },
    },
    "article": {
        "summary": "The article's experiment on CIFAR-10 (25 epochs, batch 250)",
        "value": {"dataset": "cifar10", "epochs": 25, "batch_size": 250},
    },
}
Config = Annotated[ExperimentConfig, Body(openapi_examples=EXAMPLES)]


def _missing(job_id: str) -> NotFoundError:
    return NotFoundError(f"no experiment {job_id}")


def _load(store: JobStore, job_id: str, who: Caller) -> Experiment:
    job = store.get(job_id)
    if job is None or not who.may_see(job.owner):
        raise _missing(job_id)
    return to_resource(job, store.epochs(job_id), who.admin)


def _scope(who: Caller) -> str | None:
    """The owner whose jobs ``who`` may change (None: any)."""
    return None if who.admin else who.owner


Client = Annotated[Caller, Depends(caller)]


@router.post("", status_code=202, response_model=Experiment, responses=AUTH_PROBLEMS)
def submit(
    config: Config,
    response: Response,
    request: Request,
    client: Client,
    settings: SettingsDep,
    store: StoreDep,
    queue: QueueDep,
) -> Experiment:
    """Queue an experiment; answers 202 with its `Location`."""
    check_limits(config, settings)
    request.app.state.experiment_rate.hit(client.owner)
    quota = settings.max_queued_per_client
    try:
        job = store.create(config.model_dump(), owner=client.owner, max_queued=quota)
    except QueueFullError:
        raise TooManyRequestsError(f"{quota} experiments of yours are queued already", 30) from None
    enqueue_new(store, queue, job.id)  # a refused enqueue deletes the row
    response.headers["Location"] = f"/v1/experiments/{job.id}"
    return to_resource(job, [], client.admin)


@router.get("", response_model=ExperimentList, responses=AUTH_PROBLEMS)
def list_experiments(
    client: Client,
    store: StoreDep,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> ExperimentList:
    """Your experiments (an admin's: everybody's), newest first; pass `next_cursor` back as
    `cursor` for the next page."""
    try:
        rows, next_cursor = store.page(status, limit, cursor, owner=_scope(client))
    except ValueError as exc:
        raise InvalidInputError(["cursor"], str(exc), "cursor") from None
    epochs = store.epochs_of([job.id for job in rows])
    items = [to_resource(job, epochs[job.id], client.admin) for job in rows]
    return ExperimentList(items=items, next_cursor=next_cursor)


@router.get("/{job_id}", response_model=Experiment, responses=AUTH_PROBLEMS)
def get_experiment(job_id: str, client: Client, store: StoreDep) -> Experiment:
    """Status, progress, per-epoch histories, test results and the KL-vs-CE comparison."""
    return _load(store, job_id, client)


@router.post(
    "/{job_id}/cancel", status_code=202, response_model=Experiment, responses=AUTH_PROBLEMS
)
def cancel(job_id: str, client: Client, store: StoreDep) -> Experiment:
    """A queued job never runs; a running one stops at the next batch, keeping its epochs."""
    status = store.request_cancel(job_id, owner=_scope(client))
    if status is None:
        raise _missing(job_id)
    if status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        raise ConflictError(f"experiment {job_id} already {status}")
    return _load(store, job_id, client)


@router.delete("/{job_id}", status_code=204, responses=AUTH_PROBLEMS)
def delete_experiment(job_id: str, client: Client, store: StoreDep) -> Response:
    """Remove a finished experiment and its results."""
    if store.delete(job_id, owner=_scope(client)):
        return Response(status_code=204)
    job = store.get(job_id)
    if job is None or not client.may_see(job.owner):
        raise _missing(job_id)
    raise ConflictError(f"experiment {job_id} is {job.status}; cancel it first")


@router.get(
    "/{job_id}/plot.svg",
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {}}, "description": "The curves."},
        **AUTH_PROBLEMS,
    },
)
def plot(job_id: str, client: Client, store: StoreDep) -> Response:
    """Training and validation loss and accuracy of every run, on shared axes."""
    return Response(experiment_svg(_load(store, job_id, client)), media_type="image/svg+xml")


def _sse(event: str, data: Any, event_id: int | None = None) -> str:
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return head + f"data: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _events(
    request: Request, store: JobStore, job_id: str, who: Caller, poll: float
) -> AsyncIterator[str]:
    sent = 0
    idle = 0.0
    while True:
        job = await run_in_threadpool(_load, store, job_id, who)
        runs, total = len(job.config.losses), job.config.epochs
        epochs = [
            (index, run.loss, e)
            for run in job.runs
            for index in [job.config.losses.index(run.loss)]
            for e in run.history
        ]
        for index, loss, metrics in epochs[sent:]:
            sent += 1
            progress = Progress(
                loss=loss,
                run=index + 1,
                runs=runs,
                epoch=metrics.epoch,
                epochs=total,
                fraction=(index + metrics.epoch / total) / runs,
            )
            # the epoch's metrics (its `loss` is the value); the loss's name is in `progress`
            data = {**metrics.model_dump(), "progress": progress.model_dump()}
            yield _sse("progress", data, sent)
        if job.status in FINISHED:
            yield _sse("end", json.loads(job.model_dump_json()), sent + 1)
            return
        if await request.is_disconnected():
            return
        await asyncio.sleep(poll)
        idle += poll
        if idle >= 15:
            idle = 0.0
            yield ": keep-alive\n\n"


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "SSE stream."},
        **AUTH_PROBLEMS,
    },
)
def events(
    job_id: str, request: Request, client: Client, store: StoreDep, settings: SettingsDep
) -> Any:
    """Server-Sent Events: `progress` once per finished epoch, then `end` with the result."""
    _load(store, job_id, client)
    poll = min(0.5, settings.heartbeat_interval)
    return StreamingResponse(
        _events(request, store, job_id, client, poll),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )

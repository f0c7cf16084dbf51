"""``/v1/experiments``: submit, inspect, follow, cancel and delete loss-comparison jobs.

The rules (ownership, quotas, states, the event stream's numbering and resume) are the
service's (:class:`app.services.experiments.Experiments`); these routes translate HTTP to it
and back, and frame its events as Server-Sent Events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.api.deps import SettingsDep, StoreDep
from app.api.json_route import OffLoopJSONRoute
from app.api.problems import AUTH_PROBLEMS, JOB_PROBLEMS
from app.api.security import caller
from app.jobs.wiring import get_queue
from app.schemas.experiments import Experiment, ExperimentConfig, ExperimentList, Status
from app.services.callers import Caller
from app.services.experiment_events import RETRY_MS, JobEvent
from app.services.experiments import Experiments

__all__ = ["router"]

router = APIRouter(
    route_class=OffLoopJSONRoute,
    prefix="/v1/experiments",
    tags=["experiments"],
    responses=JOB_PROBLEMS,
)

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
LAST_EVENT_ID = "The id of the last event received: the stream continues after it."
# A comment line sent while nothing happens, so that proxies keep an idle stream open.
PING_SECONDS = 15


def _experiments(request: Request, settings: SettingsDep, store: StoreDep) -> Experiments:
    """The experiment service of this app (the queue is made only for a submit)."""
    rate = request.app.state.experiment_rate
    return Experiments(store, settings, rate, lambda: get_queue(settings))


Client = Annotated[Caller, Depends(caller)]
Service = Annotated[Experiments, Depends(_experiments)]


@router.post("", status_code=202, response_model=Experiment, responses=AUTH_PROBLEMS)
def submit(config: Config, response: Response, client: Client, service: Service) -> Experiment:
    """Queue an experiment; answers 202 with its `Location`."""
    job = service.submit(config, client)
    response.headers["Location"] = job.links["self"]
    return job


@router.get("", response_model=ExperimentList, responses=AUTH_PROBLEMS)
def list_experiments(
    client: Client,
    service: Service,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> ExperimentList:
    """Your experiments (an admin's: everybody's), newest first; pass `next_cursor` back as
    `cursor` for the next page."""
    return service.page(client, status, limit, cursor)


@router.get("/{job_id}", response_model=Experiment, responses=AUTH_PROBLEMS)
def get_experiment(job_id: str, client: Client, service: Service) -> Experiment:
    """Status, progress, per-epoch histories, test results and the KL-vs-CE comparison."""
    return service.get(job_id, client)


@router.post(
    "/{job_id}/cancel", status_code=202, response_model=Experiment, responses=AUTH_PROBLEMS
)
def cancel(job_id: str, client: Client, service: Service) -> Experiment:
    """A queued job never runs; a running one stops at the next batch, keeping its epochs."""
    return service.cancel(job_id, client)


@router.delete("/{job_id}", status_code=204, responses=AUTH_PROBLEMS)
def delete_experiment(job_id: str, client: Client, service: Service) -> Response:
    """Remove a finished experiment and its results."""
    service.delete(job_id, client)
    return Response(status_code=204)


@router.get(
    "/{job_id}/plot.svg",
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {}}, "description": "The curves."},
        **AUTH_PROBLEMS,
    },
)
def plot(job_id: str, client: Client, service: Service) -> Response:
    """Training and validation loss and accuracy of every run, on shared axes."""
    return Response(service.plot(job_id, client), media_type="image/svg+xml")


async def _frames(events: AsyncIterator[JobEvent]) -> AsyncIterator[ServerSentEvent]:
    yield ServerSentEvent(retry=RETRY_MS)  # before any event: how soon to reconnect
    async for event in events:
        yield ServerSentEvent(event.data, event=event.name, id=str(event.id))


@router.get(
    "/{job_id}/events",
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "SSE stream."},
        **AUTH_PROBLEMS,
    },
)
def events(
    job_id: str,
    client: Client,
    service: Service,
    last_event_id: Annotated[str | None, Header(description=LAST_EVENT_ID)] = None,
) -> EventSourceResponse:
    """Server-Sent Events: `progress` (ids 1, 2, ...) once per finished epoch, then `end`
    with the result; `Last-Event-ID: k` resumes after event k."""
    stream = service.events(job_id, client, last_event_id)
    return EventSourceResponse(_frames(stream), ping=PING_SECONDS)

"""The experiment rules: who may submit how much, who sees and changes which job, and when.

Every job belongs to the client that submitted it (a :class:`Caller`): another client's job
answers 404 exactly as a missing one does, and lists show one's own jobs; an admin sees and
changes all of them. A submit is checked against the deployment's limits, the client's rate
window and its quota of queued jobs, in that order. A finished job cannot be cancelled
(409); a job that is not finished cannot be deleted (409: cancel it first).

The routes in ``app.api.experiments`` only translate HTTP to these methods and back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Protocol

from app.config import Settings
from app.errors import ConflictError, InvalidInputError, NotFoundError, TooManyRequestsError
from app.jobs.queue import JobQueue
from app.jobs.store import JobStore, QueueFullError
from app.jobs.wiring import enqueue_new
from app.schemas.experiments import Experiment, ExperimentConfig, ExperimentList, JobStatus
from app.services.callers import Caller
from app.services.experiment_events import JobEvent, follow, resume_point
from app.services.experiment_plot import experiment_svg
from app.services.experiment_resources import check_limits, public_error, to_resource

__all__ = [
    "Caller",
    "Experiments",
    "RateWindow",
    "check_limits",
    "public_error",
    "to_resource",
]

# How long a client whose queue quota is spent should wait: about one short job's time.
QUOTA_RETRY_AFTER = 30


class RateWindow(Protocol):
    """A per-client rate limit: ``hit`` counts one submit or raises TooManyRequestsError."""

    def hit(self, client: str) -> None: ...


class Experiments:
    """The experiments of one deployment, as a caller may see and change them.

    ``queue`` is asked for only when a job is submitted, so that reading jobs does not need
    the queue to be reachable.
    """

    def __init__(
        self,
        store: JobStore,
        settings: Settings,
        rate: RateWindow,
        queue: Callable[[], JobQueue],
    ) -> None:
        self.store, self.settings, self.rate, self.queue = store, settings, rate, queue

    def submit(self, config: ExperimentConfig, who: Caller) -> Experiment:
        """Queue ``config`` for ``who``: 422 beyond the limits, 429 beyond rate or quota."""
        check_limits(config, self.settings)
        self.rate.hit(who.owner)
        quota = self.settings.max_queued_per_client
        try:
            job = self.store.create(config.model_dump(), owner=who.owner, max_queued=quota)
        except QueueFullError:
            detail = f"{quota} experiments of yours are queued already"
            raise TooManyRequestsError(detail, QUOTA_RETRY_AFTER) from None
        enqueue_new(self.store, self.queue(), job.id)  # a refused enqueue deletes the row
        return to_resource(job, [], who.admin)

    def page(
        self, who: Caller, status: JobStatus | None, limit: int, cursor: str | None
    ) -> ExperimentList:
        """``who``'s experiments (an admin's: everybody's), newest first, ``limit`` of them."""
        try:
            rows, next_cursor = self.store.page(status, limit, cursor, owner=who.scope)
        except ValueError as exc:
            raise InvalidInputError(["cursor"], str(exc), "cursor") from None
        epochs = self.store.epochs_of([job.id for job in rows])
        items = [to_resource(job, epochs[job.id], who.admin) for job in rows]
        return ExperimentList(items=items, next_cursor=next_cursor)

    def get(self, job_id: str, who: Caller) -> Experiment:
        """The experiment, or 404 when it does not exist for ``who``."""
        job = self.store.get(job_id)
        if job is None or not who.may_see(job.owner):
            raise _missing(job_id)
        return to_resource(job, self.store.epochs(job_id), who.admin)

    def cancel(self, job_id: str, who: Caller) -> Experiment:
        """A queued job never runs; a running one stops at its next batch; 409 if finished."""
        status = self.store.request_cancel(job_id, owner=who.scope)
        if status is None:
            raise _missing(job_id)
        if status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
            raise ConflictError(f"experiment {job_id} already {status}")
        return self.get(job_id, who)

    def delete(self, job_id: str, who: Caller) -> None:
        """Remove a finished experiment and its results; 409 while it may still run."""
        if self.store.delete(job_id, owner=who.scope):
            return
        job = self.store.get(job_id)
        if job is None or not who.may_see(job.owner):
            raise _missing(job_id)
        raise ConflictError(f"experiment {job_id} is {job.status}; cancel it first")

    def plot(self, job_id: str, who: Caller) -> str:
        """The experiment's curves as SVG."""
        return experiment_svg(self.get(job_id, who))

    def events(
        self, job_id: str, who: Caller, last_event_id: str | None = None
    ) -> AsyncIterator[JobEvent]:
        """The experiment's events after ``last_event_id`` (see ``experiment_events``).

        The job is looked up now, so that a missing one is a 404 before any stream starts.
        """
        self.get(job_id, who)
        poll = min(0.5, self.settings.heartbeat_interval)
        return follow(lambda: self.get(job_id, who), resume_point(last_event_id), poll)


def _missing(job_id: str) -> NotFoundError:
    return NotFoundError(f"no experiment {job_id}")

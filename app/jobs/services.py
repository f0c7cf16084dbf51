"""Wiring of the job store and queue from settings, and one pass of the reaper."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from app.config import Settings
from app.jobs.queue import JobQueue, make_huey
from app.jobs.store import JobStore, ReapedJob

__all__ = ["get_queue", "get_store", "reap_once"]

log = logging.getLogger("app.jobs")


# One store and one enqueue-only queue per process and configuration, made under a lock: the
# request threads and the reaper thread ask for them at the same time when the API starts.
_lock = threading.Lock()
_stores: dict[str, JobStore] = {}
_queues: dict[tuple[str | None, str, str], JobQueue] = {}


def get_store(settings: Settings) -> JobStore:
    """The job store of these settings, its tables created (once per process and URL)."""
    url = settings.resolved_database_url
    with _lock:
        store = _stores.get(url)
        if store is None:
            if settings.database_url is None:
                settings.data_dir.mkdir(parents=True, exist_ok=True)
            store = JobStore.from_url(url)
            store.create_schema()
            _stores[url] = store
        return store


def get_queue(settings: Settings, runner: Callable[[str], None] | None = None) -> JobQueue:
    """The queue of these settings, shared in this process for enqueueing; a worker passes
    the function that runs a job id and gets a queue of its own."""

    def make() -> JobQueue:
        huey = make_huey(settings.queue_url, settings.data_dir, settings.queue_name)
        return JobQueue(huey, runner)

    if runner is not None:
        return make()
    key = (settings.queue_url, str(settings.data_dir.resolve()), settings.queue_name)
    with _lock:
        queue = _queues.get(key)
        if queue is None:
            queue = _queues[key] = make()
        return queue


def reap_once(store: JobStore, queue: JobQueue, settings: Settings) -> list[ReapedJob]:
    """Recover jobs whose worker stopped heartbeating; enqueue the ones requeued."""
    reaped = store.reap(settings.heartbeat_timeout, settings.max_attempts)
    for job in reaped:
        log.warning("job %s: worker lost, %s", job.id, job.outcome)
        if job.outcome == "requeued":
            queue.enqueue(job.id)
    # A queued job whose message is gone (a Redis restarted without persistence) would wait
    # forever: when the queue is empty, jobs queued for longer than the heartbeat timeout are
    # enqueued again. A duplicate is harmless: only one claim of a job can succeed.
    stale = store.queued_before(settings.heartbeat_timeout)
    if stale and queue.depth() == 0:
        for job_id in stale:
            log.warning("job %s: queued but not in the queue; enqueued again", job_id)
            queue.enqueue(job_id)
    return reaped

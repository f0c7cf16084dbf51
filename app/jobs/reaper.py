"""The reaper: jobs whose worker stopped heartbeating are requeued or failed, and queued jobs
whose queue message was lost are enqueued again. The API and every worker run one."""

from __future__ import annotations

import logging
import threading

from app.config import Settings
from app.jobs.queue import JobQueue
from app.jobs.store import JobStore, ReapedJob
from app.jobs.wiring import dependency_failure, get_queue, get_store

__all__ = ["reap_forever", "reap_once"]

log = logging.getLogger("app.jobs")


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


def reap_forever(settings: Settings, stop: threading.Event) -> None:
    """Reap every heartbeat interval until ``stop`` is set.

    A database or queue that is down is waited out: one line when it goes, one when it is
    back, not a traceback every interval."""
    down: str | None = None
    while not stop.wait(settings.heartbeat_interval):
        try:
            reap_once(get_store(settings), get_queue(settings), settings)
        except Exception as exc:
            what = dependency_failure(exc)
            if what is None:
                log.exception("reaper pass failed")
            elif what != down:
                log.warning("reaper: %s (%s); trying again", what, type(exc).__name__)
            down = what or down
            continue
        if down is not None:
            log.warning("reaper: the job database and the queue answer again")
            down = None

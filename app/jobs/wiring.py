"""The job store and queue of a configuration (one of each per process), enqueueing a new
job, and what counts as a dependency being down."""

from __future__ import annotations

import errno
import logging
import sqlite3
import threading
from collections.abc import Callable

import redis.exceptions
import sqlalchemy.exc

from app.config import Settings
from app.jobs.queue import JobQueue, make_huey
from app.jobs.store import JobStore

__all__ = [
    "dependency_failure",
    "enqueue_new",
    "get_queue",
    "get_store",
]

log = logging.getLogger("app.jobs")


# One store and one enqueue-only queue per process and configuration, made under a lock: the
# request threads and the reaper thread ask for them at the same time when the API starts.
_lock = threading.Lock()
_stores: dict[str, JobStore] = {}
_queues: dict[tuple[str | None, str, str], JobQueue] = {}
# Tables are made once per URL; a database that was down is asked again on the next call.
_schema_made: set[str] = set()


def get_store(settings: Settings) -> JobStore:
    """The job store of these settings, its tables created (once per process and URL).

    Raises the database's error, quickly, while it does not answer; the next call tries again.
    """
    url = settings.resolved_database_url
    with _lock:
        store = _stores.get(url)
        if store is None:
            if settings.database_url is None:
                settings.data_dir.mkdir(parents=True, exist_ok=True)
            store = _stores[url] = JobStore.from_url(url, settings.db_connect_timeout)
    if url not in _schema_made:
        # not under a lock: a caller must not wait out another's connect timeout before its
        # own; creators racing is fine (see create_schema)
        store.create_schema()
        _schema_made.add(url)
    return store


def get_queue(settings: Settings, runner: Callable[[str], None] | None = None) -> JobQueue:
    """The queue of these settings, shared in this process for enqueueing; a worker passes
    the function that runs a job id and gets a queue of its own."""

    def make() -> JobQueue:
        huey = make_huey(
            settings.queue_url, settings.data_dir, settings.queue_name, settings.db_connect_timeout
        )
        return JobQueue(huey, runner)

    if runner is not None:
        return make()
    key = (settings.queue_url, str(settings.data_dir.resolve()), settings.queue_name)
    with _lock:
        queue = _queues.get(key)
        if queue is None:
            queue = _queues[key] = make()
        return queue


def enqueue_new(store: JobStore, queue: JobQueue, job_id: str) -> None:
    """Enqueue a job just created; if the queue refuses it, delete the row and re-raise, so
    that a failed submit leaves no job behind that nothing would ever run."""
    try:
        queue.enqueue(job_id)
    except Exception:
        try:
            store.discard(job_id)
        except Exception as exc:  # the database is down too: the reaper enqueues it later
            log.warning("job %s: not enqueued and not discarded: %s", job_id, exc)
        raise


_FULL = ("database or disk is full", "disk i/o error", "no space left")
_REDIS_REFUSALS = ("MISCONF", "OOM", "LOADING", "READONLY")


def dependency_failure(exc: BaseException) -> str | None:
    """What is down, in a few words, when ``exc`` says a dependency (the job database, the
    queue, the disk under them) is unavailable rather than that the code is wrong; else None.

    Connection-level errors only: a constraint violation or a bad statement is a bug (None).
    """
    text = str(exc).lower()
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        if any(phrase in text for phrase in _FULL):
            return "the job database cannot take writes (disk full)"
        if isinstance(exc, sqlalchemy.exc.OperationalError) or exc.connection_invalidated:
            return "the job database does not answer"
        return None
    if isinstance(exc, sqlalchemy.exc.TimeoutError):  # no pooled connection came free
        return "the job database does not answer"
    if isinstance(exc, sqlite3.OperationalError):  # the embedded queue (SqliteHuey)
        if any(phrase in text for phrase in _FULL):
            return "the queue cannot take writes (disk full)"
        return "the queue does not answer"
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return "the queue does not answer"
    if isinstance(exc, redis.exceptions.ResponseError) and str(exc).startswith(_REDIS_REFUSALS):
        return "the queue cannot take writes"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the data directory is full"
    return None

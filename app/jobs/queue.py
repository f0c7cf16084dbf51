"""The queue that hands job ids to workers: SqliteHuey by default, RedisHuey by URL.

Only ids travel through the queue; the job row holds everything else. Huey drops a task whose
worker dies, so losing a message never loses a job: the reaper re-enqueues from the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from redis import ConnectionPool

__all__ = ["JobQueue", "make_huey"]

TASK_NAME = "run_job"


def make_huey(
    queue_url: str | None, data_dir: Path, name: str = "divergence", connect_timeout: float = 3.0
) -> Huey:
    """A Huey on Redis for a ``redis://`` URL, else on a SQLite file under ``data_dir``.

    A Redis that does not answer fails a call within ``connect_timeout`` (a blocking read
    waits up to one second for a task, so reads get that second on top).
    """
    if queue_url:
        pool = ConnectionPool.from_url(
            queue_url, socket_connect_timeout=connect_timeout, socket_timeout=connect_timeout + 1
        )
        return RedisHuey(name, connection_pool=pool, results=False)
    data_dir.mkdir(parents=True, exist_ok=True)
    # the API, its reaper and the workers share the file: wait for a lock as the job store does
    return SqliteHuey(
        name, filename=str(data_dir / "queue.db"), results=False, timeout=5 * connect_timeout
    )


class JobQueue:
    """Enqueue job ids; a worker registers the function that runs them."""

    def __init__(self, huey: Huey, runner: Callable[[str], None] | None = None) -> None:
        self.huey = huey
        self._runner = runner or _not_here

        def run_job(job_id: str) -> None:
            self._runner(job_id)

        # Huey names a task by its function's module and name: every process must agree.
        run_job.__module__ = __name__
        self._task = huey.task(name=TASK_NAME, retries=0)(run_job)

    def enqueue(self, job_id: str) -> None:
        self._task(job_id)

    def depth(self) -> int:
        """Tasks waiting in the queue."""
        return int(self.huey.pending_count())

    def ping(self) -> None:
        self.huey.pending_count()


def _not_here(job_id: str) -> Any:  # pragma: no cover - runs only in a misconfigured process
    raise RuntimeError(f"job {job_id}: this process enqueues jobs but does not run them")

"""``python -m app.worker``: one worker process (``make worker``).

It consumes job ids from the queue one at a time, and reaps jobs whose worker died:
a job with attempts left is requeued, the others are failed with the reason. On SIGTERM it
stops its running job at the next batch, requeues it, and exits.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from app.config import Settings, settings_or_exit
from app.jobs.queue import JobQueue
from app.jobs.store import JobStore

__all__ = ["main"]

log = logging.getLogger("app.worker")


def reap_forever(
    store: JobStore, queue: JobQueue, settings: Settings, stop: threading.Event
) -> None:
    """Reap stale jobs every heartbeat interval until ``stop`` is set."""
    from app.jobs.services import reap_once

    while not stop.wait(settings.heartbeat_interval):
        try:
            reap_once(store, queue, settings)
            settings.worker_alive_file.touch()
        except Exception:
            log.exception("reaper pass failed")


def main() -> None:
    settings = settings_or_exit()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ["KERAS_HOME"] = str(settings.keras_cache)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from app.jobs.services import get_queue, get_store, reap_once
    from app.worker.runner import execute

    store = get_store(settings)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    shutdown = threading.Event()

    def run(job_id: str) -> None:
        execute(
            store,
            job_id,
            worker,
            settings.keras_cache,
            settings.heartbeat_interval,
            shutdown=shutdown,
            requeue=queue.enqueue,
        )

    queue = get_queue(settings, runner=run)
    import keras  # noqa: F401  (load TensorFlow before the first job, not during it)

    reap_once(store, queue, settings)
    settings.worker_alive_file.touch()
    stop = threading.Event()
    reaper = threading.Thread(
        target=reap_forever, args=(store, queue, settings, stop), name="reaper", daemon=True
    )
    reaper.start()
    log.info("worker %s ready", worker)
    # SIGTERM stops gracefully: the running job stops at its next batch and is requeued,
    # then the consumer waits for its thread and exits. SIGINT interrupts at once.
    consumer = queue.huey.create_consumer(
        workers=1, worker_type="thread", periodic=False, graceful_signal="TERM"
    )
    handle_signal = consumer._handle_signal

    def on_signal(signum: int, frame: Any) -> None:
        shutdown.set()
        handle_signal(signum, frame)

    consumer._handle_signal = on_signal
    try:
        consumer.run()
    finally:
        stop.set()


if __name__ == "__main__":
    main()

"""``python -m app.worker``: one worker process (``make worker``).

It consumes job ids from the queue one at a time, and reaps jobs whose worker died:
a job with attempts left is requeued, the others are failed with the reason. While it serves
it touches its alive file (``Settings.alive_file``) every heartbeat interval (the health
checks read it).

The Keras backend is the setting ``keras_backend`` (KERAS_BACKEND is set from it); a
backend whose package is missing is a configuration error (exit status 2, one line).

Signals: the first SIGTERM stops gracefully (the running job stops at its next batch and goes
back to the queue, then the process exits); more SIGTERMs change nothing, because one shutdown
request may arrive several times (the parent-death signal of ``python -m app`` comes once per
exiting thread of the parent). SIGINT interrupts at once. A job database or queue that is down
when the worker starts is waited for, with backoff; it is not a reason to exit.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, TypeVar

from app.config import Settings, settings_or_exit
from app.jobs.wiring import dependency_failure

__all__ = ["main"]

log = logging.getLogger("app.worker")

T = TypeVar("T")

HEALTH_CHECK_EVERY = 10.0  # seconds between checks that the consumer's thread is alive


def wait_for_dependency(
    make: Callable[[], T], what: str, shutdown: threading.Event, first: float = 1.0
) -> T | None:
    """``make()``, tried again with backoff (``first`` doubling to 30 s) while it fails
    because a dependency is down; None if ``shutdown`` is set meanwhile."""
    delay = first
    while not shutdown.is_set():
        try:
            return make()
        except Exception as exc:
            reason = dependency_failure(exc)
            if reason is None:
                raise
            log.warning("%s: %s; trying again in %g s", what, reason, delay)
        shutdown.wait(delay)
        delay = min(2 * delay, 30.0)
    return None


class _AliveFile:
    """The worker's sign of life: a file touched every heartbeat interval."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.alive_file
        self._failed = False

    def touch(self) -> None:
        try:
            self.path.touch()
            self._failed = False
        except OSError as exc:
            if not self._failed:  # once per failure, not every interval
                log.warning("cannot touch %s: %s", self.path, exc)
            self._failed = True


def main() -> None:
    settings = settings_or_exit()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    _use_backend(settings.keras_backend)
    os.environ["KERAS_HOME"] = str(settings.keras_cache)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    quiet = settings.log_level != "debug"
    if quiet:  # their start-up chatter is not the user's business at the info level
        for noisy in ("alembic", "huey"):
            logging.getLogger(noisy).setLevel(logging.WARNING)

    shutdown = threading.Event()
    # test-and-set in one step: a handler can be entered again between any two bytecodes of
    # itself when signals arrive together, so checking the event first would let each through
    first_request = threading.Lock()

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        if not first_request.acquire(blocking=False):
            log.info("SIGTERM again: already stopping gracefully")
            return
        shutdown.set()
        log.info("SIGTERM: stopping gracefully")

    signal.signal(signal.SIGTERM, on_sigterm)

    from app.jobs.reaper import reap_forever
    from app.jobs.wiring import get_queue, get_store

    with _native_stderr_muted(quiet):  # TensorFlow's C++ start-up lines (absl, oneDNN)
        from app.worker.runner import execute

    store = wait_for_dependency(lambda: get_store(settings), "the job database", shutdown)
    if store is None:
        return
    worker = f"{socket.gethostname()}:{os.getpid()}"

    def run(job_id: str) -> None:
        try:
            execute(
                store,
                job_id,
                worker,
                settings.keras_cache,
                settings.heartbeat_interval,
                shutdown=shutdown,
                requeue=queue.enqueue,
                data_dirs=settings.dataset_dirs,
                checkpoints=settings.data_dir.resolve() / "checkpoints",
                progress_interval=settings.progress_interval,
            )
        except Exception as exc:
            reason = dependency_failure(exc)
            if reason is None:
                raise
            # the row is still queued, or its heartbeat stops: a reaper enqueues it again
            log.warning("job %s: %s; left for the reaper", job_id, reason)

    made = wait_for_dependency(lambda: get_queue(settings, runner=run), "the queue", shutdown)
    if made is None:
        return
    queue = made
    with _native_stderr_muted(quiet):  # load TensorFlow before the first job, not during it
        import keras  # noqa: F401

    consumer = queue.huey.create_consumer(workers=1, worker_type="thread", periodic=False)
    # Huey's consumer installs its own handlers as it starts (where a second SIGTERM stops
    # at once): hold the signals meanwhile, then put this module's back.
    held = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        consumer.start()
        signal.signal(signal.SIGTERM, on_sigterm)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)

    stop_reaper = threading.Event()
    threading.Thread(
        target=reap_forever, args=(settings, stop_reaper), name="reaper", daemon=True
    ).start()
    alive = _AliveFile(settings)
    alive.touch()
    log.info("worker %s ready", worker)
    try:
        _serve(consumer, shutdown, alive, settings.heartbeat_interval)
    finally:
        stop_reaper.set()
        # the job is back in the queue: a late repeat of the signal must not end the exit
        # with "killed by SIGTERM" while the interpreter winds down
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _use_backend(backend: str) -> None:
    """Set KERAS_BACKEND from the settings before keras is imported; exit with status 2 and
    one line, as for any bad setting, when the backend's package is not installed."""
    if importlib.util.find_spec(backend) is None:
        print(
            f"configuration error: DIVERGENCE_KERAS_BACKEND={backend!r}: the {backend} package "
            "is not installed in this worker's environment (install it, or use tensorflow)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    os.environ["KERAS_BACKEND"] = backend


@contextmanager
def _native_stderr_muted(mute: bool) -> Iterator[None]:
    """Send what native code writes to file descriptor 2 to /dev/null meanwhile (Python's own
    errors are raised, and printed later, as usual)."""
    if not mute:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _serve(consumer: Any, shutdown: threading.Event, alive: _AliveFile, interval: float) -> None:
    """Touch the alive file until SIGTERM, then stop the consumer gracefully: it waits for the
    running job, which stops at its next batch and requeues itself."""
    checked = time.monotonic()
    try:
        while not shutdown.wait(interval):
            alive.touch()
            if time.monotonic() - checked > HEALTH_CHECK_EVERY:
                consumer.check_worker_health()  # restarts a consumer thread that died
                checked = time.monotonic()
        consumer.stop(graceful=True)  # a SIGINT meanwhile interrupts the wait
    except KeyboardInterrupt:
        shutdown.set()
        consumer.stop()
    log.info("worker stopped")


if __name__ == "__main__":
    main()

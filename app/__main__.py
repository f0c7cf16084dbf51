"""``python -m app``: serve the API with uvicorn, and beside it one supervised worker process.

``make run`` runs this. The worker is a child process (``python -m app.worker``) sharing the
embedded job store and queue under ``DIVERGENCE_DATA_DIR``; set
``DIVERGENCE_EMBEDDED_WORKER=false`` to serve the API alone (``make api``).

The worker is supervised: when it dies it is reaped and started again after a pause (1 s,
doubling to 30 s while it keeps dying young), and meanwhile ``/readyz`` says not ready. It
touches a file under the data directory every heartbeat interval (unless
``DIVERGENCE_WORKER_ALIVE_FILE`` names another); a worker that stops touching it counts as
not alive. The worker never outlives the API: it is stopped when the API stops, and on Linux
the kernel stops it too if the API is killed outright.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn

from app.config import Settings, settings_or_exit

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["WorkerSupervisor", "alive_file_probe", "api_process_app", "main"]

log = logging.getLogger("app.supervisor")

FIRST_RESTART_DELAY = 1.0  # seconds before restarting a worker that died
MAX_RESTART_DELAY = 30.0  # the delay doubles up to this while the worker keeps dying young
# a worker that exits with this status refused its settings (settings_or_exit, a missing
# Keras backend): restarting it would only repeat the refusal
CONFIGURATION_ERROR = 2
STEADY_AFTER = 60.0  # a worker that lived this long restarts after the first delay again

# loaded before any fork: the child only calls it between fork and exec
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    # The kernel ties this to the thread that forked, so the supervisor thread, which lives
    # as long as the process, does the fork. The worker also ignores a repeated SIGTERM.
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again; ending here
    # with SystemExit runs the `finally` below, which stops the worker.
    raise SystemExit(0)


def alive_file(settings: Settings) -> Path:
    """The embedded worker's sign-of-life file (see ``Settings.alive_file``)."""
    return settings.alive_file


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


class WorkerSupervisor:
    """Runs ``python -m app.worker`` in a thread of its own; restarts it when it dies."""

    def __init__(
        self,
        settings: Settings,
        command: list[str] | None = None,
        env_without: Sequence[str] = (),
    ) -> None:
        self.command = command or [sys.executable, "-m", "app.worker"]
        self.alive_file = alive_file(settings)
        # a worker that has not touched its file for this long is taken for hung
        self.stale_after = max(3 * settings.heartbeat_interval, 10.0)
        # env_without: what this process set for itself only (the API's BLAS threads)
        inherited = {k: v for k, v in os.environ.items() if k not in env_without}
        self.env = {**inherited, "DIVERGENCE_WORKER_ALIVE_FILE": str(self.alive_file)}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._spawned_at = 0.0  # time.time() of the current worker's start
        self._down = "not started yet"  # why no worker runs now
        self._thread = threading.Thread(target=self._supervise, name="supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def probe(self) -> str:
        """``ok`` while a worker runs and shows signs of life; else why not (``/readyz``)."""
        with self._lock:
            proc, since, down = self._proc, self._spawned_at, self._down
        if proc is None or proc.poll() is not None:
            return f"no worker running: {down}"
        try:
            touched = self.alive_file.stat().st_mtime
        except OSError:
            touched = 0.0
        if touched < since:
            return "the worker is starting"
        silent = time.time() - touched
        if silent > self.stale_after:
            return f"the worker shows no sign of life for {silent:.0f} s"
        return "ok"

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.alive_file.unlink(missing_ok=True)
        return subprocess.Popen(
            self.command,
            env=self.env,
            preexec_fn=_die_with_parent if _libc is not None else None,
        )

    def _supervise(self) -> None:
        delay = FIRST_RESTART_DELAY
        while True:
            with self._lock:
                if self._stopping.is_set():
                    return
                try:
                    proc = self._spawn()
                except OSError as exc:
                    log.error("cannot start the worker: %s", exc)
                    proc = None
                else:
                    self._proc, self._spawned_at = proc, time.time()
            started = time.monotonic()
            code = proc.wait() if proc is not None else 1
            lived = time.monotonic() - started
            with self._lock:
                if self._stopping.is_set():
                    return
                if lived >= STEADY_AFTER:
                    delay = FIRST_RESTART_DELAY
                what = _describe_exit(code)
                if code == CONFIGURATION_ERROR:  # the same settings would fail the same way
                    self._down = f"the last one {what} (a configuration error); not restarted"
                    log.error("worker %s: its settings are wrong; not restarting it", what)
                    return
                self._down = f"the last one {what}; restarting in {delay:g} s"
            log.error("worker %s after %.1f s; restarting it in %g s", what, lived, delay)
            if self._stopping.wait(delay):
                return
            delay = min(2 * delay, MAX_RESTART_DELAY)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the worker (SIGTERM: it requeues its job), and stop restarting it."""
        with self._lock:
            self._stopping.set()
            self._down = "stopped"
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._thread.join(timeout=5)
        self.alive_file.unlink(missing_ok=True)


def alive_file_probe(path: Path, stale_after: float) -> Callable[[], str]:
    """``/readyz``'s view of the embedded worker from a process that does not supervise it
    (an API process of several): its sign-of-life file alone."""

    def probe() -> str:
        try:
            silent = time.time() - path.stat().st_mtime
        except OSError:
            return "no sign of life from the worker yet"
        if silent > stale_after:
            return f"the worker shows no sign of life for {silent:.0f} s"
        return "ok"

    return probe


def api_process_app() -> FastAPI:
    """The app of one API process of several (``DIVERGENCE_API_WORKERS`` > 1): uvicorn
    imports and calls this in each process it starts, with the parent's environment."""
    from app.main import create_app

    settings = settings_or_exit()
    app = create_app(settings)
    if settings.embedded_worker:
        stale_after = max(3 * settings.heartbeat_interval, 10.0)
        app.state.worker_probe = alive_file_probe(alive_file(settings), stale_after)
    return app


_BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def main() -> None:
    settings = settings_or_exit()
    # read when numpy loads BLAS (not loaded yet); the API's only: the worker trains with
    # every thread its libraries choose, unless the environment itself sets them
    api_only = [v for v in _BLAS_THREAD_VARIABLES if v not in os.environ]
    for variable in api_only:
        os.environ[variable] = str(settings.blas_threads)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    if settings.log_level != "debug":  # alembic narrates its start-up at INFO
        logging.getLogger("alembic").setLevel(logging.WARNING)
    from app.main import create_app

    several = settings.api_workers > 1
    if several:  # request metrics summed over the processes (prometheus_client's files)
        metrics_dir = settings.data_dir / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)  # a past run's counts are not ours
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    # one process: the app here; several: each API process makes its own (api_process_app)
    app: FastAPI | str = "app.__main__:api_process_app" if several else create_app(settings)
    supervisor = None
    if settings.embedded_worker:
        supervisor = WorkerSupervisor(settings, env_without=api_only)
        if not isinstance(app, str):
            app.state.worker_probe = supervisor.probe
        supervisor.start()
    if not several:  # uvicorn's process manager handles the signals of several itself
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        uvicorn.run(
            app,
            factory=several,
            workers=settings.api_workers if several else None,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=settings.access_log,
            # X-Forwarded-* only from the proxies configured (uvicorn trusts 127.0.0.1 by
            # default, which lets any local client pose as many addresses)
            proxy_headers=bool(settings.trusted_proxies.strip()),
            forwarded_allow_ips=settings.trusted_proxies.strip() or "",
        )
    finally:
        if supervisor is not None:
            supervisor.stop()


if __name__ == "__main__":
    main()

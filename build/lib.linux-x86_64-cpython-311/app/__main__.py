"""``python -m app``: serve the API with uvicorn, and beside it one worker process.

``make run`` runs this. The worker is a child process (``python -m app.worker``) sharing the
embedded job store and queue under ``DIVERGENCE_DATA_DIR``; set
``DIVERGENCE_EMBEDDED_WORKER=false`` to serve the API alone (``make api``). The worker never
outlives the API: it is stopped when the API stops, and on Linux the kernel stops it too if
the API is killed outright.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from types import FrameType

import uvicorn

from app.config import settings_or_exit


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again; ending here
    # with SystemExit runs the `finally` below, which stops the worker.
    raise SystemExit(0)


def main() -> None:
    settings = settings_or_exit()
    worker = None
    if settings.embedded_worker:
        worker = subprocess.Popen(
            [sys.executable, "-m", "app.worker"],
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        uvicorn.run(
            "app.main:app", host=settings.host, port=settings.port, log_level=settings.log_level
        )
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()


if __name__ == "__main__":
    main()

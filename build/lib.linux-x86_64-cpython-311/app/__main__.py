"""``python -m app``: serve the API with uvicorn, and beside it one worker process.

``make run`` runs this. The worker is a child process (``python -m app.worker``) sharing the
embedded job store and queue under ``DIVERGENCE_DATA_DIR``; set
``DIVERGENCE_EMBEDDED_WORKER=false`` to serve the API alone (``make api``).
"""

from __future__ import annotations

import subprocess
import sys

import uvicorn

from app.config import settings_or_exit


def main() -> None:
    settings = settings_or_exit()
    worker = None
    if settings.embedded_worker:
        worker = subprocess.Popen([sys.executable, "-m", "app.worker"])
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

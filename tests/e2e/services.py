"""Start the API and workers as real processes on a private data directory, as `make run`
would, and talk to them over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


class Services:
    """An API process and any number of worker processes sharing one configuration."""

    def __init__(self, tmp: Path, **env: str) -> None:
        self.tmp = tmp
        tmp.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.env = {
            **os.environ,
            "DIVERGENCE_DATA_DIR": str(tmp / "data"),
            "DIVERGENCE_KERAS_HOME": str(tmp / "keras"),
            "DIVERGENCE_PORT": str(self.port),
            "DIVERGENCE_EMBEDDED_WORKER": "false",
            "DIVERGENCE_HEARTBEAT_INTERVAL": "0.5",
            "DIVERGENCE_HEARTBEAT_TIMEOUT": "4",
            "DIVERGENCE_LOG_LEVEL": "warning",
            "DIVERGENCE_QUEUE_NAME": f"test-{tmp.name}",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            **env,
        }
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def _spawn(self, module: str, name: str, **env: str) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=log,
        )

    def start_api(self) -> None:
        self.api = self._spawn("app", "api")

        def up() -> bool:
            assert self.api is not None and self.api.poll() is None, self.log("api")
            try:
                return self.http.get("/healthz").status_code == 200
            except httpx.TransportError:
                return False

        wait_for(up, 30, "the API to answer")

    def stop_api(self) -> None:
        if self.api is not None:
            self.api.terminate()
            self.api.wait(timeout=30)
            self.api = None

    def start_worker(self, ready: bool = False) -> subprocess.Popen[bytes]:
        """Start a worker; with ``ready``, wait until it has loaded TensorFlow."""
        name = f"worker{len(self.workers)}"
        worker = self._spawn("app.worker", name, DIVERGENCE_LOG_LEVEL="info")
        self.workers.append(worker)
        if ready:
            wait_for(lambda: "ready" in self.log(name), 60, f"{name} to be ready")
        return worker

    def kill_worker(self, worker: subprocess.Popen[bytes]) -> None:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def close(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=10)
        self.stop_api()
        self.http.close()

    # -- the API ----------------------------------------------------------------------------

    def submit(self, **config: Any) -> str:
        body = {
            "dataset": "synthetic",
            "epochs": 2,
            "batch_size": 50,
            "train_samples": 200,
            "test_samples": 50,
            **config,
        }
        r = self.http.post("/v1/experiments", json=body)
        assert r.status_code == 202, r.text
        assert r.headers["location"] == f"/v1/experiments/{r.json()['id']}"
        return str(r.json()["id"])

    def job(self, job_id: str) -> dict[str, Any]:
        r = self.http.get(f"/v1/experiments/{job_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def wait_status(self, job_id: str, statuses: set[str], timeout: float = 120) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            job = self.job(job_id)
            return job if job["status"] in statuses else None

        return dict(wait_for(reached, timeout, f"job {job_id} to reach {statuses}"))

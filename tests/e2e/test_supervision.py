"""`python -m app` supervises its worker: SIGKILL of the worker (restarted; /readyz not ready
meanwhile; the job still finishes), SIGKILL of the API (the worker requeues its job once,
without spending an attempt, and exits)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.jobs.store import JobStore
from tests.e2e.services import Services, wait_for


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _state(pid: int) -> str | None:
    """The process's state letter (Z: a zombie), None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Services]:
    svc = Services(tmp_path, DIVERGENCE_EMBEDDED_WORKER="true", DIVERGENCE_LOG_LEVEL="info")
    try:
        yield svc
    finally:
        svc.close()


def _ready(svc: Services) -> bool:
    return svc.http.get("/readyz").status_code == 200


def test_killed_embedded_worker_is_restarted(embedded: Services) -> None:
    svc = embedded
    svc.start_api()
    assert svc.api is not None
    # until its worker has loaded TensorFlow and serves, the API is not ready
    r = svc.http.get("/readyz")
    assert r.status_code == 503 and "worker: the worker is starting" in r.json()["detail"]
    wait_for(lambda: _ready(svc), 90, "the worker to be ready", every=0.3)
    assert svc.http.get("/readyz").json()["checks"] == {
        "database": "ok",
        "queue": "ok",
        "worker": "ok",
    }
    [worker] = _children(svc.api.pid)

    job_id = svc.submit(epochs=6, train_samples=400)
    wait_for(lambda: svc.job(job_id)["progress"].get("epoch", 0) >= 1, 120, "a finished epoch")
    killed_at = time.monotonic()
    os.kill(worker, signal.SIGKILL)
    # not ready at once, and the dead worker is reaped (no zombie)
    r = wait_for(
        lambda: (r := svc.http.get("/readyz")).status_code == 503 and r, 5, "not ready", 0.1
    )
    not_ready_after = time.monotonic() - killed_at
    assert r.headers["content-type"] == "application/problem+json"
    assert "worker: no worker running: the last one killed by SIGKILL" in r.json()["detail"]
    wait_for(lambda: _state(worker) is None, 5, "the dead worker to be reaped")

    # a new worker comes up, and the API is ready again
    [restarted] = wait_for(lambda: _children(svc.api.pid), 10, "a new worker", 0.2)
    assert restarted != worker
    wait_for(lambda: _ready(svc), 90, "ready again", every=0.3)
    ready_after = time.monotonic() - killed_at
    assert "worker killed by SIGKILL after" in svc.log("api")

    done = svc.wait_status(job_id, {"succeeded", "failed"}, 180)
    assert done["status"] == "succeeded", done["error"]
    assert done["attempts"] == 2  # the killed run counts; the new worker ran it again
    assert [e["epoch"] for e in done["runs"][0]["history"]] == list(range(1, 7))
    print(
        f"not ready {not_ready_after:.2f} s after the kill, ready again after {ready_after:.1f} s"
    )


def test_killed_api_requeues_the_running_job_once(embedded: Services) -> None:
    svc = embedded
    svc.start_api()
    assert svc.api is not None
    wait_for(lambda: _ready(svc), 90, "the worker to be ready", every=0.3)
    [worker] = _children(svc.api.pid)
    job_id = svc.submit(epochs=40, train_samples=400)
    wait_for(lambda: svc.job(job_id)["progress"].get("epoch", 0) >= 1, 120, "a finished epoch")
    assert svc.job(job_id)["attempts"] == 1
    # a large request in flight, so that several threads of the API die with it
    body = {"counts": [5] * 1000, "bootstrap": {"resamples": 5000}}
    for _ in range(3):
        with contextlib.suppress(httpx.TimeoutException):
            httpx.post(f"http://127.0.0.1:{svc.port}/v1/model-fit", json=body, timeout=0.2)
    svc.api.send_signal(signal.SIGKILL)
    svc.api.wait(timeout=10)
    svc.api = None

    # the worker gives the job back and exits, well before any reaper would
    wait_for(lambda: _state(worker) in (None, "Z"), 30, "the worker to exit")
    store = JobStore.from_url(f"sqlite:///{svc.tmp / 'data' / 'jobs.db'}")
    job = store.get(job_id)
    assert job is not None
    assert (job.status, job.attempts, job.worker) == ("queued", 0, None)
    assert "shut down; requeued" in (job.error or "")
    log = svc.log("api")
    assert log.count("SIGTERM: stopping gracefully") == 1
    assert "requeued, this worker is shutting down" in log

    # a new API and worker run it again: the attempt was not spent
    svc.start_api()
    running = svc.wait_status(job_id, {"running"}, 120)
    assert running["attempts"] == 1
    assert svc.http.post(f"/v1/experiments/{job_id}/cancel").status_code == 202
    assert svc.wait_status(job_id, {"cancelled"}, 60)["attempts"] == 1


def test_repeated_sigterm_is_one_graceful_stop(tmp_path: Path) -> None:
    """A worker alone, sent SIGTERM three times in a row (as the parent-death signal does)."""
    svc = Services(tmp_path)
    svc.start_api()
    try:
        worker = svc.start_worker(ready=True)
        job_id = svc.submit(epochs=40, train_samples=400)
        wait_for(lambda: svc.job(job_id)["progress"].get("epoch", 0) >= 1, 120, "an epoch")
        for _ in range(3):  # apart: signals pending at once would merge into one
            worker.send_signal(signal.SIGTERM)
            time.sleep(0.01)
        assert worker.wait(timeout=60) == 0
        job = svc.job(job_id)
        assert (job["status"], job["attempts"]) == ("queued", 0)
        log = svc.log("worker0")
        # one graceful stop; the repeats are logged as such while the job is still stopping
        # (it may already be back in the queue when they come: then they are ignored quietly)
        assert log.count("SIGTERM: stopping gracefully") == 1
        assert "Received request to shut down now" not in log
        assert "requeued, this worker is shutting down" in log
    finally:
        svc.close()

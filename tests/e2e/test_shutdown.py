"""Graceful shutdown: the API finishes in-flight requests; a worker requeues its job."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.services import Services, wait_for


@pytest.fixture
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    svc = Services(tmp_path_factory.mktemp("shutdown"))
    svc.start_api()
    try:
        yield svc
    finally:
        svc.close()


def test_sigterm_lets_the_api_finish_in_flight_requests(services: Services) -> None:
    assert services.api is not None
    api = services.api
    answers: list[httpx.Response] = []
    # a model fit with many bootstrap resamples (at the DIVERGENCE_MAX_BOOTSTRAP_WORK cap) takes a while
    body = {"counts": [5] * 1000, "bootstrap": {"resamples": 10000}}

    def slow() -> None:
        answers.append(
            httpx.post(f"http://127.0.0.1:{services.port}/v1/model-fit", json=body, timeout=120)
        )

    caller = threading.Thread(target=slow)
    caller.start()
    wait_for(lambda: "model-fit" in services.log("api") or api.poll() is None, 5, "the request")
    threading.Event().wait(1.0)  # let the request reach the handler
    api.send_signal(signal.SIGTERM)
    caller.join(timeout=120)
    assert answers and answers[0].status_code == 200
    assert answers[0].json()["best"] == "uniform"
    assert api.wait(timeout=60) == 0
    services.api = None


def test_sigterm_makes_a_worker_requeue_its_job(services: Services) -> None:
    worker = services.start_worker()
    job_id = services.submit(epochs=40, train_samples=400)
    wait_for(lambda: services.job(job_id)["progress"]["epoch"] >= 1, 120, "a finished epoch")
    worker.send_signal(signal.SIGTERM)
    # well within the heartbeat timeout: the worker itself gives the job back
    job = services.wait_status(job_id, {"queued"}, timeout=15)
    assert job["attempts"] == 0 and "shut down" in job["error"]
    assert worker.wait(timeout=60) == 0
    services.start_worker()
    wait_for(lambda: services.job(job_id)["status"] == "running", 60, "the job to run again")
    services.http.post(f"/v1/experiments/{job_id}/cancel")
    job = services.wait_status(job_id, {"cancelled"}, timeout=60)
    assert job["attempts"] == 1

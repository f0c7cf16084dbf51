"""Experiments end to end: real API and worker processes, the embedded store and queue."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.services import Services, wait_for


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    svc = Services(tmp_path_factory.mktemp("e2e"))
    svc.start_api()
    try:
        yield svc
    finally:
        svc.close()


def test_submit_follow_and_compare(services: Services) -> None:
    worker = services.start_worker()
    job_id = services.submit(epochs=4, train_samples=400, seed=3)
    mid = services.job(job_id)
    assert mid["status"] in ("queued", "running")
    # progress is visible while the job runs
    running = wait_for(
        lambda: (
            (j := services.job(job_id))["status"] == "running" and j["progress"]["epoch"] >= 1 and j
        ),
        120,
        "progress mid-run",
    )
    assert running["progress"]["runs"] == 2 and running["progress"]["epochs"] == 4
    assert 0 < running["progress"]["fraction"] < 1
    done = services.wait_status(job_id, {"succeeded", "failed"})
    assert done["status"] == "succeeded", done["error"]
    assert [r["loss"] for r in done["runs"]] == ["kl_divergence", "categorical_crossentropy"]
    for run in done["runs"]:
        assert [e["epoch"] for e in run["history"]] == [1, 2, 3, 4]
        assert 0 <= run["test_accuracy"] <= 1 and run["seconds_per_epoch"] > 0
        assert run["identity"]["holds"] and run["identity"]["label_entropy"] == 0.0
    comparison = done["comparison"]
    assert [e["epoch"] for e in comparison["per_epoch"]] == [1, 2, 3, 4]
    kl, ce = done["runs"]
    assert comparison["per_epoch"][0]["loss_gap"] == pytest.approx(
        kl["history"][0]["loss"] - ce["history"][0]["loss"]
    )
    assert set(comparison["test_accuracy"]) == {"kl_divergence", "categorical_crossentropy"}
    assert comparison["cross_entropy_minus_kl_equals_label_entropy"] is True
    assert done["progress"]["fraction"] == 1.0 and done["attempts"] == 1

    # the events of a finished job replay every epoch, then the end
    with services.http.stream("GET", f"/v1/experiments/{job_id}/events") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line[len("event: ") :] for line in r.iter_lines() if line.startswith("event:")]
    assert events == ["progress"] * 8 + ["end"]

    svg = services.http.get(f"/v1/experiments/{job_id}/plot.svg")
    assert svg.headers["content-type"] == "image/svg+xml"
    # two losses: 8 lines of the runs, and the gap panel (KL against the baseline, and 0)
    assert svg.text.startswith("<svg") and svg.text.count("<polyline") == 10
    assert "Gap against the baseline" in svg.text
    assert "kl_divergence validation" in svg.text
    services.kill_worker(worker)


def test_events_stream_live_progress(services: Services) -> None:
    job_id = services.submit(epochs=3, seed=4)
    worker = services.start_worker()
    seen: list[tuple[str, dict]] = []
    with services.http.stream("GET", f"/v1/experiments/{job_id}/events", timeout=120) as r:
        event = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: ") and event is not None:
                seen.append((event, json.loads(line[len("data: ") :])))
    assert [e for e, _ in seen] == ["progress"] * 6 + ["end"]
    epochs = [(d["progress"]["loss"], d["epoch"]) for e, d in seen if e == "progress"]
    assert epochs[:3] == [("kl_divergence", 1), ("kl_divergence", 2), ("kl_divergence", 3)]
    assert seen[-1][1]["status"] == "succeeded"
    services.kill_worker(worker)


def test_cancel_while_queued_never_runs(services: Services) -> None:
    job_id = services.submit()  # no worker is running
    r = services.http.post(f"/v1/experiments/{job_id}/cancel")
    assert r.status_code == 202 and r.json()["status"] == "cancelled"
    worker = services.start_worker()
    marker = services.submit(epochs=1)  # once this one ran, the cancelled one was skipped
    services.wait_status(marker, {"succeeded"})
    job = services.job(job_id)
    assert job["status"] == "cancelled" and job["started_at"] is None and job["attempts"] == 0
    services.kill_worker(worker)


def test_cancel_while_running_keeps_finished_epochs(services: Services) -> None:
    worker = services.start_worker()
    job_id = services.submit(epochs=50, train_samples=400)
    wait_for(lambda: services.job(job_id)["progress"]["epoch"] >= 1, 120, "a finished epoch")
    r = services.http.post(f"/v1/experiments/{job_id}/cancel")
    assert r.status_code == 202 and r.json()["status"] in ("cancelling", "cancelled")
    job = services.wait_status(job_id, {"cancelled"}, timeout=60)
    history = job["runs"][0]["history"]
    assert 1 <= len(history) < 50
    assert [e["epoch"] for e in history] == list(range(1, len(history) + 1))
    assert services.http.post(f"/v1/experiments/{job_id}/cancel").status_code == 202
    assert services.http.delete(f"/v1/experiments/{job_id}").status_code == 204
    assert services.http.get(f"/v1/experiments/{job_id}").status_code == 404
    services.kill_worker(worker)


def test_killed_worker_leaves_no_stuck_job(services: Services) -> None:
    worker = services.start_worker()
    job_id = services.submit(epochs=8, train_samples=400)
    other = services.submit(epochs=1)
    wait_for(lambda: services.job(job_id)["progress"]["epoch"] >= 1, 120, "the job to run")
    services.kill_worker(worker)  # SIGKILL mid-job
    # the API's reaper sees the heartbeat stop (timeout 4 s) and requeues the job
    requeued = services.wait_status(job_id, {"queued"}, timeout=30)
    assert requeued["attempts"] == 1 and "no heartbeat" in requeued["error"]
    assert services.job(other)["status"] == "queued"  # the other job is untouched
    services.start_worker()
    done = services.wait_status(job_id, {"succeeded", "failed"})
    assert done["status"] == "succeeded" and done["attempts"] == 2
    assert [e["epoch"] for e in done["runs"][0]["history"]] == list(range(1, 9))
    assert services.wait_status(other, {"succeeded", "failed"})["status"] == "succeeded"


def test_restarting_the_api_keeps_every_record(services: Services) -> None:
    before = services.http.get("/v1/experiments", params={"limit": 100}).json()["items"]
    assert len(before) >= 5
    services.stop_api()
    services.start_api()
    after = services.http.get("/v1/experiments", params={"limit": 100}).json()["items"]
    assert [(j["id"], j["status"], j["runs"]) for j in after] == [
        (j["id"], j["status"], j["runs"]) for j in before
    ]
    page = services.http.get("/v1/experiments", params={"limit": 2, "status": "succeeded"}).json()
    assert len(page["items"]) == 2 and all(j["status"] == "succeeded" for j in page["items"])

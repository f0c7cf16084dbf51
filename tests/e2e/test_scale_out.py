"""Scale-out mode against real PostgreSQL and Redis: two APIs, two workers, faults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.servers import PrivateDatabase, PrivateRedis
from tests.e2e.services import Services, wait_for

TINY = {"epochs": 1, "train_samples": 100, "test_samples": 20, "batch_size": 50}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, Services]]:
    tmp = tmp_path_factory.mktemp("scale")
    database = PrivateDatabase()
    queue = PrivateRedis(tmp)
    env = {
        "DIVERGENCE_DATABASE_URL": database.url,
        "DIVERGENCE_QUEUE_URL": queue.url,
        "DIVERGENCE_ADMIN_API_KEYS": "ops-key",  # an operator's key: it sees every job's worker
    }
    first = Services(tmp / "a", **env)
    second = Services(tmp / "b", **env)
    for svc in (first, second):
        svc.http.headers["x-api-key"] = "ops-key"
    second.env["DIVERGENCE_QUEUE_NAME"] = first.env["DIVERGENCE_QUEUE_NAME"]
    first.redis = queue  # type: ignore[attr-defined]
    try:
        first.start_api()
        second.start_api()
        first.start_worker(ready=True)
        second.start_worker(ready=True)
        yield first, second
    finally:
        first.close()
        second.close()
        queue.stop()
        database.drop()


def test_both_apis_are_ready_on_postgres_and_redis(cluster: tuple[Services, Services]) -> None:
    for svc in cluster:
        r = svc.http.get("/readyz")
        assert r.json() == {"status": "ready", "checks": {"database": "ok", "queue": "ok"}}


def test_twenty_jobs_across_two_apis_each_run_exactly_once(
    cluster: tuple[Services, Services],
) -> None:
    first, second = cluster
    ids = [(first if i % 2 else second).submit(seed=i, **TINY) for i in range(20)]
    jobs = [first.wait_status(i, {"succeeded", "failed", "cancelled"}, 300) for i in ids]
    assert [j["status"] for j in jobs] == ["succeeded"] * 20
    assert [j["attempts"] for j in jobs] == [1] * 20  # one claim each: run exactly once
    assert all(len(j["runs"]) == 2 and len(j["runs"][0]["history"]) == 1 for j in jobs)
    listed = second.http.get("/v1/experiments", params={"limit": 100}).json()["items"]
    assert set(ids) <= {j["id"] for j in listed}
    metrics = first.http.get("/metrics").text
    assert 'divergence_jobs{status="succeeded"}' in metrics


def test_killed_worker_is_recovered_and_others_unaffected(
    cluster: tuple[Services, Services],
) -> None:
    first, second = cluster
    long_job = first.submit(epochs=30, train_samples=400, batch_size=50)
    # wait until the first worker holds it, then kill that worker
    wait_for(
        lambda: (
            first.job(long_job)["status"] == "running"
            and first.job(long_job)["progress"]["epoch"] >= 1
        ),
        120,
        "the long job to run",
    )
    holder = first.job(long_job)
    pid = int(holder["worker"].rsplit(":", 1)[1])
    victim = next(w for w in first.workers + second.workers if w.pid == pid)
    others = [second.submit(seed=100 + i, **TINY) for i in range(3)]
    first.kill_worker(victim)
    # the survivor finishes the others, and the reaper requeues the long job within the
    # heartbeat timeout (4 s) for the survivor to run it again
    requeued = wait_for(
        lambda: (j := first.job(long_job))["attempts"] >= 2 and j, 60, "the job to be run again"
    )
    assert requeued["status"] in ("running", "succeeded")
    for job_id in others:
        job = first.wait_status(job_id, {"succeeded", "failed"}, 120)
        assert job["status"] == "succeeded" and job["attempts"] == 1
    first.http.post(f"/v1/experiments/{long_job}/cancel")
    assert first.wait_status(long_job, {"cancelled", "succeeded"}, 60)["status"] == "cancelled"
    assert holder["status"] == "running"


def test_restarting_the_api_and_redis_loses_no_record(
    cluster: tuple[Services, Services],
) -> None:
    first, second = cluster
    for worker in first.workers + second.workers:  # no worker: jobs stay queued
        if worker.poll() is None:
            first.kill_worker(worker)
    before = {
        j["id"]: j["status"] for j in first.http.get("/v1/experiments?limit=100").json()["items"]
    }
    waiting = [first.submit(seed=200 + i, **TINY) for i in range(2)]

    first.stop_api()
    first.start_api()
    redis_server = first.redis  # type: ignore[attr-defined]
    redis_server.stop()  # the queued messages are lost: this Redis keeps nothing on disk
    redis_server.start()

    after = {
        j["id"]: j["status"] for j in first.http.get("/v1/experiments?limit=100").json()["items"]
    }
    assert {k: after[k] for k in before} == before
    assert [after[i] for i in waiting] == ["queued", "queued"]
    # a new worker: the reaper sees queued jobs missing from the empty queue and enqueues them
    second.start_worker(ready=True)
    for job_id in waiting:
        job = first.wait_status(job_id, {"succeeded", "failed"}, 120)
        assert job["status"] == "succeeded" and job["attempts"] == 1

"""Resume, not restart, against real processes: a worker SIGKILLed during epoch k of a run;
the reaper requeues the job, another worker takes up the run after its last finished epoch,
and the job ends with exactly `epochs` epochs per run, one continuous history, no duplicates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.services import Services, wait_for

EPOCHS = 4


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    svc = Services(tmp_path)
    svc.start_api()
    try:
        yield svc
    finally:
        svc.close()


def test_a_killed_worker_s_job_resumes_at_its_last_finished_epoch(services: Services) -> None:
    worker = services.start_worker()
    # 3,200 training images: epochs of about a second, so that the kill below lands inside
    # the first run (with 400 images the run's last epochs took a fraction of a second, and
    # the job could end before the test looked)
    job_id = services.submit(epochs=EPOCHS, train_samples=4000, seed=2, label_smoothing=0.1)
    checkpoint = services.tmp / "data" / "checkpoints" / job_id

    def killable() -> int | None:
        progress = services.job(job_id)["progress"]
        return progress["epoch"] if progress.get("run") == 1 and progress["epoch"] >= 1 else None

    wait_for(killable, 120, "the first run to finish an epoch", every=0.05)
    services.kill_worker(worker)  # SIGKILL during epoch k of the KL run (k >= 2)
    assert (checkpoint / "state.json").is_file()
    before = services.job(job_id)
    finished = [e["epoch"] for e in before["runs"][0]["history"]]
    assert 1 <= len(finished) < EPOCHS

    requeued = services.wait_status(job_id, {"queued"}, timeout=30)
    assert requeued["attempts"] == 1 and "no heartbeat" in requeued["error"]
    assert requeued["runs"][0]["history"][: len(finished)] == before["runs"][0]["history"]
    services.start_worker()

    def done_and_never_shorter() -> dict[str, Any] | None:
        # the new attempt's claim keeps what the checkpoint holds: the history never reads
        # shorter than before the kill while the job is taken up again
        job = services.job(job_id)
        assert len(job["runs"][0]["history"]) >= len(finished), job["runs"][0]["history"]
        return job if job["status"] in ("succeeded", "failed") else None

    done = wait_for(done_and_never_shorter, 120, "the resumed job to end", every=0.05)
    assert done["status"] == "succeeded", done["error"]
    assert done["attempts"] == 2
    kl, ce = done["runs"]
    for run in (kl, ce):
        assert [e["epoch"] for e in run["history"]] == list(range(1, EPOCHS + 1))
    # the KL run went on after the epochs it had finished (at least those seen before the
    # kill; one more if the kill came between its checkpoint and its record), and those
    # epochs are the ones the first worker trained, not trained again
    [resumed] = kl["resumed_after"]
    assert len(finished) <= resumed <= len(finished) + 1 and resumed < EPOCHS
    assert kl["history"][: len(finished)] == before["runs"][0]["history"]
    assert ce["resumed_after"] == []
    assert done["comparison"]["per_epoch"][-1]["epoch"] == EPOCHS
    assert not checkpoint.exists()  # the job is over: its checkpoint is gone
    # the stream numbers every epoch once
    with services.http.stream("GET", f"/v1/experiments/{job_id}/events") as r:
        names = [line[len("event: ") :] for line in r.iter_lines() if line.startswith("event:")]
    assert names == ["progress"] * (2 * EPOCHS) + ["end"]

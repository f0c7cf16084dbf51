"""A job whose training raises (out of memory, a bug) ends failed with the reason, and the
worker goes on to the next job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.jobs.store import JobStore
from app.worker import runner

CONFIG = {"dataset": "synthetic", "losses": ["kl_divergence"], "epochs": 1, "batch_size": 50,
          "validation_split": 0.2, "seed": 0, "train_samples": 100, "test_samples": 20}  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    s = JobStore.from_url(f"sqlite:///{tmp_path / 'jobs.db'}")
    s.create_schema()
    return s


def test_out_of_memory_fails_the_job_and_the_next_one_runs(
    store: JobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = runner.run_experiment
    calls: list[str] = []

    def exhausted(config: dict[str, Any], keras_home: Path, *rest: Any) -> Any:
        calls.append("boom")
        if len(calls) == 1:
            raise MemoryError("Unable to allocate 12.0 GiB for an array")
        return real(config, keras_home, *rest)

    monkeypatch.setattr(runner, "run_experiment", exhausted)
    first, second = store.create(CONFIG), store.create(CONFIG)
    runner.execute(store, first.id, "w1", tmp_path, interval=0.5)
    runner.execute(store, second.id, "w1", tmp_path, interval=0.5)
    failed, done = store.get(first.id), store.get(second.id)
    assert failed is not None and failed.status == "failed"
    assert failed.error == "MemoryError: Unable to allocate 12.0 GiB for an array"
    assert done is not None and done.status == "succeeded"


def test_a_job_taken_during_shutdown_goes_back_to_the_queue(
    store: JobStore, tmp_path: Path
) -> None:
    import threading

    job = store.create(CONFIG)
    stopping = threading.Event()
    stopping.set()
    requeued: list[str] = []
    runner.execute(store, job.id, "w1", tmp_path, 0.5, shutdown=stopping, requeue=requeued.append)
    assert requeued == [job.id]
    row = store.get(job.id)
    assert row is not None and row.status == "queued" and row.attempts == 0

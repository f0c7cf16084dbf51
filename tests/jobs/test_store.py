"""The job store's transitions on a real SQLite file: claims, cancels, reaping, paging."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, update

from app.config import Settings
from app.jobs.models import EpochRow, JobRow
from app.jobs.schema import head_revision, revision_of
from app.jobs.store import JobStore, utcnow
from app.jobs.wiring import get_queue, get_store
from tests.e2e.servers import PrivateDatabase

CONFIG = {"dataset": "synthetic", "losses": ["kl_divergence"], "epochs": 2}


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    s = JobStore.from_url(f"sqlite:///{tmp_path / 'jobs.db'}")
    s.create_schema()
    return s


def _age_heartbeat(store: JobStore, job_id: str, seconds: float) -> None:
    with store.session() as s:
        s.execute(
            update(JobRow)
            .where(JobRow.id == job_id)
            .values(heartbeat_at=utcnow() - timedelta(seconds=seconds))
        )


def test_create_get_and_claim_once(store: JobStore) -> None:
    job = store.create(CONFIG)
    assert store.get(job.id).status == "queued"  # type: ignore[union-attr]
    claimed = store.claim(job.id, "w1")
    assert claimed is not None and claimed.status == "running" and claimed.attempts == 1
    assert store.claim(job.id, "w2") is None  # a second worker cannot take it


def test_cancel_queued_job_never_runs(store: JobStore) -> None:
    job = store.create(CONFIG)
    assert store.request_cancel(job.id) == "cancelled"
    assert store.claim(job.id, "w1") is None
    row = store.get(job.id)
    assert row is not None and row.status == "cancelled" and row.started_at is None


def test_cancel_running_job_asks_the_worker(store: JobStore) -> None:
    job = store.create(CONFIG)
    store.claim(job.id, "w1")
    assert store.request_cancel(job.id) == "cancelling"
    assert store.heartbeat(job.id, "w1", {"epoch": 1}) == "cancelling"
    assert store.finish(job.id, "w1", "cancelled", {"runs": {}})
    assert store.get(job.id).status == "cancelled"  # type: ignore[union-attr]
    assert store.request_cancel(job.id) == "cancelled"  # idempotent on a finished job


def _epoch(job_id: str, run: str, epoch: int) -> EpochRow:
    return EpochRow(
        job_id=job_id, loss=run, epoch=epoch, loss_value=1.0 / epoch, accuracy=0.5,
        val_loss=None, val_accuracy=None, seconds=0.1,
    )  # fmt: skip


def test_a_new_attempt_keeps_the_epochs_its_checkpoint_holds(store: JobStore) -> None:
    job = store.create(CONFIG)
    store.claim(job.id, "w1")
    for run, epochs in (("kl_divergence@0", 3), ("categorical_crossentropy@0", 2)):
        for epoch in range(1, epochs + 1):
            store.record_epoch(job.id, _epoch(job.id, run, epoch), {"epoch": epoch})
    _age_heartbeat(store, job.id, 60)
    assert [r.outcome for r in store.reap(timeout=30, max_attempts=2)] == ["requeued"]
    assert store.claim(job.id, "w2") is not None
    assert len(store.epochs(job.id)) == 5  # the claim itself deletes nothing
    # the checkpoint saved epochs 1-2 of the KL run only: the rest goes
    assert store.keep_epochs(job.id, {"kl_divergence@0": {1, 2}}) == 3
    assert sorted((e.loss, e.epoch) for e in store.epochs(job.id)) == [
        ("kl_divergence@0", 1),
        ("kl_divergence@0", 2),
    ]
    assert store.keep_epochs(job.id, {}) == 2  # no checkpoint: the job starts afresh
    assert store.epochs(job.id) == []


def test_epochs_are_recorded_and_cleared_on_a_new_attempt(store: JobStore) -> None:
    job = store.create(CONFIG)
    store.claim(job.id, "w1")
    row = EpochRow(
        job_id=job.id, loss="kl_divergence", epoch=1, loss_value=1.0, accuracy=0.5,
        val_loss=None, val_accuracy=None, seconds=0.1,
    )  # fmt: skip
    store.record_epoch(job.id, row, {"epoch": 1})
    assert [e.epoch for e in store.epochs(job.id)] == [1]
    assert store.get(job.id).progress == {"epoch": 1}  # type: ignore[union-attr]
    _age_heartbeat(store, job.id, 60)
    assert [r.outcome for r in store.reap(timeout=30, max_attempts=2)] == ["requeued"]
    assert store.claim(job.id, "w2") is not None
    assert store.keep_epochs(job.id, {}) == 1  # what a worker without a checkpoint does
    assert store.epochs(job.id) == []


def test_reaper_fails_after_the_last_attempt_and_spares_live_jobs(store: JobStore) -> None:
    dead, alive = store.create(CONFIG), store.create(CONFIG)
    store.claim(dead.id, "w1")
    store.claim(alive.id, "w2")
    _age_heartbeat(store, dead.id, 60)
    reaped = store.reap(timeout=30, max_attempts=1)
    assert [(r.id, r.outcome) for r in reaped] == [(dead.id, "failed")]
    row = store.get(dead.id)
    assert row is not None and row.status == "failed"
    assert row.error is not None and "no heartbeat for 30 s" in row.error
    assert store.get(alive.id).status == "running"  # type: ignore[union-attr]
    # the lost worker cannot overwrite the outcome afterwards
    assert not store.finish(dead.id, "w1", "succeeded", {})


def test_reaper_ends_a_cancelling_job_as_cancelled(store: JobStore) -> None:
    job = store.create(CONFIG)
    store.claim(job.id, "w1")
    store.request_cancel(job.id)
    _age_heartbeat(store, job.id, 60)
    assert [r.outcome for r in store.reap(timeout=30, max_attempts=2)] == ["cancelled"]


def test_delete_only_finished_jobs(store: JobStore) -> None:
    job = store.create(CONFIG)
    assert not store.delete(job.id)
    store.request_cancel(job.id)
    assert store.delete(job.id)
    assert store.get(job.id) is None


def test_pages_with_cursor_and_status_filter(store: JobStore) -> None:
    ids = [store.create(CONFIG).id for _ in range(5)]
    store.request_cancel(ids[0])
    first, cursor = store.page(None, 2, None)
    assert [j.id for j in first] == ids[::-1][:2] and cursor is not None
    second, cursor = store.page(None, 2, cursor)
    third, last = store.page(None, 2, cursor)
    assert [j.id for j in first + second + third] == ids[::-1] and last is None
    cancelled, _ = store.page("cancelled", 10, None)
    assert [j.id for j in cancelled] == [ids[0]]
    with pytest.raises(ValueError, match="not a cursor"):
        store.page(None, 2, "garbage!")


def _all_at_once(count: int, work: Callable[[], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run ``work`` in ``count`` threads released together; their results and errors."""
    start = threading.Barrier(count)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            results.append(work())
        except BaseException as exc:  # the test reports every failure
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def _create_schemas_at_once(url: str, count: int) -> list[JobStore]:
    """``count`` stores, each with its own engine, creating the schema at the same moment."""
    stores = [JobStore.from_url(url) for _ in range(count)]
    mine = iter(stores)
    lock = threading.Lock()

    def create() -> None:
        with lock:
            store = next(mine)
        store.create_schema()

    _, errors = _all_at_once(count, create)
    assert errors == []
    assert set(inspect(stores[0].engine).get_table_names()) == {
        "alembic_version",
        "jobs",
        "job_epochs",
        "write_probes",
        "drift_references",
        "drift_checks",
    }
    assert revision_of(stores[0].engine) == head_revision()
    return stores


@pytest.mark.parametrize("round_", range(5))
def test_many_creators_make_the_schema_at_once_on_a_new_sqlite_file(
    tmp_path: Path, round_: int
) -> None:
    # the API, its reaper and the workers all migrate as they start; without taking turns,
    # one of them fails with "table jobs already exists" or "database is locked"
    stores = _create_schemas_at_once(f"sqlite:///{tmp_path / f'jobs{round_}.db'}", 6)
    job = stores[1].create(CONFIG)
    assert stores[5].get(job.id) is not None


def test_concurrent_schema_creation_on_postgresql() -> None:
    db = PrivateDatabase()
    stores: list[JobStore] = []
    try:
        stores = _create_schemas_at_once(db.url, 4)
    finally:
        for s in stores:
            s.engine.dispose()
        db.drop()


def test_one_store_and_one_queue_per_process_however_many_threads_ask(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", queue_name=f"q-{tmp_path.name}")
    stores, errors = _all_at_once(8, lambda: get_store(settings))
    assert errors == [] and len(stores) == 8 and len({id(s) for s in stores}) == 1
    queues, errors = _all_at_once(8, lambda: get_queue(settings))
    assert errors == [] and len({id(q) for q in queues}) == 1
    # a worker's queue runs jobs: it is its own, not the shared enqueue-only one
    assert get_queue(settings, runner=lambda job_id: None) is not queues[0]
    queues[0].enqueue(stores[0].create(CONFIG).id)
    assert get_queue(settings).depth() == 1


def test_a_worker_the_job_was_taken_from_stops_and_writes_nothing(store: JobStore) -> None:
    """After a silence the reaper gives the job to another worker while the first one still
    runs (a database outage, a paused VM): the first one's heartbeat now says stop, and its
    late epochs do not overwrite the new attempt's."""
    job = store.create(CONFIG)
    store.claim(job.id, "w1")
    assert store.heartbeat(job.id, "w1", {"epoch": 1}) == "running"
    _age_heartbeat(store, job.id, 60)
    assert [r.outcome for r in store.reap(timeout=30, max_attempts=3)] == ["requeued"]
    assert store.claim(job.id, "w2") is not None
    assert store.heartbeat(job.id, "w1", {"epoch": 2}) is None  # not w1's any more: stop
    assert store.heartbeat(job.id, "w2", {"epoch": 1}) == "running"
    store.record_epoch(job.id, _epoch(job.id, "kl_divergence@0", 1), {}, worker="w2")
    late = _epoch(job.id, "kl_divergence@0", 1)
    late.loss_value = 99.0
    store.record_epoch(job.id, late, {}, worker="w1")  # ignored
    [kept] = store.epochs(job.id)
    assert kept.loss_value == 1.0
    assert not store.finish(job.id, "w1", "succeeded", {})  # nor can it end the job

"""Reading a job changes nothing in the database: no UPDATE on a GET, a plot or an SSE poll;
times are stored in UTC and come back aware."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from app.config import Settings
from app.jobs.models import EpochRow
from app.jobs.store import JobStore
from app.jobs.wiring import get_store
from app.main import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

CONFIG = {
    "dataset": "synthetic",
    "losses": ["kl_divergence", "categorical_crossentropy"],
    "epochs": 1,
    "batch_size": 50,
    "train_samples": 100,
    "test_samples": 20,
    "seed": 1,
    "validation_split": 0.2,
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, JobStore]]:
    settings = Settings(data_dir=tmp_path / "data", keras_home=tmp_path / "keras")
    with TestClient(create_app(settings)) as client:
        yield client, get_store(settings)


def _statements(store: JobStore) -> tuple[list[str], Any]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.strip().split()[0].upper())

    event.listen(store.engine, "before_cursor_execute", record)
    return seen, record


def test_reading_a_job_issues_no_write(served: tuple[TestClient, JobStore]) -> None:
    client, store = served
    submitted = client.post("/v1/experiments", json=CONFIG)
    assert submitted.status_code == 202, submitted.text
    job = store.get(submitted.json()["id"])
    assert job is not None and store.claim(job.id, "w:1") is not None
    store.record_epoch(
        job.id,
        EpochRow(
            job_id=job.id, loss="kl_divergence", epoch=1, loss_value=1.2, accuracy=0.3,
            val_loss=1.3, val_accuracy=0.25, seconds=0.1,
        ),
        {"epoch": 1},
    )  # fmt: skip
    store.finish(job.id, "w:1", "cancelled", None)

    seen, record = _statements(store)
    try:
        reads = [
            client.get(f"/v1/experiments/{job.id}"),
            client.get(f"/v1/experiments/{job.id}/plot.svg"),
            client.get(f"/v1/experiments/{job.id}/events"),  # a finished job: replay, end
            client.get("/v1/experiments"),
        ]
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert [r.status_code for r in reads] == [200, 200, 200, 200], [r.text for r in reads]
    assert seen.count("SELECT") >= 4
    assert [s for s in seen if s in ("UPDATE", "INSERT", "DELETE")] == []


def test_times_are_stored_in_utc_and_loaded_aware(tmp_path: Path) -> None:
    store = JobStore.from_url(f"sqlite:///{tmp_path / 'jobs.db'}")
    store.create_schema()
    job = store.create(CONFIG)
    # a time given in another zone is the same instant, stored as UTC wall time
    plus_two = datetime(2030, 1, 2, 5, 0, tzinfo=timezone(timedelta(hours=2)))
    with store.session() as s:
        row = s.get(type(job), job.id)
        assert row is not None
        row.heartbeat_at = plus_two
    with store.engine.connect() as conn:
        raw = conn.execute(text("SELECT heartbeat_at FROM jobs")).scalar_one()
    assert str(raw).startswith("2030-01-02 03:00:00")
    loaded = store.get(job.id)
    assert loaded is not None
    assert loaded.heartbeat_at == datetime(2030, 1, 2, 3, 0, tzinfo=UTC)
    assert loaded.heartbeat_at.tzinfo is UTC and loaded.created_at.tzinfo is UTC
    assert abs(loaded.created_at - datetime.now(UTC)) < timedelta(seconds=30)


def test_a_naive_time_is_refused(tmp_path: Path) -> None:
    store = JobStore.from_url(f"sqlite:///{tmp_path / 'jobs.db'}")
    store.create_schema()
    job = store.create(CONFIG)
    with pytest.raises(Exception, match="naive datetime"), store.session() as s:
        row = s.get(type(job), job.id)
        assert row is not None
        row.started_at = datetime(2030, 1, 1)


def test_a_page_of_the_list_reads_epochs_in_one_query(
    served: tuple[TestClient, JobStore],
) -> None:
    client, store = served
    ids = []
    for _ in range(6):
        r = client.post("/v1/experiments", json=CONFIG)
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    for i, job_id in enumerate(ids):
        assert store.claim(job_id, "w:1") is not None
        store.record_epoch(
            job_id,
            EpochRow(
                job_id=job_id, loss="kl_divergence", epoch=1, loss_value=float(i), accuracy=0.3,
                val_loss=None, val_accuracy=None, seconds=0.1,
            ),
            {"epoch": 1},
        )  # fmt: skip
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        page = client.get("/v1/experiments?limit=10")
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert page.status_code == 200
    items = page.json()["items"]
    # every job's own epoch came back with it ...
    losses = {item["id"]: item["runs"][0]["history"][0]["loss"] for item in items}
    assert losses == {job_id: float(i) for i, job_id in enumerate(ids)}
    # ... from one query over the epochs table, not one per job
    assert sum("FROM job_epochs" in s for s in statements) == 1

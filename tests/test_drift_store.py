"""The drift store on SQLite and PostgreSQL: the migration from revision 0002, versions,
the quota, pages, the cap on checks, deletes, and what the gauges read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, inspect

from app.jobs.drift_store import DriftStore, ReferenceQuotaError
from app.jobs.schema import _config, head_revision, revision_of
from app.jobs.store import JobStore
from tests.e2e.servers import PrivateDatabase

SPEC = {"description": None, "thresholds": None, "features": {"x": {"kind": "categorical"}}}


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = create_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
        yield made
        made.dispose()
        return
    db = PrivateDatabase()
    made = create_engine(db.url)
    try:
        yield made
    finally:
        made.dispose()
        db.drop()


def test_revision_0002_is_upgraded_with_the_drift_tables(engine: Engine) -> None:
    with engine.begin() as connection:
        command.upgrade(_config(connection), "0002")
    assert "drift_references" not in inspect(engine).get_table_names()
    JobStore(engine).create_schema()
    assert revision_of(engine) == head_revision() == "0003"
    assert {"drift_references", "drift_checks"} <= set(inspect(engine).get_table_names())


@pytest.fixture
def drift(engine: Engine) -> DriftStore:
    store = JobStore(engine)
    store.create_schema()
    return DriftStore(store)


def test_versions_quota_and_pages(drift: DriftStore) -> None:
    assert drift.create("alice", "a", SPEC, 4).version == 1
    assert drift.create("alice", "a", SPEC, 4).version == 2
    assert drift.create("alice", "b", SPEC, 4).version == 1
    assert drift.create("bob", "a", SPEC, 4).version == 1  # another namespace
    drift.create("alice", "c", SPEC, 4)
    with pytest.raises(ReferenceQuotaError):
        drift.create("alice", "d", SPEC, 4)
    assert drift.get("alice", "d") is None  # rolled back
    newest = drift.get("alice", "a")
    assert newest is not None and newest.version == 2
    assert drift.versions("alice", "a") == [1, 2]
    page, cursor = drift.page("alice", 2, None)
    assert [(r.name, r.version) for r in page] == [("a", 2), ("b", 1)]
    rest, end = drift.page("alice", 2, cursor)
    assert [(r.name, r.version) for r in rest] == [("c", 1)] and end is None
    everyone, _ = drift.page(None, 10, None)
    assert [(r.owner, r.name) for r in everyone] == [
        ("alice", "a"),
        ("alice", "b"),
        ("alice", "c"),
        ("bob", "a"),
    ]
    with pytest.raises(ValueError):
        drift.page("alice", 2, "not-a-cursor")


def test_checks_are_capped_paged_and_deleted_with_their_reference(drift: DriftStore) -> None:
    ref = drift.create("alice", "a", SPEC, 10)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for i in range(5):
        at = start + timedelta(minutes=i)
        latest = {"verdict": "drift", "at": at.timestamp(), "features": {}}
        assert drift.add_check(ref, "drift", {"i": i}, latest, 3, at, f"c{i}")
    rows, cursor = drift.checks([ref.id], None, 2, None)
    assert [r.id for r in rows] == ["c4", "c3"]
    rows, cursor = drift.checks([ref.id], None, 2, cursor)
    assert [r.id for r in rows] == ["c2"] and cursor is None  # c0, c1 dropped by the cap
    rows, _ = drift.checks([ref.id], start + timedelta(minutes=3), 10, None)
    assert [r.id for r in rows] == ["c4"]
    assert drift.latest(10) == [
        (
            "alice",
            "a",
            {"verdict": "drift", "at": (start + timedelta(minutes=4)).timestamp(), "features": {}},
        )
    ]
    assert drift.delete("alice", "a") == 1
    assert drift.checks([ref.id], None, 10, None) == ([], None)
    assert drift.latest(10) == []
    assert not drift.add_check(ref, None, {}, {}, 3, start, "late")  # its reference is gone

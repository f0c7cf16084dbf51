"""Schema changes are Alembic migrations: a new database is migrated to exactly the models'
schema (SQLite and PostgreSQL), and a database made by the first release, before migrations,
is upgraded in place with its jobs kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, insert, inspect

from app.jobs.models import Base, EpochRow, JobRow
from app.jobs.schema import head_revision, migrate, revision_of
from app.jobs.store import JobStore
from tests.e2e.servers import PrivateDatabase


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


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_a_new_database_is_migrated_to_exactly_the_models(engine: Engine) -> None:
    assert revision_of(engine) is None
    migrate(engine)
    assert revision_of(engine) == head_revision()
    assert _differences(engine) == []
    migrate(engine)  # again: nothing to do
    assert revision_of(engine) == head_revision()


def test_a_first_release_database_is_upgraded_in_place(engine: Engine) -> None:
    # what the first release made with create_all: two tables, no alembic_version
    first = [JobRow.__table__, EpochRow.__table__]
    Base.metadata.create_all(engine, tables=first)  # type: ignore[arg-type]
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(JobRow).values(
                id="j1", kind="loss_comparison", status="succeeded", config={"epochs": 1},
                progress={}, attempts=1, owner="ip:127.0.0.1", created_at=now,
            )
        )  # fmt: skip
    assert "write_probes" not in inspect(engine).get_table_names()

    JobStore(engine).create_schema()

    assert revision_of(engine) == head_revision()
    assert _differences(engine) == []
    job = JobStore(engine).get("j1")
    assert job is not None and job.status == "succeeded" and job.created_at == now
    JobStore(engine).check_writable()  # the table the second revision added takes writes

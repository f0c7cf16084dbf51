"""The job store: every state change of a job is one conditional UPDATE on its row.

The row, never the queue, is the truth about a job. A transition names the states it may
start from (``WHERE status IN ...``), so two processes racing on one job (a worker claiming
it while the API cancels it, two reapers) cannot both win.
"""

from __future__ import annotations

import base64
import random
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app.jobs.models import ACTIVE, FINISHED, Base, EpochRow, JobRow

__all__ = ["JobStore", "ReapedJob", "make_engine", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; every stored time is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL and a busy timeout for its several processes."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


@dataclass(frozen=True)
class ReapedJob:
    id: str
    outcome: str  # "requeued", "failed" or "cancelled"


class JobStore:
    """Job rows and their epochs, on any SQLAlchemy database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> JobStore:
        return cls(make_engine(url))

    def create_schema(self, attempts: int = 8) -> None:
        """Create the tables that are missing.

        The API, its reaper and every worker do this as they start, often at the same moment
        on a new database; checking and creating are not one atomic step, so a creator that
        loses the race ("already exists", or a lock that SQLite will not wait for) tries again
        and then finds the tables made.
        """
        for attempt in range(1, attempts + 1):
            try:
                Base.metadata.create_all(self.engine)
                return
            except DBAPIError:
                if attempt == attempts:
                    raise
                time.sleep(random.uniform(0.02, 0.1) * attempt)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def ping(self) -> None:
        with self.session() as s:
            s.execute(select(1))

    # -- the API's side ---------------------------------------------------------------------

    def create(
        self, config: dict[str, Any], kind: str = "loss_comparison", owner: str | None = None
    ) -> JobRow:
        job = JobRow(
            id=str(uuid.uuid4()),
            kind=kind,
            owner=owner,
            status="queued",
            config=config,
            progress={},
            attempts=0,
            created_at=utcnow(),
        )
        with self.session() as s:
            s.add(job)
        return job

    def get(self, job_id: str) -> JobRow | None:
        with self.session() as s:
            job = s.get(JobRow, job_id)
            if job is not None:
                _fix_times(job)
            return job

    def epochs(self, job_id: str) -> list[EpochRow]:
        with self.session() as s:
            rows = s.scalars(
                select(EpochRow)
                .where(EpochRow.job_id == job_id)
                .order_by(EpochRow.loss, EpochRow.epoch)
            )
            return list(rows)

    def page(
        self, status: str | None, limit: int, cursor: str | None
    ) -> tuple[list[JobRow], str | None]:
        """Newest first; ``cursor`` is the opaque ``next_cursor`` of the previous page."""
        query = select(JobRow).order_by(JobRow.created_at.desc(), JobRow.id.desc())
        if status is not None:
            query = query.where(JobRow.status == status)
        if cursor is not None:
            created, job_id = decode_cursor(cursor)
            query = query.where(
                (JobRow.created_at < created)
                | ((JobRow.created_at == created) & (JobRow.id < job_id))
            )
        with self.session() as s:
            rows = list(s.scalars(query.limit(limit + 1)))
        for row in rows:
            _fix_times(row)
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], encode_cursor(last.created_at, last.id)

    def request_cancel(self, job_id: str) -> str | None:
        """Cancel a queued job at once, ask a running one to stop; return the new status."""
        now = utcnow()
        with self.session() as s:
            done = s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == "queued")
                .values(status="cancelled", finished_at=now)
            )
            if done.rowcount:  # type: ignore[attr-defined]
                return "cancelled"
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == "running")
                .values(status="cancelling")
            )
            job = s.get(JobRow, job_id)
            return None if job is None else job.status

    def delete(self, job_id: str) -> bool:
        """Delete a finished job and its epochs; False if it is not finished (or absent)."""
        with self.session() as s:
            s.execute(delete(EpochRow).where(EpochRow.job_id == job_id))
            gone = s.execute(delete(JobRow).where(JobRow.id == job_id, JobRow.status.in_(FINISHED)))
            return bool(gone.rowcount)  # type: ignore[attr-defined]

    def queued_count(self, owner: str) -> int:
        with self.session() as s:
            query = select(func.count()).where(JobRow.owner == owner, JobRow.status == "queued")
            return int(s.execute(query).scalar_one())

    def count_by_status(self) -> dict[str, int]:
        with self.session() as s:
            rows = s.execute(select(JobRow.status, func.count()).group_by(JobRow.status))
            return {status: int(n) for status, n in rows}

    # -- the worker's side ------------------------------------------------------------------

    def claim(self, job_id: str, worker: str) -> JobRow | None:
        """Move a queued job to running for ``worker``; None if it is not queued any more.

        A job being run again after a lost worker starts afresh: its old epochs go.
        """
        now = utcnow()
        with self.session() as s:
            won = s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == "queued")
                .values(
                    status="running",
                    worker=worker,
                    started_at=now,
                    heartbeat_at=now,
                    attempts=JobRow.attempts + 1,
                    progress={},
                    error=None,
                )
            )
            if not won.rowcount:  # type: ignore[attr-defined]
                return None
            s.execute(delete(EpochRow).where(EpochRow.job_id == job_id))
            job = s.get(JobRow, job_id)
            assert job is not None
            _fix_times(job)
            return job

    def heartbeat(self, job_id: str, worker: str, progress: dict[str, Any]) -> str | None:
        """Record that ``worker`` is alive and how far it got; return the job's status."""
        with self.session() as s:
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.worker == worker, JobRow.status.in_(ACTIVE))
                .values(heartbeat_at=utcnow(), progress=progress)
            )
            job = s.get(JobRow, job_id)
            return None if job is None else job.status

    def record_epoch(self, job_id: str, row: EpochRow, progress: dict[str, Any]) -> None:
        with self.session() as s:
            s.merge(row)
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status.in_(ACTIVE))
                .values(progress=progress, heartbeat_at=utcnow())
            )

    def finish(
        self,
        job_id: str,
        worker: str,
        status: str,
        result: dict[str, Any] | None,
        error: str | None = None,
        progress: dict[str, Any] | None = None,
    ) -> bool:
        """End the job ``worker`` holds; False if it was reaped from under it meanwhile."""
        values: dict[str, Any] = {
            "status": status,
            "result": result,
            "error": error,
            "finished_at": utcnow(),
        }
        if progress is not None:
            values["progress"] = progress
        with self.session() as s:
            done = s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.worker == worker, JobRow.status.in_(ACTIVE))
                .values(**values)
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def release(self, job_id: str, worker: str) -> bool:
        """Give a running job back to the queue (its worker is shutting down): it keeps its
        attempt count, loses its partial epochs on the next claim, and is not failed."""
        with self.session() as s:
            done = s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.worker == worker, JobRow.status == "running")
                .values(
                    status="queued",
                    worker=None,
                    attempts=JobRow.attempts - 1,
                    error="its worker shut down; requeued",
                )
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def reap(self, timeout: float, max_attempts: int) -> list[ReapedJob]:
        """Recover running jobs whose heartbeat stopped ``timeout`` seconds ago.

        A job asked to cancel ends ``cancelled``; one with attempts left goes back to
        ``queued`` (the caller enqueues it again); the others end ``failed`` with the reason.
        """
        now = utcnow()
        cutoff = now - timedelta(seconds=timeout)
        with self.session() as s:
            stale = list(
                s.scalars(
                    select(JobRow).where(JobRow.status.in_(ACTIVE), JobRow.heartbeat_at < cutoff)
                )
            )
        reaped: list[ReapedJob] = []
        for job in stale:
            reason = f"worker {job.worker} lost: no heartbeat for {timeout:g} s"
            if job.status == "cancelling":
                outcome, values = "cancelled", {"status": "cancelled", "finished_at": now}
            elif job.attempts < max_attempts:
                outcome = "requeued"
                values = {"status": "queued", "worker": None, "error": f"{reason}; requeued"}
            else:
                outcome = "failed"
                values = {
                    "status": "failed",
                    "finished_at": now,
                    "error": f"{reason} (attempt {job.attempts} of {max_attempts})",
                }
            with self.session() as s:
                won = s.execute(
                    update(JobRow)
                    .where(
                        JobRow.id == job.id,
                        JobRow.status == job.status,
                        JobRow.heartbeat_at < cutoff,
                    )
                    .values(**values)
                )
                if won.rowcount:  # type: ignore[attr-defined]
                    reaped.append(ReapedJob(job.id, outcome))
        return reaped

    def queued_before(self, seconds: float) -> Sequence[str]:
        """Ids of jobs queued (or requeued) more than ``seconds`` ago."""
        cutoff = utcnow() - timedelta(seconds=seconds)
        with self.session() as s:
            rows = s.scalars(
                select(JobRow.id).where(
                    JobRow.status == "queued",
                    JobRow.created_at < cutoff,
                    (JobRow.heartbeat_at.is_(None)) | (JobRow.heartbeat_at < cutoff),
                )
            )
            return list(rows)


def _fix_times(job: JobRow) -> None:
    job.created_at = _aware(job.created_at) or job.created_at
    job.started_at = _aware(job.started_at)
    job.finished_at = _aware(job.finished_at)
    job.heartbeat_at = _aware(job.heartbeat_at)


def encode_cursor(created: datetime, job_id: str) -> str:
    raw = f"{created.isoformat()}|{job_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Raise ValueError for a cursor this store did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, job_id = raw.split("|", 1)
        return datetime.fromisoformat(created), job_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("not a cursor from this service") from exc

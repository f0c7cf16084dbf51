"""The job store: every state change of a job is one conditional UPDATE on its row.

The row, never the queue, is the truth about a job. A transition names the states it may
start from (``WHERE status IN ...``), so two processes racing on one job (a worker claiming
it while the API cancels it, two reapers) cannot both win. This module holds the API's side
(create, read, page, cancel, delete); the worker's side is ``app.jobs.transitions``.
"""

from __future__ import annotations

import base64
import os
import random
import socket
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.jobs.engine import make_engine
from app.jobs.models import FINISHED, EpochRow, JobRow, JobStatus, ProbeRow
from app.jobs.schema import migrate
from app.jobs.transitions import ReapedJob, WorkerTransitions, utcnow

__all__ = ["JobStore", "QueueFullError", "ReapedJob", "make_engine", "utcnow"]


class QueueFullError(Exception):
    """The owner has as many queued jobs as it may have; nothing was created."""


def _lost_a_race(exc: DBAPIError) -> bool:
    """Whether ``exc`` is another creator's doing (worth a retry), not a database that is
    unreachable or broken (which fails at once)."""
    text = str(exc.orig).lower()
    return any(sign in text for sign in ("locked", "already exists", "duplicate"))


class JobStore(WorkerTransitions):
    """Job rows and their epochs, on any SQLAlchemy database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, connect_timeout: float = 3.0) -> JobStore:
        return cls(make_engine(url, connect_timeout))

    def create_schema(self, attempts: int = 8) -> None:
        """Bring the schema to the newest migration (``app.jobs.schema``).

        Migrators take turns under a lock; a lock that SQLite will not wait for (its switch
        to WAL on a new file) is tried again. A database that does not answer fails at once.
        """
        for attempt in range(1, attempts + 1):
            try:
                self.ping()
                migrate(self.engine)
                return
            except DBAPIError as exc:
                if attempt == attempts or not _lost_a_race(exc):
                    raise
                time.sleep(random.uniform(0.02, 0.1) * attempt)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def ping(self) -> None:
        with self.session() as s:
            s.execute(select(1))

    def check_writable(self) -> None:
        """Commit a one-row write, as a submit does; raise if the store takes none (a full
        disk, a read-only replica). A rolled-back write would not prove it: SQLite writes
        nothing to disk before a commit."""
        probe, now = f"{socket.gethostname()}:{os.getpid()}"[:64], utcnow()
        try:
            with self.session() as s:
                done = s.execute(
                    update(ProbeRow).where(ProbeRow.id == probe).values(written_at=now)
                )
                if not done.rowcount:  # type: ignore[attr-defined]
                    s.add(ProbeRow(id=probe, written_at=now))
        except IntegrityError:  # another thread of this process inserted it: a write went in
            pass

    # -- the API's side ---------------------------------------------------------------------

    def create(
        self,
        config: dict[str, Any],
        kind: str = "loss_comparison",
        owner: str | None = None,
        max_queued: int | None = None,
    ) -> JobRow:
        """A new queued job; with ``max_queued``, QueueFullError if ``owner`` has that many.

        The quota is checked and the row written in one transaction that holds a per-owner
        lock, so simultaneous submits cannot all see room for one more: PostgreSQL takes a
        transaction-scoped advisory lock on the owner; SQLite serializes writers, and the
        INSERT comes first so that the count runs under the write lock it took.
        """
        job = JobRow(
            id=str(uuid.uuid4()),
            kind=kind,
            owner=owner,
            status=JobStatus.QUEUED,
            config=config,
            progress={},
            attempts=0,
            created_at=utcnow(),
        )
        quota = None if owner is None else max_queued
        with self.session() as s:
            if quota is not None and s.get_bind().dialect.name == "postgresql":
                s.execute(select(func.pg_advisory_xact_lock(func.hashtext(owner))))
            s.add(job)
            s.flush()
            if quota is not None:
                query = select(func.count()).where(
                    JobRow.owner == owner, JobRow.status == JobStatus.QUEUED
                )
                if s.execute(query).scalar_one() > quota:
                    raise QueueFullError(owner)  # rolls the insert back
        return job

    def get(self, job_id: str) -> JobRow | None:
        with self.session() as s:
            return s.get(JobRow, job_id)

    def discard(self, job_id: str) -> bool:
        """Delete a job that never reached the queue; False if it is not queued (or absent)."""
        with self.session() as s:
            gone = s.execute(
                delete(JobRow).where(JobRow.id == job_id, JobRow.status == JobStatus.QUEUED)
            )
            return bool(gone.rowcount)  # type: ignore[attr-defined]

    def epochs(self, job_id: str) -> list[EpochRow]:
        with self.session() as s:
            rows = s.scalars(
                select(EpochRow)
                .where(EpochRow.job_id == job_id)
                .order_by(EpochRow.loss, EpochRow.epoch)
            )
            return list(rows)

    def epochs_of(self, job_ids: Sequence[str]) -> dict[str, list[EpochRow]]:
        """The epochs of several jobs in one query (a page of the list), by job id."""
        found: dict[str, list[EpochRow]] = {job_id: [] for job_id in job_ids}
        if not job_ids:
            return found
        with self.session() as s:
            rows = s.scalars(
                select(EpochRow)
                .where(EpochRow.job_id.in_(list(job_ids)))
                .order_by(EpochRow.job_id, EpochRow.loss, EpochRow.epoch)
            )
            for row in rows:
                found[row.job_id].append(row)
        return found

    def page(
        self, status: str | None, limit: int, cursor: str | None, owner: str | None = None
    ) -> tuple[list[JobRow], str | None]:
        """Newest first; ``cursor`` is the opaque ``next_cursor`` of the previous page;
        ``owner``: only that owner's jobs (None: everybody's)."""
        query = select(JobRow).order_by(JobRow.created_at.desc(), JobRow.id.desc())
        if owner is not None:
            query = query.where(JobRow.owner == owner)
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
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], encode_cursor(last.created_at, last.id)

    def request_cancel(self, job_id: str, owner: str | None = None) -> str | None:
        """Cancel a queued job at once, ask a running one to stop; return the new status.

        With ``owner``, only that owner's job: another's is None, as if absent."""
        now = utcnow()
        mine = (JobRow.id == job_id,) + (() if owner is None else (JobRow.owner == owner,))
        with self.session() as s:
            done = s.execute(
                update(JobRow)
                .where(*mine, JobRow.status == JobStatus.QUEUED)
                .values(status=JobStatus.CANCELLED, finished_at=now)
            )
            if done.rowcount:  # type: ignore[attr-defined]
                return JobStatus.CANCELLED
            s.execute(
                update(JobRow)
                .where(*mine, JobRow.status == JobStatus.RUNNING)
                .values(status=JobStatus.CANCELLING)
            )
            status = s.scalar(select(JobRow.status).where(*mine))
            return None if status is None else str(status)

    def delete(self, job_id: str, owner: str | None = None) -> bool:
        """Delete a finished job and its epochs; False if it is not finished (or absent, or,
        with ``owner``, another owner's)."""
        mine = (JobRow.id == job_id,) + (() if owner is None else (JobRow.owner == owner,))
        deletable = (*mine, JobRow.status.in_(FINISHED))
        with self.session() as s:
            s.execute(
                delete(EpochRow).where(EpochRow.job_id.in_(select(JobRow.id).where(*deletable)))
            )
            gone = s.execute(delete(JobRow).where(*deletable))
            return bool(gone.rowcount)  # type: ignore[attr-defined]

    def queued_count(self, owner: str) -> int:
        with self.session() as s:
            query = select(func.count()).where(
                JobRow.owner == owner, JobRow.status == JobStatus.QUEUED
            )
            return int(s.execute(query).scalar_one())

    def count_by_status(self) -> dict[str, int]:
        with self.session() as s:
            rows = s.execute(select(JobRow.status, func.count()).group_by(JobRow.status))
            return {status: int(n) for status, n in rows}


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

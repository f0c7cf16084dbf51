"""The worker's side of the job store: claims, heartbeats, epochs, endings, and the reaper's
recoveries. Each transition is one conditional UPDATE that names the states it may start
from, so two processes racing on one job cannot both win."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, not_, or_, select, update
from sqlalchemy.orm import Session

from app.jobs.models import ACTIVE, EpochRow, JobRow, JobStatus

__all__ = ["ReapedJob", "WorkerTransitions", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ReapedJob:
    id: str
    outcome: str  # "requeued", "failed" or "cancelled"


class WorkerTransitions:
    """Mixed into :class:`app.jobs.store.JobStore`, which provides ``session``."""

    def session(self) -> AbstractContextManager[Session]:  # pragma: no cover - the store's
        raise NotImplementedError

    def claim(self, job_id: str, worker: str) -> JobRow | None:
        """Move a queued job to running for ``worker``; None if it is not queued any more.

        The epochs an earlier attempt recorded stay: the worker keeps those its checkpoint
        holds (:meth:`keep_epochs`), so a resumed job's history never reads shorter.
        """
        now = utcnow()
        with self.session() as s:
            won = s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == JobStatus.QUEUED)
                .values(
                    status=JobStatus.RUNNING,
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
            job = s.get(JobRow, job_id)
            assert job is not None
            return job

    def keep_epochs(self, job_id: str, keep: Mapping[str, Collection[int]]) -> int:
        """Delete the recorded epochs of ``job_id`` other than ``keep`` (run key -> epochs),
        what an earlier attempt recorded beyond its checkpoint; return how many went. An
        empty ``keep``: the job starts afresh, every epoch goes. One statement."""
        kept = [
            and_(EpochRow.loss == run, EpochRow.epoch.in_(sorted(epochs)))
            for run, epochs in keep.items()
            if epochs
        ]
        statement = delete(EpochRow).where(EpochRow.job_id == job_id)
        if kept:
            statement = statement.where(not_(or_(*kept)))
        with self.session() as s:
            return int(s.execute(statement).rowcount)  # type: ignore[attr-defined]

    def heartbeat(self, job_id: str, worker: str, progress: dict[str, Any]) -> str | None:
        """Record that ``worker`` is alive and how far it got; return the job's status, or
        None when the row is gone or no longer this worker's (the reaper gave it to another
        after a silence): either way the worker stops."""
        with self.session() as s:
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.worker == worker, JobRow.status.in_(ACTIVE))
                .values(heartbeat_at=utcnow(), progress=progress)
            )
            job = s.get(JobRow, job_id)
            return None if job is None or job.worker != worker else job.status

    def record_epoch(
        self, job_id: str, row: EpochRow, progress: dict[str, Any], worker: str | None = None
    ) -> None:
        """Write one finished epoch; with ``worker``, only while the job is that worker's (a
        worker the reaper took the job from must not overwrite the new attempt's epochs)."""
        with self.session() as s:
            if worker is not None:
                job = s.get(JobRow, job_id)
                if job is None or job.worker != worker or job.status not in ACTIVE:
                    return
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
        attempt count and its recorded epochs (the next worker keeps those its checkpoint holds),
        and is not failed."""
        with self.session() as s:
            done = s.execute(
                update(JobRow)
                .where(
                    JobRow.id == job_id, JobRow.worker == worker, JobRow.status == JobStatus.RUNNING
                )
                .values(
                    status=JobStatus.QUEUED,
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
            if job.status == JobStatus.CANCELLING:
                outcome, values = "cancelled", {"status": JobStatus.CANCELLED, "finished_at": now}
            elif job.attempts < max_attempts:
                outcome = "requeued"
                values = {
                    "status": JobStatus.QUEUED,
                    "worker": None,
                    "error": f"{reason}; requeued",
                }
            else:
                outcome = "failed"
                values = {
                    "status": JobStatus.FAILED,
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
                    JobRow.status == JobStatus.QUEUED,
                    JobRow.created_at < cutoff,
                    (JobRow.heartbeat_at.is_(None)) | (JobRow.heartbeat_at < cutoff),
                )
            )
            return list(rows)

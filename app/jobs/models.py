"""Job records: one row per experiment, one row per finished epoch of each run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from app.schemas.experiments import ACTIVE, FINISHED, JobStatus

__all__ = [
    "ACTIVE",
    "FINISHED",
    "STATUSES",
    "Base",
    "DriftCheckRow",
    "DriftReferenceRow",
    "EpochRow",
    "JobRow",
    "JobStatus",
    "ProbeRow",
    "UtcDateTime",
]

STATUSES = tuple(JobStatus)


class UtcDateTime(TypeDecorator[datetime]):
    """A point in time, stored as UTC and loaded as an aware UTC ``datetime``.

    SQLite keeps no time zone and hands back naive values; converting on the way in and out,
    here, means a loaded row is never modified afterwards (which would make every read an
    UPDATE when its session flushes). A naive value given to it is refused: it is a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime cannot be stored: {value!r}")
        value = value.astimezone(UTC)
        # SQLite's DATETIME text has no offset: store the UTC wall time
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class JobRow(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), default="loss_comparison")
    status: Mapped[str] = mapped_column(String(16), index=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(128), nullable=True)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class EpochRow(Base):
    __tablename__ = "job_epochs"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    loss: Mapped[str] = mapped_column(String(64), primary_key=True)
    epoch: Mapped[int] = mapped_column(Integer, primary_key=True)
    loss_value: Mapped[float] = mapped_column(Float)
    accuracy: Mapped[float] = mapped_column(Float)
    val_loss: Mapped[float | None] = mapped_column(Float, nullable=True)
    val_accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    seconds: Mapped[float] = mapped_column(Float)


class ProbeRow(Base):
    """One row per writer that checks the store takes writes (``/readyz``)."""

    __tablename__ = "write_probes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    written_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DriftReferenceRow(Base):
    """One version of a named drift reference: its features' slots and counts (``spec``),
    and a summary of its newest check (``latest``, read by the Prometheus gauges)."""

    __tablename__ = "drift_references"
    __table_args__ = (
        UniqueConstraint("owner", "name", "version", name="uq_drift_references_version"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    latest: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    latest_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)


class DriftCheckRow(Base):
    """One stored check of a window against a reference version (the whole answer)."""

    __tablename__ = "drift_checks"
    __table_args__ = (Index("ix_drift_checks_reference_created", "reference_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference_id: Mapped[str] = mapped_column(ForeignKey("drift_references.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)

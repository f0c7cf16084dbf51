"""Models of the experiment (job) resources and the data-set list."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app import catalog
from app.schemas.common import Number

__all__ = [
    "ACTIVE",
    "FINISHED",
    "Comparison",
    "ComparisonEpoch",
    "DatasetInfo",
    "DatasetList",
    "EpochMetrics",
    "Experiment",
    "ExperimentConfig",
    "ExperimentList",
    "IdentityCheck",
    "JobStatus",
    "Progress",
    "ProgressEvent",
    "RunResult",
    "training_fraction",
]

if TYPE_CHECKING:
    DatasetName = str
    LossName = str
else:  # the names come from their registries (app.catalog), so they cannot drift apart
    DatasetName = Literal[tuple(catalog.DATASETS)]
    LossName = Literal[tuple(catalog.LOSSES)]


class JobStatus(StrEnum):
    """Where an experiment is in its life (the job row's ``status`` column holds the value)."""

    QUEUED = "queued"  # waiting for a worker (also after a lost worker, while attempts remain)
    RUNNING = "running"  # a worker is training it and heartbeating
    CANCELLING = "cancelling"  # asked to stop: its worker stops at the next batch
    SUCCEEDED = "succeeded"  # every run finished; results and comparison are in
    FAILED = "failed"  # training raised, or its workers were lost max_attempts times
    CANCELLED = "cancelled"  # stopped on request; finished epochs are kept


ACTIVE = (JobStatus.RUNNING, JobStatus.CANCELLING)  # a worker holds the job
FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)  # nothing more happens
Status = JobStatus  # the name the API's query parameter uses


class ExperimentConfig(BaseModel):
    """What to train: the article's ConvNet, once per loss, on one data set."""

    model_config = ConfigDict(extra="forbid", strict=True)

    dataset: DatasetName = Field("cifar10", description="See GET /v1/datasets.")
    losses: list[LossName] = Field(
        list(catalog.LOSSES),
        min_length=1,
        max_length=2,
        description="Keras losses to train with, one run each, in this order.",
    )
    epochs: int = Field(25, ge=1, description="Epochs per run (the article: 25).")
    batch_size: int = Field(250, ge=1, description="Mini-batch size (the article: 250).")
    validation_split: float = Field(
        0.2, ge=0.0, le=0.5, description="Share of training data held out for validation."
    )
    seed: int = Field(
        0, ge=0, le=2**31 - 1, description="Seeds weights, shuffling, synthetic data."
    )
    train_samples: int | None = Field(
        None, ge=10, description="Use only the first N training images (default: all)."
    )
    test_samples: int | None = Field(
        None, ge=10, description="Use only the first N test images (default: all)."
    )

    @field_validator("losses")
    @classmethod
    def _distinct(cls, losses: list[str]) -> list[str]:
        if len(set(losses)) != len(losses):
            raise ValueError("each loss may appear once")
        return losses


class Progress(BaseModel):
    loss: str | None = Field(None, description="The loss of the run in progress.")
    run: int = Field(0, description="1-based index of the run in progress.")
    runs: int = Field(0, description="Runs in the experiment (one per loss).")
    epoch: int = Field(0, description="Epochs finished in the run in progress.")
    epochs: int = Field(0, description="Epochs per run.")
    fraction: float = Field(0.0, ge=0.0, le=1.0, description="Share of all training done.")


def training_fraction(
    run_index: int, runs: int, epoch: int, epochs: int, step_fraction: float = 0.0
) -> float:
    """The share of all training done, in [0, 1]: the runs before ``run_index`` (0-based)
    are done, the run in progress has ``epoch`` epochs done and ``step_fraction`` of the
    next epoch's steps. Every run has ``epochs`` epochs; runs of nothing count as none done.

    The worker reports it after every batch and epoch, and the event stream of an
    experiment numbers finished epochs with it, so that both say the same thing.
    """
    if runs <= 0 or epochs <= 0:
        return 0.0
    done = run_index + (epoch + step_fraction) / epochs
    return min(1.0, max(0.0, done / runs))


class EpochMetrics(BaseModel):
    """One finished epoch of one run, named as Keras names its history."""

    epoch: int = Field(description="1-based.")
    loss: float = Field(description="The training loss's value at the end of the epoch.")
    accuracy: float
    val_loss: float | None = Field(description="The loss on the validation split, if any.")
    val_accuracy: float | None
    seconds: float = Field(description="Wall-clock time of the epoch.")


class ProgressEvent(EpochMetrics):
    """The data of an experiment's ``progress`` event: a finished epoch's metrics (its
    ``loss`` is the value) and where the experiment stood then (``progress.loss`` names the
    loss)."""

    progress: Progress


class IdentityCheck(BaseModel):
    """On the test set, with the service's exact kernels: H(y, q) - D(y || q) = H(y)."""

    cross_entropy: Number
    kl_divergence: Number
    cross_entropy_minus_kl: float | None
    label_entropy: float = Field(description="Mean entropy of the labels: 0 for one-hot.")
    holds: bool


class RunResult(BaseModel):
    loss: str
    history: list[EpochMetrics] = Field(description="One entry per finished epoch.")
    test_loss: float | None = None
    test_accuracy: float | None = None
    train_seconds: float | None = None
    seconds_per_epoch: float | None = None
    identity: IdentityCheck | None = None


class ComparisonEpoch(BaseModel):
    """KL run minus CE run, epoch by epoch."""

    epoch: int
    loss_gap: float
    accuracy_gap: float
    val_loss_gap: float | None
    val_accuracy_gap: float | None


class Comparison(BaseModel):
    per_epoch: list[ComparisonEpoch]
    test_accuracy: dict[str, float]
    test_accuracy_gap: float | None = Field(description="KL minus CE test accuracy.")
    label_entropy: float | None = Field(description="0 for one-hot labels.")
    cross_entropy_minus_kl_equals_label_entropy: bool | None


class Experiment(BaseModel):
    id: str
    status: Status
    config: ExperimentConfig
    progress: Progress
    runs: list[RunResult]
    comparison: Comparison | None = Field(
        description="Present when both losses have finished epochs."
    )
    dataset: dict[str, float | int | str] | None = None
    error: str | None = Field(
        description="Why it failed or was requeued: its first line without server paths "
        "(admin keys: the whole message)."
    )
    attempts: int
    worker: str | None = Field(
        description="host:pid of the worker that ran it last; shown to admin keys only."
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    links: dict[str, str]


class ExperimentList(BaseModel):
    items: list[Experiment]
    next_cursor: str | None


class DatasetInfo(BaseModel):
    name: str
    description: str
    shape: tuple[int, int, int]
    classes: int
    train_size: int = Field(description="Training images a run uses when it sets no cap.")
    test_size: int = Field(description="Test images a run uses when it sets no cap.")
    available_offline: bool = Field(description="Loadable now without a network.")
    location: str | None = Field(
        None,
        description="Where the files were found (the first data directory holding them; "
        "DIVERGENCE_DATA_DIRS); null when generated or found nowhere.",
    )


class DatasetList(BaseModel):
    items: list[DatasetInfo]

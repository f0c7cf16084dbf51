"""Models of the experiment (job) resources and the data-set list, and their vocabularies:
job statuses, data-set names, training losses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from divergence_client.models.common import Number

__all__ = [
    "ACTIVE",
    "CROSS_ENTROPY",
    "DATASET_NAMES",
    "DEFAULT_LOSSES",
    "FINISHED",
    "KL",
    "LOSSES",
    "AccuracyGap",
    "Comparison",
    "ComparisonEpoch",
    "DatasetInfo",
    "DatasetList",
    "EpochMetrics",
    "Experiment",
    "ExperimentConfig",
    "ExperimentList",
    "GradientCheck",
    "IdentityCheck",
    "JobStatus",
    "LossComparison",
    "Progress",
    "ProgressEvent",
    "RunResult",
    "SeedRun",
    "Status",
]

# The data sets an experiment can train on (the server's catalog says where their files are
# and whether they are here; a test keeps the two the same).
DATASET_NAMES: tuple[str, ...] = ("cifar10", "mnist", "fashion_mnist", "synthetic")

# The training losses an experiment compares, by name (the worker's Keras implementations are
# keyed by the same names).
LOSSES: dict[str, str] = {
    "kl_divergence": "Kullback-Leibler divergence D(y || q) (keras.losses.KLDivergence)",
    "categorical_crossentropy": "cross-entropy H(y, q) (keras.losses.CategoricalCrossentropy)",
    "jensen_shannon": "Jensen-Shannon divergence (D(y || m) + D(q || m)) / 2, m = (y + q) / 2, "
    "in nats: bounded by ln 2, symmetric, a different objective from KL",
    "focal_crossentropy": "focal cross-entropy -sum 0.25 y (1 - q)^2 log q "
    "(keras.losses.CategoricalFocalCrossentropy): down-weights well-classified samples",
    "squared_error": "mean squared error of the probabilities, mean (y - q)^2 "
    "(keras.losses.MeanSquaredError): the Brier score over the classes",
}
DEFAULT_LOSSES = ("kl_divergence", "categorical_crossentropy")  # the article's comparison

if TYPE_CHECKING:
    DatasetName = str
    LossName = str
else:  # the names above, so that the models cannot drift from them
    DatasetName = Literal[DATASET_NAMES]
    LossName = Literal[tuple(LOSSES)]


CROSS_ENTROPY = "categorical_crossentropy"  # the default baseline
KL = "kl_divergence"


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
        list(DEFAULT_LOSSES),
        min_length=1,
        max_length=len(LOSSES),
        description="Training losses, one run each per seed, in this order: "
        + "; ".join(f"{name}: {text}" for name, text in LOSSES.items())
        + ".",
    )
    baseline: LossName | None = Field(
        None,
        description="The loss the others are compared against; one of losses (default: "
        "categorical_crossentropy when trained, else the first).",
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

    label_smoothing: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        description="Soft targets (1 - s) * one_hot + s / classes for every loss, training "
        "and test alike: with s > 0 the targets' entropy H(y) is above 0, and the "
        "cross-entropy run's training loss exceeds the KL run's by exactly H(y).",
    )
    mixup: float = Field(
        0.0,
        ge=0.0,
        le=100.0,
        description="Mixup's Beta(a, a) parameter a (0: off). Every training image is blended "
        "with a randomly chosen partner, x = l x_i + (1 - l) x_j, and so is its target, "
        "y = l y_i + (1 - l) y_j, with l drawn from Beta(a, a): soft targets whose mean "
        "entropy H(y) the result reports (dataset.train_target_entropy). The pairs and l are "
        "drawn once per experiment from its first seed, the same for every loss and seed; "
        "the rows Keras holds out for validation and the test set are not mixed.",
    )
    repeats: int = Field(
        1,
        ge=1,
        description="Train every loss under this many seeds (seed, seed + 1, ...); the "
        "comparison then gives the test-accuracy gap with a 95% interval. At most the "
        "service's max_repeats.",
    )
    seeds: list[Annotated[int, Field(ge=0, le=2**31 - 1)]] | None = Field(
        None,
        min_length=1,
        description="Explicit seeds instead of seed and repeats (distinct; at most the "
        "service's max_repeats).",
    )

    @field_validator("losses", "seeds")
    @classmethod
    def _distinct(cls, values: list[Any] | None) -> list[Any] | None:
        if values is not None and len(set(values)) != len(values):
            raise ValueError("each value may appear once")
        return values

    @field_validator("seeds")
    @classmethod
    def _seeds_or_repeats(cls, seeds: list[int] | None, info: ValidationInfo) -> list[int] | None:
        if seeds is not None and info.data.get("repeats", 1) != 1:
            raise ValueError("give seeds or repeats, not both")
        return seeds

    @field_validator("baseline")
    @classmethod
    def _baseline_trained(cls, baseline: str | None, info: ValidationInfo) -> str | None:
        losses = info.data.get("losses")
        if baseline is not None and losses is not None and baseline not in losses:
            raise ValueError(f"the baseline must be one of losses, got {baseline}")
        return baseline

    def comparison_baseline(self) -> str:
        """The loss the others are compared against."""
        if self.baseline is not None:
            return self.baseline
        return CROSS_ENTROPY if CROSS_ENTROPY in self.losses else self.losses[0]

    def run_seeds(self) -> list[int]:
        """The seeds every loss is trained under, in order."""
        if self.seeds is not None:
            return list(self.seeds)
        return [self.seed + i for i in range(self.repeats)]

    def run_plan(self) -> list[tuple[str, int]]:
        """Every run as (loss, seed), in the order they train: seed by seed, each seed's
        losses in the order of ``losses`` (so that the pairs of a seed finish together)."""
        return [(loss, seed) for seed in self.run_seeds() for loss in self.losses]

    def run_key(self, loss: str, seed: int) -> str:
        """The name a run's epochs are stored under: the loss alone with one seed, else
        ``loss@seed``."""
        return loss if len(self.run_seeds()) == 1 else f"{loss}@{seed}"


class Progress(BaseModel):
    loss: str | None = Field(None, description="The loss of the run in progress.")
    seed: int | None = Field(None, description="The seed of the run in progress.")
    run: int = Field(0, description="1-based index of the run in progress.")
    runs: int = Field(0, description="Runs in the experiment (one per loss and seed).")
    epoch: int = Field(0, description="Epochs finished in the run in progress.")
    epochs: int = Field(0, description="Epochs per run.")
    fraction: float = Field(0.0, ge=0.0, le=1.0, description="Share of all training done.")


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


class GradientCheck(BaseModel):
    """The two losses' gradients with respect to every weight, at one seed's initial
    weights, on the first training batch, with dropout off."""

    seed: int
    batch: int = Field(description="Images in the batch.")
    max_abs_difference: float = Field(description="Largest |g_loss - g_baseline| of a weight.")
    cosine: float | None = Field(
        description="Cosine of the angle between the two gradients (1: the same direction); "
        "null where one is zero."
    )
    norm: float = Field(description="Euclidean norm of the loss's gradient.")
    baseline_norm: float


class RunResult(BaseModel):
    loss: str
    seed: int | None = Field(None, description="The seed the run trained under.")
    history: list[EpochMetrics] = Field(description="One entry per finished epoch.")
    test_loss: float | None = None
    test_accuracy: float | None = None
    train_seconds: float | None = None
    seconds_per_epoch: float | None = None
    identity: IdentityCheck | None = None
    gradient_check: GradientCheck | None = Field(
        None,
        description="This run's loss against the baseline's at the run's initial weights "
        "(absent for the baseline's own runs).",
    )
    resumed_after: list[int] = Field(
        [],
        description="Epochs after which the run went on from its checkpoint, because its "
        "job was requeued (a lost worker, a shutdown); empty when it ran in one go.",
    )


class ComparisonEpoch(BaseModel):
    """One loss's run minus the baseline's, epoch by epoch (the mean over the seeds that
    finished the epoch with both losses)."""

    epoch: int
    loss_gap: float = Field(description="Training loss minus the baseline's.")
    accuracy_gap: float
    val_loss_gap: float | None
    val_accuracy_gap: float | None
    identity_residual: float | None = Field(
        None,
        description="KL against cross-entropy only: the training-loss gap plus the mean "
        "H(y) of the training targets; 0 up to floating point, since H(y, q) = H(y) + "
        "D(y || q).",
    )


class SeedRun(BaseModel):
    seed: int
    test_accuracy: float
    baseline_test_accuracy: float
    gap: float = Field(description="Test accuracy minus the baseline's, under this seed.")


class AccuracyGap(BaseModel):
    """The test-accuracy gap over the seeds that finished both runs, paired by seed."""

    runs: list[SeedRun]
    mean: float | None = Field(description="Mean of the per-seed gaps.")
    sd: float | None = Field(description="Sample standard deviation of the per-seed gaps.")
    interval: tuple[float, float] | None = Field(
        description="95% interval of the mean gap: mean +- t(0.975, n - 1) * sd / sqrt(n), "
        "Student's t over the n paired per-seed gaps; null with fewer than two seeds."
    )
    confidence: float = 0.95
    method: str = "t interval over the paired per-seed gaps"
    seed_sd: dict[str, float] | None = Field(
        description="Each loss's test accuracy's standard deviation across seeds: the seed "
        "noise the gap is judged against."
    )
    distinguishable: bool | None = Field(
        description="Whether the gap stands out from seed noise: the interval excludes 0. "
        "Null with fewer than two seeds."
    )


class LossComparison(BaseModel):
    """One loss against the baseline: why they differ or not, and by how much."""

    loss: str
    baseline: str
    per_epoch: list[ComparisonEpoch]
    test_accuracy_gap: AccuracyGap
    gradient_checks: list[GradientCheck] = Field(
        description="One per seed, where the worker could compute it."
    )
    verdict: str = Field(description="What the numbers say, in words.")


class Comparison(BaseModel):
    baseline: str = Field(description="The loss every other is compared against.")
    against_baseline: list[LossComparison] = Field(description="One per other loss.")
    verdict: str = Field(description="The comparisons' verdicts together.")
    per_epoch: list[ComparisonEpoch] = Field(
        description="The first other loss against the baseline (KL minus cross-entropy in "
        "the article's experiment)."
    )
    test_accuracy: dict[str, float] = Field(
        description="Each loss's test accuracy (the mean over its seeds)."
    )
    test_accuracy_gap: float | None = Field(description="KL minus CE test accuracy.")
    label_entropy: float | None = Field(
        description="Mean entropy H(y) of the targets: 0 for one-hot, above 0 with label smoothing."
    )
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

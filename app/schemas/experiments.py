"""Models of the experiment (job) resources and the data-set list: the client's
(``divergence_client.models.experiments``), re-exported here; and the progress arithmetic
that the worker and the event stream share."""

from __future__ import annotations

from divergence_client.models.experiments import (
    ACTIVE,
    CROSS_ENTROPY,
    FINISHED,
    KL,
    AccuracyGap,
    Comparison,
    ComparisonEpoch,
    DatasetInfo,
    DatasetList,
    EpochMetrics,
    Experiment,
    ExperimentConfig,
    ExperimentList,
    GradientCheck,
    IdentityCheck,
    JobStatus,
    LossComparison,
    Progress,
    ProgressEvent,
    RunResult,
    SeedRun,
    Status,
)

__all__ = [
    "ACTIVE",
    "CROSS_ENTROPY",
    "FINISHED",
    "KL",
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
    "training_fraction",
]


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

"""Experiments as clients see them: submission limits, and job rows -> resources."""

from __future__ import annotations

import re
from typing import Any

from app.config import Settings
from app.errors import InvalidInputError
from app.jobs.models import EpochRow, JobRow
from app.schemas.experiments import (
    Comparison,
    ComparisonEpoch,
    EpochMetrics,
    Experiment,
    ExperimentConfig,
    IdentityCheck,
    Progress,
    RunResult,
)

__all__ = ["check_limits", "comparison", "public_error", "to_resource"]

KL, CE = "kl_divergence", "categorical_crossentropy"

# An absolute or home-relative file path (not a URL's path, nor a lone "/"), and the host:pid
# that the reaper names a lost worker by.
_PATH = re.compile(r"(?<![\w/:.~])~?/[\w.@+-][^\s'\"(),;]*")
_WORKER = re.compile(r"\bworker \S+:\d+ ")
_MAX_ERROR = 500


def check_limits(config: ExperimentConfig, settings: Settings) -> None:
    """Refuse a configuration beyond the limits this deployment sets (422, naming the field)."""
    limits: list[tuple[str, int | None, int]] = [
        ("epochs", config.epochs, settings.max_epochs),
        ("batch_size", config.batch_size, settings.max_batch_size),
        ("train_samples", config.train_samples, settings.max_train_samples),
        ("test_samples", config.test_samples, settings.max_test_samples),
    ]
    for name, value, limit in limits:
        if value is not None and value > limit:
            raise InvalidInputError(
                [name], f"at most {limit} on this service, got {value}", "limit"
            )


def _history(rows: list[EpochRow], loss: str) -> list[EpochMetrics]:
    return [
        EpochMetrics(
            epoch=r.epoch,
            loss=r.loss_value,
            accuracy=r.accuracy,
            val_loss=r.val_loss,
            val_accuracy=r.val_accuracy,
            seconds=r.seconds,
        )
        for r in rows
        if r.loss == loss
    ]


def _gap(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def comparison(runs: list[RunResult]) -> Comparison | None:
    """KL run against CE run: per-epoch gaps, test accuracies, and the entropy identity."""
    by_loss = {r.loss: r for r in runs}
    kl, ce = by_loss.get(KL), by_loss.get(CE)
    if kl is None or ce is None or not kl.history or not ce.history:
        return None
    per_epoch = [
        ComparisonEpoch(
            epoch=k.epoch,
            loss_gap=k.loss - c.loss,
            accuracy_gap=k.accuracy - c.accuracy,
            val_loss_gap=_gap(k.val_loss, c.val_loss),
            val_accuracy_gap=_gap(k.val_accuracy, c.val_accuracy),
        )
        for k, c in zip(kl.history, ce.history, strict=False)
    ]
    accuracy = {r.loss: r.test_accuracy for r in runs if r.test_accuracy is not None}
    identities = [r.identity for r in runs if r.identity is not None]
    return Comparison(
        per_epoch=per_epoch,
        test_accuracy=accuracy,
        test_accuracy_gap=_gap(accuracy.get(KL), accuracy.get(CE)),
        label_entropy=identities[0].label_entropy if identities else None,
        cross_entropy_minus_kl_equals_label_entropy=(
            all(i.holds for i in identities) if identities else None
        ),
    )


def public_error(error: str | None) -> str | None:
    """What a job's error may tell any reader: its first line, without server paths or the
    worker's host:pid (admins and the logs get the whole text)."""
    if error is None:
        return None
    first = error.strip().splitlines()[0] if error.strip() else ""
    text = _WORKER.sub("worker ", _PATH.sub("<path>", first))
    return text if len(text) <= _MAX_ERROR else text[: _MAX_ERROR - 3] + "..."


def to_resource(
    job: JobRow, epochs: list[EpochRow], admin: bool = False, base: str = "/v1/experiments"
) -> Experiment:
    """The resource of ``job``; ``worker`` and the raw error only for an admin."""
    config = ExperimentConfig.model_validate(job.config)
    finished: dict[str, Any] = (job.result or {}).get("runs", {})
    runs = []
    for loss in config.losses:
        history = _history(epochs, loss)
        done = finished.get(loss, {})
        if not history and not done:
            continue
        identity = done.get("identity")
        runs.append(
            RunResult(
                loss=loss,
                history=history,
                test_loss=done.get("test_loss"),
                test_accuracy=done.get("test_accuracy"),
                train_seconds=done.get("train_seconds"),
                seconds_per_epoch=done.get("seconds_per_epoch"),
                identity=IdentityCheck.model_validate(identity) if identity else None,
            )
        )
    progress = Progress.model_validate(
        job.progress or {"runs": len(config.losses), "epochs": config.epochs}
    )
    here = f"{base}/{job.id}"
    return Experiment(
        id=job.id,
        status=job.status,
        config=config,
        progress=progress,
        runs=runs,
        comparison=comparison(runs),
        dataset=(job.result or {}).get("dataset"),
        error=job.error if admin else public_error(job.error),
        attempts=job.attempts,
        worker=job.worker if admin else None,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        links={
            "self": here,
            "events": f"{here}/events",
            "plot": f"{here}/plot.svg",
            "cancel": f"{here}/cancel",
        },
    )

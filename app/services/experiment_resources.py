"""Experiments as clients see them: submission limits, and job rows -> resources."""

from __future__ import annotations

import re
from typing import Any

from app.config import Settings
from app.errors import InvalidInputError
from app.jobs.models import EpochRow, JobRow
from app.schemas.experiments import (
    EpochMetrics,
    Experiment,
    ExperimentConfig,
    GradientCheck,
    IdentityCheck,
    Progress,
    RunResult,
)
from app.services.experiment_comparison import comparison

__all__ = ["check_limits", "comparison", "public_error", "to_resource"]

# An absolute or home-relative file path (not a URL's path, nor a lone "/"), and the host:pid
# that the reaper names a lost worker by.
_PATH = re.compile(r"(?<![\w/:.~])~?/[\w.@+-][^\s'\"(),;]*")
_WORKER = re.compile(r"\bworker \S+:\d+ ")
_MAX_ERROR = 500


def check_limits(config: ExperimentConfig, settings: Settings) -> None:
    """Refuse a configuration beyond the limits this deployment sets (422, naming the field)."""
    seeds = "seeds" if config.seeds is not None else "repeats"
    limits: list[tuple[str, int | None, int]] = [
        ("epochs", config.epochs, settings.max_epochs),
        # the count as given: the list of seeds is made only once it is known to be small
        (
            seeds,
            len(config.seeds) if config.seeds is not None else config.repeats,
            settings.max_repeats,
        ),
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
    for loss, seed in config.run_plan():
        key = config.run_key(loss, seed)
        history = _history(epochs, key)
        done = finished.get(key, {})
        if not history and not done:
            continue
        identity, check = done.get("identity"), done.get("gradient_check")
        runs.append(
            RunResult(
                loss=loss,
                seed=seed,
                history=history,
                test_loss=done.get("test_loss"),
                test_accuracy=done.get("test_accuracy"),
                train_seconds=done.get("train_seconds"),
                seconds_per_epoch=done.get("seconds_per_epoch"),
                identity=IdentityCheck.model_validate(identity) if identity else None,
                gradient_check=GradientCheck.model_validate(check) if check else None,
                resumed_after=done.get("resumed_after", []),
            )
        )
    progress = Progress.model_validate(
        job.progress or {"runs": len(config.run_plan()), "epochs": config.epochs}
    )
    here = f"{base}/{job.id}"
    dataset = (job.result or {}).get("dataset") or {}
    return Experiment(
        id=job.id,
        status=job.status,
        config=config,
        progress=progress,
        runs=runs,
        comparison=comparison(config, runs, dataset.get("train_target_entropy")),
        dataset=dataset or None,
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

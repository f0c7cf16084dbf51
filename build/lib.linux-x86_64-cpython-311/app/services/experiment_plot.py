"""The experiment's picture: loss and accuracy curves of every run on shared axes."""

from __future__ import annotations

from app.schemas.experiments import EpochMetrics, Experiment, RunResult
from app.services.plots import PALETTE, Panel, Series, line_chart

__all__ = ["experiment_svg"]


def _series(run: RunResult, key: str, index: int, last: bool) -> Series:
    """One metric (``loss``, ``val_loss``, ...) of one run over its epochs."""
    rows: list[EpochMetrics] = [e for e in run.history if getattr(e, key) is not None]
    validation = key.startswith("val_")
    # Runs often coincide (the article's point): earlier runs are drawn wide and pale,
    # so that the last run, drawn on top, leaves them visible.
    width, opacity = (2.0, 1.0) if last else (6.0, 0.4)
    return Series(
        label=f"{run.loss} {'validation' if validation else 'train'}",
        xs=[e.epoch for e in rows],
        ys=[getattr(e, key) for e in rows],
        color=PALETTE[index % len(PALETTE)],
        dashed=validation,
        width=width,
        opacity=opacity,
    )


def experiment_svg(job: Experiment) -> str:
    loss: list[Series] = []
    accuracy: list[Series] = []
    for i, run in enumerate(job.runs):
        last = i == len(job.runs) - 1
        loss.append(_series(run, "loss", i, last))
        accuracy.append(_series(run, "accuracy", i, last))
        if any(e.val_loss is not None for e in run.history):
            loss.append(_series(run, "val_loss", i, last))
            accuracy.append(_series(run, "val_accuracy", i, last))
    title = f"Experiment {job.id[:8]} on {job.config.dataset} ({job.status})"
    return line_chart(title, [Panel("Loss", "loss", loss), Panel("Accuracy", "accuracy", accuracy)])

"""The experiment's picture: loss and accuracy curves of every run on shared axes."""

from __future__ import annotations

from app.schemas.experiments import Experiment
from app.services.plots import PALETTE, Panel, Series, line_chart

__all__ = ["experiment_svg"]


def experiment_svg(job: Experiment) -> str:
    loss_series: list[Series] = []
    accuracy_series: list[Series] = []
    for i, run in enumerate(job.runs):
        color = PALETTE[i % len(PALETTE)]
        xs = [e.epoch for e in run.history]
        loss_series.append(Series(f"{run.loss} train", xs, [e.loss for e in run.history], color))
        accuracy_series.append(
            Series(f"{run.loss} train", xs, [e.accuracy for e in run.history], color)
        )
        if any(e.val_loss is not None for e in run.history):
            val_xs = [e.epoch for e in run.history if e.val_loss is not None]
            loss_series.append(
                Series(
                    f"{run.loss} validation",
                    val_xs,
                    [e.val_loss for e in run.history if e.val_loss is not None],
                    color,
                    dashed=True,
                )
            )
            accuracy_series.append(
                Series(
                    f"{run.loss} validation",
                    val_xs,
                    [e.val_accuracy for e in run.history if e.val_accuracy is not None],
                    color,
                    dashed=True,
                )
            )
    title = f"Experiment {job.id[:8]} on {job.config.dataset} ({job.status})"
    return line_chart(
        title,
        [Panel("Loss", "loss", loss_series), Panel("Accuracy", "accuracy", accuracy_series)],
    )

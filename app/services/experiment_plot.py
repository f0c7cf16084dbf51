"""The experiment's picture: loss and accuracy curves of every run on shared axes (one
colour per loss; with several seeds each label names its seed), and with two losses or more
a third panel: each loss's accuracy gap against the baseline, epoch by epoch, the mean over
the seeds with its 95% t band."""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.schemas.experiments import EpochMetrics, Experiment, RunResult
from app.services.experiment_stats import mean_interval
from app.services.plots import PALETTE, Panel, Series, line_chart

__all__ = ["GapCurve", "experiment_svg", "gap_curves"]

GAP_PANEL = "Gap against the baseline"
BAND = "95% t interval of the mean"


@dataclass(frozen=True)
class GapCurve:
    """One loss's accuracy minus the baseline's, per epoch, over the seeds that finished
    the epoch with both losses: the mean, and mean +- t(0.975, n - 1) * sd / sqrt(n) (NaN
    where fewer than two seeds did)."""

    loss: str
    baseline: str
    metric: str  # "val_accuracy" when every run has a validation split, else "accuracy"
    epochs: list[int]
    mean: list[float]
    low: list[float]
    high: list[float]
    seeds: list[int]  # how many seeds each epoch's mean is over


def _series(run: RunResult, key: str, index: int, last: bool, seeded: bool = False) -> Series:
    """One metric (``loss``, ``val_loss``, ...) of one run over its epochs; ``index`` is the
    loss's place (its colour), ``seeded`` names the seed in the label."""
    rows: list[EpochMetrics] = [e for e in run.history if getattr(e, key) is not None]
    validation = key.startswith("val_")
    # Runs often coincide (the article's point): earlier runs are drawn wide and pale,
    # so that the last run, drawn on top, leaves them visible.
    width, opacity = (2.0, 1.0) if last else (6.0, 0.4)
    name = f"{run.loss} (seed {run.seed})" if seeded else run.loss
    return Series(
        label=f"{name} {'validation' if validation else 'train'}",
        xs=[e.epoch for e in rows],
        ys=[getattr(e, key) for e in rows],
        color=PALETTE[index % len(PALETTE)],
        dashed=validation,
        width=width,
        opacity=opacity,
    )


def gap_curves(job: Experiment) -> list[GapCurve]:
    """Every loss but the baseline against the baseline, paired by seed; empty with one
    loss. The validation accuracy is compared when every run with epochs has it, else the
    training accuracy."""
    config = job.config
    baseline = config.comparison_baseline()
    with_epochs = [r for r in job.runs if r.history]
    validated = bool(with_epochs) and all(
        all(e.val_accuracy is not None for e in r.history) for r in with_epochs
    )
    metric = "val_accuracy" if validated else "accuracy"
    by_run = {(r.loss, r.seed): {e.epoch: e for e in r.history} for r in job.runs}
    curves: list[GapCurve] = []
    for loss in config.losses:
        if loss == baseline:
            continue
        epochs, means, lows, highs, counts = [], [], [], [], []
        for epoch in range(1, config.epochs + 1):
            gaps = []
            for seed in config.run_seeds():
                a = by_run.get((loss, seed), {}).get(epoch)
                b = by_run.get((baseline, seed), {}).get(epoch)
                if a is None or b is None:
                    continue
                x, y = getattr(a, metric), getattr(b, metric)
                if x is not None and y is not None:
                    gaps.append(x - y)
            if not gaps:
                continue
            mean, _, interval = mean_interval(gaps)
            low, high = interval if interval is not None else (math.nan, math.nan)
            epochs.append(epoch)
            means.append(mean)
            lows.append(low)
            highs.append(high)
            counts.append(len(gaps))
        if epochs:
            curves.append(GapCurve(loss, baseline, metric, epochs, means, lows, highs, counts))
    return curves


def _gap_panel(job: Experiment, curves: list[GapCurve]) -> Panel:
    series: list[Series] = []
    for curve in curves:
        banded = max(curve.seeds) >= 2
        label = f"{curve.loss} minus {curve.baseline}"
        if banded:
            label += f" (band: {BAND} over {max(curve.seeds)} seeds)"
        series.append(
            Series(
                label=label,
                xs=curve.epochs,
                ys=curve.mean,
                color=PALETTE[job.config.losses.index(curve.loss) % len(PALETTE)],
                band=(curve.low, curve.high) if banded else None,
            )
        )
    epochs = sorted({e for c in curves for e in c.epochs})
    series.append(
        Series(label="no gap", xs=epochs, ys=[0.0] * len(epochs), color="#888888", width=1.0)
    )
    what = "validation accuracy" if curves[0].metric == "val_accuracy" else "training accuracy"
    return Panel(GAP_PANEL, f"{what} gap (mean over seeds)", series)


def experiment_svg(job: Experiment) -> str:
    loss: list[Series] = []
    accuracy: list[Series] = []
    seeded = len(job.config.run_seeds()) > 1
    for i, run in enumerate(job.runs):
        last = i == len(job.runs) - 1
        colour = job.config.losses.index(run.loss)
        loss.append(_series(run, "loss", colour, last, seeded))
        accuracy.append(_series(run, "accuracy", colour, last, seeded))
        if any(e.val_loss is not None for e in run.history):
            loss.append(_series(run, "val_loss", colour, last, seeded))
            accuracy.append(_series(run, "val_accuracy", colour, last, seeded))
    title = f"Experiment {job.id[:8]} on {job.config.dataset} ({job.status})"
    panels = [Panel("Loss", "loss", loss), Panel("Accuracy", "accuracy", accuracy)]
    curves = gap_curves(job) if len(job.config.losses) >= 2 else []
    if curves:
        panels.append(_gap_panel(job, curves))
        return line_chart(title, panels, width=1260)
    return line_chart(title, panels)

"""The pictures: the article's binary-entropy curve, and a model fit drawn as bars."""

from __future__ import annotations

import numpy as np

from app import infotheory as it
from app.schemas.modelfit import ModelFitResponse
from app.services.plots import PALETTE, Bars, Panel, Series, bar_chart, line_chart

__all__ = ["binary_entropy_svg", "model_fit_svg"]


def binary_entropy_svg(unit: str, points: int) -> str:
    """H([p, 1 - p]) against p in 0..1: zero at the ends, highest at p = 0.5."""
    p = np.linspace(0.0, 1.0, points)
    h = np.asarray(it.entropy(np.stack([p, 1.0 - p], axis=1), unit))
    series = Series(f"H([p, 1 - p]) in {unit}", p.tolist(), h.tolist(), PALETTE[0])
    panel = Panel(
        "Entropy of a two-outcome distribution", f"entropy ({unit})", [series], "p", False
    )
    return line_chart("Skewed distributions carry less information", [panel], 720, 460)


MAX_BARS = 60
"""Most groups of bars in a model-fit picture: wider supports are drawn in bins of values, so
a picture's size (and the time to render it) is bounded whatever the support."""


def _binned(probabilities: list[float], width: int) -> list[float]:
    """Probabilities of consecutive runs of ``width`` values."""
    values = np.asarray(probabilities, dtype=np.float64)
    sums: list[float] = np.add.reduceat(values, np.arange(0, values.size, width)).tolist()
    return sums


def model_fit_svg(fit: ModelFitResponse) -> str:
    """Observed probabilities beside each fitted model's, value by value (or bin by bin)."""
    size = len(fit.observed.support)
    width = -(-size // MAX_BARS)
    if width == 1:
        categories = [str(k) for k in range(size)]
        x_label = "value"
    else:
        starts = range(0, size, width)
        categories = [f"{k}-{min(k + width, size) - 1}" for k in starts]
        x_label = f"value (bins of {width} values; bars show each bin's total probability)"
    groups = [Bars("observed", _binned(fit.observed.probabilities, width), "#444444")]
    for i, model in enumerate(fit.models):
        label = f"{model.family} (D = {model.divergence:.4g} {fit.unit})"
        bars = _binned(model.probabilities, width)
        groups.append(Bars(label, bars, PALETTE[i % len(PALETTE)]))
    title = f"Observed against fitted models; best: {fit.best}"
    return bar_chart(title, categories, groups, x_label, "probability")

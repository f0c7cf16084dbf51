"""The pictures: the article's binary-entropy curve, and a model fit drawn as bars."""

from __future__ import annotations

import numpy as np
from fastapi import Response

from app import infotheory as it
from app.schemas.modelfit import ModelFitResponse
from app.services.plots import PALETTE, Bars, Panel, Series, bar_chart, line_chart, to_png

__all__ = ["binary_entropy_svg", "image_response", "model_fit_svg", "wants_image"]


def binary_entropy_svg(unit: str, points: int) -> str:
    """H([p, 1 - p]) against p in 0..1: zero at the ends, highest at p = 0.5."""
    p = np.linspace(0.0, 1.0, points)
    h = np.asarray(it.entropy(np.stack([p, 1.0 - p], axis=1), unit))
    series = Series(f"H([p, 1 - p]) in {unit}", p.tolist(), h.tolist(), PALETTE[0])
    panel = Panel(
        "Entropy of a two-outcome distribution", f"entropy ({unit})", [series], "p", False
    )
    return line_chart("Skewed distributions carry less information", [panel], 720, 460)


def model_fit_svg(fit: ModelFitResponse) -> str:
    """Observed probabilities beside each fitted model's, value by value."""
    groups = [Bars("observed", fit.observed.probabilities, "#444444")]
    for i, model in enumerate(fit.models):
        label = f"{model.family} (D = {model.divergence:.4g} {fit.unit})"
        groups.append(Bars(label, model.probabilities, PALETTE[i % len(PALETTE)]))
    title = f"Observed against fitted models; best: {fit.best}"
    return bar_chart(title, [str(k) for k in fit.observed.support], groups, "value", "probability")


def wants_image(accept: str | None, fmt: str | None) -> str | None:
    """``"svg"`` or ``"png"`` if the caller asked for a picture (format wins over Accept)."""
    if fmt is not None:
        return fmt
    accept = accept or ""
    if "image/png" in accept:
        return "png"
    if "image/svg+xml" in accept:
        return "svg"
    return None


def image_response(svg: str, fmt: str) -> Response:
    if fmt == "png":
        return Response(to_png(svg), media_type="image/png")
    return Response(svg, media_type="image/svg+xml")

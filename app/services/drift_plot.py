"""The drift picture: each measure of one feature over a reference's checks, with the
feature's thresholds as dashed lines (infinite values are left out and counted)."""

from __future__ import annotations

import math

from app.schemas.drift import DriftCheck
from app.services.plots import PALETTE, Panel, Series, line_chart

__all__ = ["drift_svg"]


def drift_svg(name: str, feature: str, checks: list[DriftCheck]) -> str:
    """One panel per measure: its value at each check (oldest first), and the thresholds."""
    measures: dict[str, None] = {}
    for check in checks:
        found = check.features.get(feature)
        if found is not None:
            measures.update(dict.fromkeys(found.measures))
    panels, infinite = [], 0
    for m in measures or {"population_stability_index": None}:
        xs, ys = [], []
        moderate = drift = None
        for number, check in enumerate(checks, start=1):
            found = check.features.get(feature)
            result = None if found is None else found.measures.get(m)
            if result is None:
                continue
            if math.isinf(result.value):
                infinite += 1
                continue
            xs.append(float(number))
            ys.append(result.value)
            if result.thresholds is not None:
                moderate, drift = result.thresholds.moderate, result.thresholds.drift
        series = [Series(m, xs, ys, PALETTE[0])]
        ends = [1.0, float(max(len(checks), 2))]
        if moderate is not None and drift is not None:
            series.append(Series("moderate", ends, [moderate] * 2, PALETTE[3], dashed=True))
            series.append(Series("drift", ends, [drift] * 2, PALETTE[1], dashed=True))
        panels.append(Panel(m.replace("_", " "), "value", series, x_label="check"))
    span = ""
    if checks:
        first, last = checks[0].created_at, checks[-1].created_at
        span = f", {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"
    note = f"; {infinite} infinite values not drawn" if infinite else ""
    title = f"Drift of {feature} against {name}: {len(checks)} checks{span}{note}"
    return line_chart(title, panels)

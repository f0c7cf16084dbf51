"""Small, dependency-free SVG line charts (the experiment curves)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["Panel", "Series", "line_chart"]

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")


@dataclass(frozen=True)
class Series:
    label: str
    xs: Sequence[float]
    ys: Sequence[float]
    color: str
    dashed: bool = False
    width: float = 2.0
    opacity: float = 1.0


@dataclass(frozen=True)
class Panel:
    title: str
    y_label: str
    series: Sequence[Series]


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    start = math.floor(low / step) * step
    return [start + i * step for i in range(count + 2) if start + i * step <= high + step * 0.5]


def _panel(panel: Panel, x0: float, y0: float, width: float, height: float, x_max: float) -> str:
    points = [(x, y) for s in panel.series for x, y in zip(s.xs, s.ys, strict=True)]
    ys = [y for _, y in points if math.isfinite(y)] or [0.0, 1.0]
    ticks = _ticks(min(ys), max(ys))
    low, high = ticks[0], ticks[-1] if ticks[-1] > ticks[0] else ticks[0] + 1.0
    left, top, plot_w, plot_h = x0 + 60, y0 + 30, width - 80, height - 70
    x_min = 1.0
    span = max(x_max - x_min, 1.0)

    def sx(x: float) -> float:
        return left + (x - x_min) / span * plot_w

    def sy(y: float) -> float:
        return top + plot_h - (y - low) / (high - low) * plot_h

    out = [
        f'<text x="{x0 + width / 2}" y="{y0 + 18}" text-anchor="middle" '
        f'font-weight="bold">{escape(panel.title)}</text>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#888"/>',
    ]
    for t in ticks:
        y = sy(t)
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
        )
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{t:.3g}</text>')
    step = max(1, math.ceil(span / 10))
    for e in range(int(x_min), int(x_max) + 1, step):
        out.append(f'<text x="{sx(e):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{e}</text>')
    out.append(
        f'<text x="{left + plot_w / 2}" y="{top + plot_h + 34}" text-anchor="middle">epoch</text>'
    )
    out.append(
        f'<text x="{x0 + 14}" y="{top + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 {x0 + 14} {top + plot_h / 2})">{escape(panel.y_label)}</text>'
    )
    for s in panel.series:
        coords = " ".join(
            f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(s.xs, s.ys, strict=True) if math.isfinite(y)
        )
        if not coords:
            continue
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        out.append(
            f'<polyline points="{coords}" fill="none" stroke="{s.color}" '
            f'stroke-width="{s.width:g}" stroke-opacity="{s.opacity:g}"{dash}/>'
        )
        for x, y in zip(s.xs, s.ys, strict=True):
            if math.isfinite(y):
                out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{s.color}"/>')
    return "\n".join(out)


def line_chart(title: str, panels: Sequence[Panel], width: int = 960, height: int = 420) -> str:
    """Panels side by side sharing the epoch axis, with one legend under them."""
    x_max = max((max(s.xs) for p in panels for s in p.series if s.xs), default=1.0)
    panel_w = width / max(len(panels), 1)
    body = [
        _panel(p, i * panel_w, 30, panel_w, height - 80, float(x_max)) for i, p in enumerate(panels)
    ]
    legend = []
    seen: dict[str, Series] = {}
    for p in panels:
        for s in p.series:
            seen.setdefault(s.label, s)
    for i, s in enumerate(seen.values()):
        x = 20 + i * (width - 40) / max(len(seen), 1)
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        legend.append(
            f'<line x1="{x:.1f}" x2="{x + 28:.1f}" y1="{height - 22}" y2="{height - 22}" '
            f'stroke="{s.color}" stroke-width="{s.width:g}" stroke-opacity="{s.opacity:g}"{dash}/>'
            f'<text x="{x + 34:.1f}" y="{height - 18}">{escape(s.label)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">\n'
        f'<rect width="100%" height="100%" fill="white"/>\n'
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15">{escape(title)}</text>\n'
        + "\n".join(body)
        + "\n"
        + "\n".join(legend)
        + "\n</svg>\n"
    )

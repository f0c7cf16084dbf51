"""Small, dependency-free SVG charts (lines and grouped bars), and PNG rendering of them.

SVG is written by hand; PNG comes from resvg (a self-contained renderer) when asked for.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["PALETTE", "Bars", "Panel", "Series", "bar_chart", "line_chart", "to_png"]

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2")


@dataclass(frozen=True)
class Series:
    label: str
    xs: Sequence[float]
    ys: Sequence[float]
    color: str
    dashed: bool = False
    width: float = 2.0
    opacity: float = 1.0
    # lower and upper bounds at xs, drawn as a shaded area under the line (NaN: none there)
    band: tuple[Sequence[float], Sequence[float]] | None = None


@dataclass(frozen=True)
class Panel:
    title: str
    y_label: str
    series: Sequence[Series]
    x_label: str = "epoch"
    integer_x: bool = True


@dataclass(frozen=True)
class Bars:
    label: str
    values: Sequence[float]
    color: str


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if not high > low:
        high = low + 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    start = math.floor(low / step + 1e-9) * step
    ticks = []
    value = start
    while value <= high + step * 1e-6:
        ticks.append(round(value, 12) + 0.0)  # + 0.0: no "-0" tick
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 12) + 0.0)  # + 0.0: no "-0" tick
    return ticks


@dataclass(frozen=True)
class _Frame:
    """A plotting rectangle and its scales."""

    left: float
    top: float
    width: float
    height: float
    x_low: float
    x_high: float
    y_low: float
    y_high: float

    def x(self, value: float) -> float:
        return self.left + (value - self.x_low) / (self.x_high - self.x_low) * self.width

    def y(self, value: float) -> float:
        return (
            self.top + self.height - (value - self.y_low) / (self.y_high - self.y_low) * self.height
        )


def _axes(frame: _Frame, y_ticks: list[float], title: str, x_label: str, y_label: str) -> list[str]:
    cx = frame.left + frame.width / 2
    out = [
        f'<text x="{cx:.1f}" y="{frame.top - 12:.1f}" text-anchor="middle" '
        f'font-weight="bold">{escape(title)}</text>',
        f'<rect x="{frame.left:.1f}" y="{frame.top:.1f}" width="{frame.width:.1f}" '
        f'height="{frame.height:.1f}" fill="none" stroke="#888"/>',
    ]
    for t in y_ticks:
        y = frame.y(t)
        out.append(
            f'<line x1="{frame.left:.1f}" x2="{frame.left + frame.width:.1f}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="#eee"/>'
        )
        out.append(
            f'<text x="{frame.left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end">{t:.3g}</text>'
        )
    bottom = frame.top + frame.height
    out.append(
        f'<text x="{cx:.1f}" y="{bottom + 34:.1f}" text-anchor="middle">{escape(x_label)}</text>'
    )
    my = frame.top + frame.height / 2
    out.append(
        f'<text x="{frame.left - 46:.1f}" y="{my:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 {frame.left - 46:.1f} {my:.1f})">{escape(y_label)}</text>'
    )
    return out


Entry = tuple[str, str, bool, float, float]  # label, colour, dashed, line width, opacity


def _legend(items: Sequence[Entry], width: int, y: float) -> tuple[list[str], int]:
    """Entries laid out left to right from height ``y``, wrapping onto rows below.

    Returns the elements and the number of rows (the chart grows by the extra rows)."""
    rows: list[list[tuple[float, Entry]]] = [[]]
    x = 20.0
    for item in items:
        extent = 34 + 7.0 * len(item[0]) + 24  # swatch, text at about 7 px a character, gap
        if rows[-1] and x + extent > width - 10:
            rows.append([])
            x = 20.0
        rows[-1].append((x, item))
        x += extent
    out = []
    for r, row in enumerate(rows):
        row_y = y + 18 * r
        for x, (label, color, dashed, line_width, opacity) in row:
            dash = ' stroke-dasharray="6 4"' if dashed else ""
            out.append(
                f'<line x1="{x:.1f}" x2="{x + 28:.1f}" y1="{row_y:.1f}" y2="{row_y:.1f}" '
                f'stroke="{color}" stroke-width="{line_width:g}" '
                f'stroke-opacity="{opacity:g}"{dash}/>'
                f'<text x="{x + 34:.1f}" y="{row_y + 4:.1f}">{escape(label)}</text>'
            )
    return out, len(rows)


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif" font-size="12">\n'
        '<rect width="100%" height="100%" fill="white"/>\n'
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15">{escape(title)}</text>\n'
        + "\n".join(body)
        + "\n</svg>\n"
    )


def _band(frame: _Frame, s: Series) -> str:
    """The shaded area between a series' lower and upper bounds, where both are finite."""
    assert s.band is not None
    low, high = s.band
    kept = [
        (x, a, b)
        for x, a, b in zip(s.xs, low, high, strict=True)
        if math.isfinite(a) and math.isfinite(b)
    ]
    if not kept:
        return ""
    edge = [(x, b) for x, _, b in kept] + [(x, a) for x, a, _ in reversed(kept)]
    d = " ".join(
        f"{'M' if i == 0 else 'L'}{frame.x(x):.1f},{frame.y(y):.1f}"
        for i, (x, y) in enumerate(edge)
    )
    return (
        f'<path class="band" d="{d} Z" fill="{s.color}" fill-opacity="0.2" '
        f'stroke="{s.color}" stroke-opacity="0.3" stroke-width="1"/>'
    )


def _line_panel(panel: Panel, x0: float, y0: float, width: float, height: float) -> list[str]:
    xs = [x for s in panel.series for x in s.xs] or [0.0, 1.0]
    bounds = [y for s in panel.series if s.band for side in s.band for y in side]
    ys = [y for y in [*(y for s in panel.series for y in s.ys), *bounds] if math.isfinite(y)]
    ys = ys or [0.0, 1.0]
    y_ticks = _ticks(min(ys), max(ys))
    x_low, x_high = min(xs), max(xs)
    if x_high <= x_low:
        x_high = x_low + 1.0
    frame = _Frame(
        x0 + 70, y0 + 30, width - 90, height - 70, x_low, x_high, y_ticks[0], y_ticks[-1]
    )
    out = _axes(frame, y_ticks, panel.title, panel.x_label, panel.y_label)
    x_ticks = (
        list(range(int(x_low), int(x_high) + 1, max(1, math.ceil((x_high - x_low) / 10))))
        if panel.integer_x
        else _ticks(x_low, x_high)
    )
    bottom = frame.top + frame.height
    for t in x_ticks:
        if x_low - 1e-9 <= t <= x_high + 1e-9:
            x = frame.x(t)
            out.append(f'<text x="{x:.1f}" y="{bottom + 16:.1f}" text-anchor="middle">{t:g}</text>')
    out.extend(b for b in (_band(frame, s) for s in panel.series if s.band) if b)
    for s in panel.series:
        points = [(x, y) for x, y in zip(s.xs, s.ys, strict=True) if math.isfinite(y)]
        if not points:
            continue
        coords = " ".join(f"{frame.x(x):.1f},{frame.y(y):.1f}" for x, y in points)
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        out.append(
            f'<polyline points="{coords}" fill="none" stroke="{s.color}" '
            f'stroke-width="{s.width:g}" stroke-opacity="{s.opacity:g}"{dash}/>'
        )
        if len(points) <= 60:
            out.extend(
                f'<circle cx="{frame.x(x):.1f}" cy="{frame.y(y):.1f}" r="2.5" fill="{s.color}"/>'
                for x, y in points
            )
    return out


def line_chart(title: str, panels: Sequence[Panel], width: int = 960, height: int = 420) -> str:
    """Panels side by side, with one legend under them."""
    panel_w = width / max(len(panels), 1)
    body: list[str] = []
    for i, panel in enumerate(panels):
        body.extend(_line_panel(panel, i * panel_w, 30, panel_w, height - 80))
    seen: dict[str, Series] = {}
    for panel in panels:
        for s in panel.series:
            seen.setdefault(s.label, s)
    items = [(s.label, s.color, s.dashed, s.width, s.opacity) for s in seen.values()]
    legend, rows = _legend(items, width, height - 22)
    return _svg(width, height + 18 * (rows - 1), title, body + legend)


def bar_chart(
    title: str,
    categories: Sequence[str],
    groups: Sequence[Bars],
    x_label: str,
    y_label: str,
    width: int = 960,
    height: int = 440,
) -> str:
    """Grouped bars: one group per category, one bar per series."""
    values = [v for g in groups for v in g.values if math.isfinite(v)] or [1.0]
    y_ticks = _ticks(0.0, max(values))
    frame = _Frame(70, 60, width - 100, height - 140, 0, len(categories), 0.0, y_ticks[-1])
    body = _axes(frame, y_ticks, "", x_label, y_label)
    slot = frame.width / max(len(categories), 1)
    bar = slot * 0.8 / max(len(groups), 1)
    bottom = frame.top + frame.height
    longest = max((len(c) for c in categories), default=1)
    every = max(1, math.ceil((7.0 * longest + 8) / slot))  # labels that do not overlap
    for c, category in enumerate(categories):
        left = frame.left + c * slot + slot * 0.1
        if c % every == 0:
            body.append(
                f'<text x="{left + slot * 0.4:.1f}" y="{bottom + 16:.1f}" text-anchor="middle">'
                f"{escape(category)}</text>"
            )
        for g, group in enumerate(groups):
            value = group.values[c]
            if not math.isfinite(value):
                continue
            top = frame.y(value)
            body.append(
                f'<rect x="{left + g * bar:.1f}" y="{top:.1f}" width="{bar:.1f}" '
                f'height="{bottom - top:.1f}" fill="{group.color}"/>'
            )
    entries = [(g.label, g.color, False, 8.0, 1.0) for g in groups]
    legend, rows = _legend(entries, width, height - 22)
    return _svg(width, height + 18 * (rows - 1), title, body + legend)


_RENDER = (
    "import sys, resvg_py; svg = sys.stdin.buffer.read().decode(); "
    "sys.stdout.buffer.write(bytes(resvg_py.svg_to_bytes(svg_string=svg, background='white')))"
)


def to_png(svg: str, timeout: float = 60.0) -> bytes:
    """Render an SVG chart to PNG (resvg, with the machine's fonts) in a child process.

    resvg holds the GIL for the whole render, which in the API process would stall every
    other request and the event loop; a child (about 10 ms to start) stalls nothing, and its
    memory goes back when it ends.
    """
    done = subprocess.run(
        [sys.executable, "-c", _RENDER],
        input=svg.encode(),
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"PNG rendering failed: {done.stderr.decode(errors='replace')[-500:]}")
    return done.stdout

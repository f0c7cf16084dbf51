"""From samples to distributions: counts of labels, histograms on shared bin edges.

Two samples become comparable distributions only on one support:

- labels: counts on the union of the labels of both samples (sorted);
- numbers: counts on one set of bin edges for both samples. Edges are given, or equal-width
  over the pooled range of both samples (a number of bins, or numpy's Freedman-Diaconis or
  Sturges rule on the pooled sample: the same edges as ``numpy.histogram_bin_edges``), or
  the quantiles of a reference sample.

Bins follow ``numpy.histogram``: ``[e_i, e_{i+1})``, the last one closed. A value below the
first edge or above the last is never dropped: it is counted in the underflow or overflow
bin. Pure numpy; inputs are finite float64 samples (the service checks that), and every
function that builds edges refuses (``ValueError``) what would give no valid edges.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from app.infotheory._arrays import Float64Array
from app.infotheory.chi_square import neyman_chi_square, pearson_chi_square
from app.infotheory.divergence import cross_entropy, kl_divergence
from app.infotheory.hellinger import (
    bhattacharyya_coefficient,
    bhattacharyya_distance,
    hellinger_distance,
)
from app.infotheory.jeffreys import jeffreys_divergence
from app.infotheory.jensen_shannon import js_distance, js_divergence
from app.infotheory.stability import population_stability_index
from app.infotheory.total_variation import total_variation
from app.infotheory.wasserstein import wasserstein_distance

__all__ = [
    "BIN_RULES",
    "HISTOGRAM_MEASURES",
    "BinRule",
    "Histogram",
    "HistogramMeasure",
    "TooManyBinsError",
    "bin_centres",
    "check_edges",
    "histogram",
    "label_counts",
    "pooled_edges",
    "quantile_edges",
    "rule_bin_count",
]

BinRule = Literal["fd", "sturges"]
BIN_RULES: dict[str, str] = {
    "fd": "Freedman-Diaconis: width 2 IQR n^(-1/3) of the pooled sample",
    "sturges": "Sturges: log2(n) + 1 bins over the pooled range",
}

Counts = NDArray[np.int64]


@dataclass(frozen=True)
class HistogramMeasure:
    """A pair measure as the samples step applies it to two histograms ``p`` and ``q``."""

    kernel: Callable[..., Any]  # (p, q[, unit]) or, with positions, (p, q, positions)
    formula: str
    has_unit: bool  # takes unit = "bits" | "nats" | "bans"
    # where it is infinite: "p" at events with p > 0 = q, "q" at q > 0 = p, "either" at both,
    # "disjoint" when the supports do not meet, "never"
    infinite: Literal["p", "q", "either", "disjoint", "never"]
    positions: bool = False  # takes the bins' centres: numeric samples only


HISTOGRAM_MEASURES: dict[str, HistogramMeasure] = {
    "kl_divergence": HistogramMeasure(kl_divergence, "sum p log(p / q)", True, "p"),
    "cross_entropy": HistogramMeasure(cross_entropy, "-sum p log q", True, "p"),
    "js_divergence": HistogramMeasure(
        js_divergence, "(D(p || m) + D(q || m)) / 2, m = (p + q) / 2", True, "never"
    ),
    "js_distance": HistogramMeasure(js_distance, "sqrt(JS(p, q))", True, "never"),
    "jeffreys_divergence": HistogramMeasure(
        jeffreys_divergence, "sum (p - q) log(p / q)", True, "either"
    ),
    "hellinger_distance": HistogramMeasure(
        hellinger_distance, "sqrt(1 - sum sqrt(p q))", False, "never"
    ),
    "bhattacharyya_coefficient": HistogramMeasure(
        bhattacharyya_coefficient, "sum sqrt(p q)", False, "never"
    ),
    "bhattacharyya_distance": HistogramMeasure(
        bhattacharyya_distance, "-log sum sqrt(p q)", True, "disjoint"
    ),
    "total_variation": HistogramMeasure(total_variation, "sum |p - q| / 2", False, "never"),
    "pearson_chi_square": HistogramMeasure(pearson_chi_square, "sum (p - q)^2 / q", False, "p"),
    "neyman_chi_square": HistogramMeasure(neyman_chi_square, "sum (p - q)^2 / p", False, "q"),
    "population_stability_index": HistogramMeasure(
        population_stability_index, "sum (p - q) ln(p / q)", False, "either"
    ),
    "wasserstein_distance": HistogramMeasure(
        wasserstein_distance,
        "sum |F_p - F_q| (x_i+1 - x_i), x = the bins' centres",
        False,
        "never",
        positions=True,
    ),
}


@dataclass(frozen=True)
class Histogram:
    """Counts of one sample on given edges, and what fell outside them."""

    counts: Counts  # one per bin: len(edges) - 1
    underflow: int  # values below edges[0]
    overflow: int  # values above edges[-1]


def check_edges(edges: ArrayLike) -> Float64Array:
    """Return ``edges`` as float64; ``ValueError`` unless at least two finite, strictly
    increasing numbers spanning less than the largest float64."""
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or e.size < 2:
        raise ValueError("edges must be a list of at least two numbers (one bin)")
    if not np.isfinite(e).all():
        raise ValueError("edges must be finite")
    steps = np.diff(e)
    if not (steps > 0).all():
        at = int(np.flatnonzero(steps <= 0)[0]) + 1
        raise ValueError(f"edges must be strictly increasing: edge {at} is not above edge {at - 1}")
    if not math.isfinite(float(e[-1]) - float(e[0])):
        raise ValueError("edges must span less than the largest float64")
    return e


def _outer(pooled: Float64Array) -> tuple[float, float]:
    """The pooled range, widened by 1/2 on each side when it is one value (as numpy)."""
    first, last = float(pooled.min()), float(pooled.max())
    if first == last:
        first, last = first - 0.5, last + 0.5
    if not math.isfinite(last - first):
        raise ValueError("the samples span more than the largest float64: give edges")
    return first, last


def rule_bin_count(x: ArrayLike, y: ArrayLike, rule: BinRule) -> int:
    """Bins the rule gives on the pooled sample, as ``numpy.histogram_bin_edges`` counts them,
    without building them (so that a caller can refuse too many first). Saturates at 2**62."""
    pooled = np.concatenate([np.asarray(x, np.float64), np.asarray(y, np.float64)])
    first, last = _outer(pooled)
    if rule == "fd":
        q75, q25 = np.percentile(pooled, [75, 25])
        width = 2.0 * float(q75 - q25) * math.pow(pooled.size, -1.0 / 3.0)
    elif rule == "sturges":
        width = float(np.ptp(pooled)) / float(np.log2(pooled.size) + 1.0)
    else:
        raise ValueError(f"unknown rule {rule!r}; expected one of {', '.join(BIN_RULES)}")
    if not width:
        return 1
    ratio = (last - first) / width
    if not math.isfinite(ratio):  # a width that underflowed to almost nothing
        return 2**62
    return min(max(math.ceil(ratio), 1), 2**62)  # may be huge: an int, never an overflow


class TooManyBinsError(ValueError):
    """The range is too narrow for that many bins of positive width in float64."""


def pooled_edges(x: ArrayLike, y: ArrayLike, bins: int) -> Float64Array:
    """``bins + 1`` equal-width edges over the pooled range of ``x`` and ``y`` (as
    ``numpy.histogram_bin_edges(concatenate([x, y]), bins)``). Like numpy,
    :class:`TooManyBinsError` where the range is a few ulp wide and some edges would
    coincide (bins of zero width)."""
    if bins < 1:
        raise ValueError("bins must be at least 1")
    pooled = np.concatenate([np.asarray(x, np.float64), np.asarray(y, np.float64)])
    first, last = _outer(pooled)
    edges: Float64Array = np.linspace(first, last, bins + 1, endpoint=True, dtype=np.float64)
    if not (np.diff(edges) > 0).all():
        raise TooManyBinsError(
            f"the range [{first!r}, {last!r}] is too narrow for {bins} bins of positive width "
            "in float64: ask for fewer bins or give edges"
        )
    return edges


def quantile_edges(reference: ArrayLike, bins: int) -> Float64Array:
    """Edges at the ``k / bins`` quantiles of ``reference`` (numpy's linear interpolation),
    ties merged, so a sample with repeated values may get fewer bins. ``ValueError`` when the
    reference has a single distinct value."""
    if bins < 1:
        raise ValueError("bins must be at least 1")
    ref = np.asarray(reference, dtype=np.float64)
    edges: Float64Array = np.unique(np.quantile(ref, np.linspace(0.0, 1.0, bins + 1)))
    if edges.size < 2:
        raise ValueError("the reference sample has one distinct value: no quantile bins")
    return check_edges(edges)


def histogram(values: ArrayLike, edges: Float64Array) -> Histogram:
    """Counts of ``values`` on checked ``edges`` (numpy.histogram's bins), plus the counts
    below the first edge and above the last."""
    v = np.asarray(values, dtype=np.float64)
    slot = np.searchsorted(edges, v, side="right")  # 0: below; k: bin k-1; len(edges): above
    slot[v == edges[-1]] = len(edges) - 1  # the last bin is closed
    counts = np.bincount(slot, minlength=len(edges) + 1)
    return Histogram(counts[1:-1].astype(np.int64), int(counts[0]), int(counts[-1]))


def bin_centres(edges: Float64Array) -> Float64Array:
    """The midpoint of every bin."""
    centres: Float64Array = edges[:-1] / 2 + edges[1:] / 2  # no overflow near float64's max
    return centres


def label_counts(x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.generic], Counts, Counts]:
    """The sorted union of the labels of ``x`` and ``y``, and the counts of each sample on it."""
    xa, ya = np.asarray(x), np.asarray(y)
    labels, index = np.unique(np.concatenate([xa, ya]), return_inverse=True)
    counts_x = np.bincount(index[: xa.size], minlength=labels.size).astype(np.int64)
    counts_y = np.bincount(index[xa.size :], minlength=labels.size).astype(np.int64)
    return labels, counts_x, counts_y

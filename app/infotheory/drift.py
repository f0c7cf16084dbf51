"""Drift of many binned features at once: measures, a seeded bootstrap interval and p-value.

A feature is two count vectors on one set of slots (``window``, ``reference``): for a
numeric feature ``[underflow, bin_1, ..., bin_k, overflow]``, for a categorical one
``[label_1, ..., label_k, unseen]``. ``active`` marks the slots a value can reach (the
outer slots of open-ended bins are never active); additive smoothing, when asked for, gives
``alpha`` (a probability) to every active slot of both sides::

    p_i = (c_i / n + alpha [i active]) / (1 + alpha m),   m = active slots

Measures compare ``p`` = window with ``q`` = reference (for KL: ``D(window || reference)``),
in nats where they have a unit. Features are grouped by slot count padded to a multiple of four
(zero slots on both sides add nothing to any of these measures), and each group is one
vectorised pass of every kernel: the point values, then the bootstrap in chunks of bounded
memory.

The bootstrap draws both sides again from multinomials (``resamples`` times):

- the interval: each side from its own empirical distribution; the percentile interval of
  the measure at ``confidence`` (quantiles without interpolation, so ``+inf`` stays exact);
- the p-value: both sides from their pooled distribution (no drift); ``(1 + #{null >=
  value}) / (resamples + 1)``, how often sampling noise alone reaches the observed value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from app.infotheory._arrays import Float64Array
from app.infotheory.histograms import HISTOGRAM_MEASURES, HistogramMeasure

__all__ = [
    "DRIFT_MEASURES",
    "DriftFeature",
    "MeasureDrift",
    "drift",
    "padded_slots",
    "wasserstein_rows",
]

# Divergences and distances (0 when nothing moved, larger with more drift): cross-entropy and
# the Bhattacharyya coefficient are not, so thresholds "above is worse" do not apply to them.
DRIFT_MEASURES: dict[str, HistogramMeasure] = {
    name: measure
    for name, measure in HISTOGRAM_MEASURES.items()
    if name not in ("cross_entropy", "bhattacharyya_coefficient")
}

Int64Array = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
_CHUNK_CELLS = 1 << 20  # cells of one bootstrap draw array (8 MiB)
_TIE = 1e-12  # a null value within this relative distance of the observed one counts as >=


@dataclass(frozen=True)
class DriftFeature:
    """One feature's counts on its slots; ``positions`` (numeric features) place the slots on
    the line for the Wasserstein distance."""

    window: Int64Array
    reference: Int64Array
    active: BoolArray
    positions: Float64Array | None = None


@dataclass(frozen=True)
class MeasureDrift:
    """One measure over every feature, in the order given (``low``/``high``/``p_value``:
    None without a bootstrap). ``infinite[f]``: the slots that make feature f's value
    infinite (empty where it is finite, or where no slot is to blame)."""

    value: Float64Array
    low: Float64Array | None
    high: Float64Array | None
    p_value: Float64Array | None
    infinite: list[list[int]]


def padded_slots(slots: int) -> int:
    """The slot count a feature is computed with: the next multiple of 4."""
    return max(4, -(-slots // 4) * 4)


def wasserstein_rows(p: Float64Array, q: Float64Array, gaps: Float64Array) -> Float64Array:
    """Row-wise ``sum_i |F_p(i) - F_q(i)| gaps_i`` with each row's own ``gaps`` (``p``, ``q``:
    (rows, n); ``gaps``: (rows, n - 1) or broadcastable), clamped into ``[0, sum gaps]``."""
    cdf = np.cumsum(p - q, axis=-1)
    np.abs(cdf, out=cdf)
    sums: Float64Array = np.einsum("...i,...i->...", cdf[..., :-1], gaps)
    span = np.broadcast_to(gaps.sum(axis=-1), sums.shape)
    return np.clip(sums, 0.0, span)


def _probabilities(counts: NDArray[np.generic], active: BoolArray, alpha: float) -> Float64Array:
    c = counts.astype(np.float64)
    n = c.sum(axis=-1, keepdims=True)
    p: Float64Array = np.divide(c, n, out=np.zeros_like(c), where=n > 0)
    if alpha > 0:
        m = active.sum(axis=-1, keepdims=True)
        p = (p + alpha * active) / (1.0 + alpha * m)
    return p


def _values(name: str, p: Float64Array, q: Float64Array, gaps: Float64Array | None) -> Float64Array:
    """One measure of every row pair; ``p``, ``q``: (..., P)."""
    shape = p.shape[:-1]
    rows_p, rows_q = p.reshape(-1, p.shape[-1]), q.reshape(-1, q.shape[-1])
    measure = DRIFT_MEASURES[name]
    if measure.positions:
        assert gaps is not None
        g = np.broadcast_to(gaps, (*shape, gaps.shape[-1])).reshape(-1, gaps.shape[-1])
        values = wasserstein_rows(rows_p, rows_q, g)
    else:
        values = np.asarray(measure.kernel(rows_p, rows_q), dtype=np.float64)
    return values.reshape(shape)


def _blamed(name: str, p: Float64Array, q: Float64Array) -> BoolArray:
    """The slots that make each row's value infinite (p = window, q = reference)."""
    where = DRIFT_MEASURES[name].infinite
    blamed: BoolArray = np.zeros(p.shape, dtype=np.bool_)
    if where == "p":
        blamed = (p > 0) & (q == 0)
    elif where == "q":
        blamed = (q > 0) & (p == 0)
    elif where == "either":
        blamed = (p > 0) != (q > 0)
    return blamed


@dataclass(frozen=True)
class _Group:
    index: list[int]  # positions of its features in the caller's list
    window: Int64Array  # (F, P)
    reference: Int64Array
    active: BoolArray
    gaps: Float64Array  # (F, P - 1); 0 where a feature has no positions or no slot

    @classmethod
    def of(cls, features: Sequence[DriftFeature], index: list[int], size: int) -> _Group:
        window = np.zeros((len(index), size), dtype=np.int64)
        reference = np.zeros_like(window)
        active = np.zeros((len(index), size), dtype=np.bool_)
        gaps = np.zeros((len(index), size - 1), dtype=np.float64)
        for row, i in enumerate(index):
            f = features[i]
            s = f.window.shape[0]
            window[row, :s], reference[row, :s], active[row, :s] = f.window, f.reference, f.active
            if f.positions is not None and s > 1:
                gaps[row, : s - 1] = np.diff(f.positions)
        return cls(index, window, reference, active, gaps)


def _draw(
    rng: np.random.Generator, n: Int64Array, p: Float64Array, draws: int
) -> NDArray[np.int64]:
    """``draws`` multinomial count vectors per row of ``p`` (n[f] values each): (draws, F, P)."""
    out: NDArray[np.int64] = rng.multinomial(n, p, size=(draws, p.shape[0]))
    return out


def _bootstrap(
    group: _Group,
    measures: Sequence[str],
    alpha: float,
    resamples: int,
    rng: np.random.Generator,
) -> dict[str, tuple[Float64Array, Float64Array]]:
    """Per measure: the (resamples, F) values under the empirical laws and under the pooled
    law."""
    n_win, n_ref = group.window.sum(axis=-1), group.reference.sum(axis=-1)
    p_win = _probabilities(group.window, group.active, 0.0)
    p_ref = _probabilities(group.reference, group.active, 0.0)
    pooled = _probabilities(group.window + group.reference, group.active, 0.0)
    rows, size = group.window.shape
    chunk = max(1, _CHUNK_CELLS // (rows * size))
    found = {m: (np.empty((resamples, rows)), np.empty((resamples, rows))) for m in measures}
    for start in range(0, resamples, chunk):
        draws = min(chunk, resamples - start)
        laws = ((p_win, p_ref, 0), (pooled, pooled, 1))
        for law_win, law_ref, slot in laws:
            win = _probabilities(_draw(rng, n_win, law_win, draws), group.active, alpha)
            ref = _probabilities(_draw(rng, n_ref, law_ref, draws), group.active, alpha)
            for m in measures:
                found[m][slot][start : start + draws] = _values(m, win, ref, group.gaps)
    return found


def drift(
    features: Sequence[DriftFeature],
    measures: Sequence[str],
    *,
    alpha: float = 0.0,
    resamples: int = 0,
    confidence: float = 0.95,
    seed: int | None = None,
) -> dict[str, MeasureDrift]:
    """Every measure of every feature (window against reference), with a bootstrap when
    ``resamples > 0``; ``seed`` makes the bootstrap reproducible.

    Raises ``ValueError`` for an unknown measure, a feature whose sides differ in length or
    that has an empty side.
    """
    for m in measures:
        if m not in DRIFT_MEASURES:
            raise ValueError(f"unknown drift measure {m!r}")
    groups: dict[int, list[int]] = {}
    for i, f in enumerate(features):
        if f.window.shape != f.reference.shape or f.active.shape != f.window.shape:
            raise ValueError(f"feature {i}: window, reference and active differ in length")
        if f.window.sum() <= 0 or f.reference.sum() <= 0:
            raise ValueError(f"feature {i}: an empty side")
        groups.setdefault(padded_slots(f.window.shape[0]), []).append(i)
    count = len(features)
    value = {m: np.zeros(count) for m in measures}
    low = {m: np.zeros(count) for m in measures}
    high = {m: np.zeros(count) for m in measures}
    p_value = {m: np.zeros(count) for m in measures}
    infinite: dict[str, list[list[int]]] = {m: [[] for _ in features] for m in measures}
    rng = np.random.default_rng(seed)
    lower_q, upper_q = (1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0
    for size in sorted(groups):
        group = _Group.of(features, groups[size], size)
        p = _probabilities(group.window, group.active, alpha)
        q = _probabilities(group.reference, group.active, alpha)
        for m in measures:
            observed = _values(m, p, q, group.gaps)
            value[m][group.index] = observed
            for row in np.flatnonzero(np.isinf(observed)):
                blamed = _blamed(m, p[row], q[row])
                infinite[m][group.index[row]] = np.flatnonzero(blamed).tolist()
        if resamples <= 0:
            continue
        found = _bootstrap(group, measures, alpha, resamples, rng)
        for m in measures:
            spread, null = found[m]
            bounds = np.quantile(spread, [lower_q, upper_q], axis=0, method="inverted_cdf")
            low[m][group.index], high[m][group.index] = bounds[0], bounds[1]
            observed = value[m][group.index]
            reached = null >= observed - _TIE * np.where(np.isinf(observed), 0.0, observed)
            p_value[m][group.index] = (1.0 + reached.sum(axis=0)) / (resamples + 1.0)
    boot = resamples > 0
    return {
        m: MeasureDrift(
            value[m],
            low[m] if boot else None,
            high[m] if boot else None,
            p_value[m] if boot else None,
            infinite[m],
        )
        for m in measures
    }

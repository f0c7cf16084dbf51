"""Cross-entropy and Kullback-Leibler divergence.

Both compare ``p`` with ``q``: each a distribution (1-D) or a batch (2-D, one per row);
a 1-D argument is compared with every row of a 2-D one. Values are in the requested unit.

Zero handling, exactly and without epsilons:

- an event with ``p = 0`` contributes 0, whatever ``q`` is;
- an event with ``p > 0`` and ``q = 0`` makes the value ``+inf``; :func:`infinite_events`
  names those events.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from app.infotheory._arrays import Float64Array, as_pair, as_rows, clamp, finish
from app.infotheory._native import SMALL_MAX_EVENTS, small
from app.infotheory._parallel import row_sums_in_chunks
from app.infotheory._sums import SMALLEST, weighted_log_sum
from app.infotheory.units import nats_per_unit

__all__ = ["cross_entropy", "infinite_events", "kl_divergence"]


def cross_entropy(p: ArrayLike, q: ArrayLike, unit: str = "nats") -> float | Float64Array:
    """Return the cross-entropy ``H(p, q) = -sum p log q``.

    Returns a float for two 1-D inputs, one value per row otherwise; ``+inf`` where some event
    has ``p > 0`` and ``q = 0``. Never negative.
    """
    if small is not None and (value := small.cross_entropy(p, q, SMALL_MAX_EVENTS)) is not None:
        return clamp(value, nats_per_unit(unit))
    pa, qa = as_pair(p, q)
    sums = row_sums_in_chunks(_cross_entropy_sums, as_rows(pa), as_rows(qa))
    return finish(sums, pa.ndim == 1, nats_per_unit(unit))


def _cross_entropy_sums(prow: Float64Array, qrow: Float64Array) -> Float64Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        sums: Float64Array = 0.0 - weighted_log_sum(prow, np.log(qrow))
    return sums


def kl_divergence(p: ArrayLike, q: ArrayLike, unit: str = "nats") -> float | Float64Array:
    """Return the Kullback-Leibler divergence ``D(p || q) = sum p log(p / q)``.

    One vectorised pass computes ``p * log(p / q)``. Rows whose sum is not finite (a zero
    in ``q`` under mass in ``p``, or a ratio that overflows) are recomputed term by term as
    ``p * (log p - log q)``, which is exact about infinities and cannot overflow.
    Rounding never makes the result negative.
    """
    if small is not None and (value := small.kl(p, q, SMALL_MAX_EVENTS)) is not None:
        return clamp(value, nats_per_unit(unit))
    pa, qa = as_pair(p, q)
    sums = row_sums_in_chunks(_kl_sums, as_rows(pa), as_rows(qa))
    return finish(sums, pa.ndim == 1, nats_per_unit(unit))


def _kl_sums(prow: Float64Array, qrow: Float64Array) -> Float64Array:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        logs = np.divide(prow, qrow)
        # where p = 0 the ratio is 0 (or NaN if q = 0 too): raising it to SMALLEST keeps the
        # term 0 * log(SMALLEST) = 0 out of the NaN repair. Exact while q < 2: a positive p is
        # at least SMALLEST, so p / q cannot round to 0 and no positive ratio is raised.
        if qrow.max(initial=0.0) < 2.0:
            np.fmax(logs, SMALLEST, out=logs)  # fmax: 0 / 0 = NaN (p = q = 0) too
        np.log(logs, out=logs)
        sums = weighted_log_sum(prow, logs)
        if not (math.isfinite(sums[0]) if sums.size == 1 else np.isfinite(sums).all()):
            bad = ~np.isfinite(sums)
            sums[bad] = _exact_kl_rows(prow[bad], qrow[bad])
    return sums


def _exact_kl_rows(p: Float64Array, q: Float64Array) -> Float64Array:
    """Row sums of ``p (log p - log q)``: ``+inf`` exactly where ``p > 0 = q``, no overflow."""
    terms = np.where(p > 0, p * (np.log(p) - np.log(q)), 0.0)
    sums: Float64Array = terms.sum(axis=-1)
    return sums


def infinite_events(p: ArrayLike, q: ArrayLike) -> list[list[int]]:
    """Return, for each row, the indices of events with ``p > 0`` and ``q = 0``.

    These are the events that make ``D(p || q)`` and ``H(p, q)`` infinite. A 1-D pair gives
    a list holding one list.
    """
    pa, qa = as_pair(p, q)
    mask = (pa > 0) & (qa == 0)
    if mask.ndim == 1:
        return [np.flatnonzero(mask).tolist()]
    if not mask.any():
        return [[] for _ in range(mask.shape[0])]
    return [np.flatnonzero(row).tolist() for row in mask]

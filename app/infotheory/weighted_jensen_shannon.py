"""Weighted Jensen-Shannon divergence of ``k`` distributions.

With weights ``w`` (non-negative, summing to 1; uniform by default) and the mixture
``M = sum w_i P_i``::

    JS_w(P_1, ..., P_k) = H(M) - sum w_i H(P_i) = sum w_i D(P_i || M)

It lies in ``[0, H(w)]`` (``H(w) = -sum w log w``; ``ln 2`` nats for two equal weights, the
pair JS of ``jensen_shannon``), is symmetric under permuting the pairs ``(P_i, w_i)`` and is
never infinite: ``M > 0`` wherever some ``P_i`` with ``w_i > 0`` is. The kernel sums the KL
form, whose terms are non-negative, so nearly equal inputs keep their digits; distributions
of weight 0 take no part. Values are in ``"bits"``, ``"nats"`` (default) or ``"bans"``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from app.infotheory._arrays import Float64Array, finish
from app.infotheory._rows import row_dots, weighted_row_sums
from app.infotheory.units import nats_per_unit

__all__ = ["WEIGHTS_TOLERANCE", "weighted_js_divergence"]

# Allowed |sum(weights) - 1|: the service's default tolerance for a distribution's sum.
WEIGHTS_TOLERANCE = 1e-6


def _sets(distributions: ArrayLike) -> Float64Array:
    """Return the input as a float64 ``(sets, k, n)`` array; a 2-D input is one set."""
    arr = np.asarray(distributions, dtype=np.float64)
    if arr.ndim not in (2, 3):
        raise ValueError(f"distributions must be 2-D (k x n) or 3-D, got {arr.ndim}-D")
    if arr.shape[-1] == 0 or arr.shape[-2] == 0:
        raise ValueError("distributions must not be empty")
    return arr.reshape(-1, *arr.shape[-2:])


def _weights(weights: ArrayLike | None, k: int) -> Float64Array:
    """Return ``weights`` as a float64 vector of length ``k``; ``ValueError`` naming them."""
    if weights is None:
        return np.full(k, 1.0 / k)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (k,):
        raise ValueError(f"weights must be a vector of {k} numbers, got shape {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and non-negative")
    total = float(w.sum())
    if not abs(total - 1.0) <= WEIGHTS_TOLERANCE:
        raise ValueError(f"weights must sum to 1 (within {WEIGHTS_TOLERANCE:g}), got {total!r}")
    return w


def weighted_js_divergence(
    distributions: ArrayLike, weights: ArrayLike | None = None, unit: str = "nats"
) -> float | Float64Array:
    """Return ``JS_w = sum w_i D(P_i || M)``, ``M = sum w_i P_i``, clamped into ``[0, H(w)]``.

    ``distributions`` is ``k x n`` (``k`` distributions of ``n`` events: returns a float) or
    ``sets x k x n`` (returns one value per set); ``weights`` has ``k`` entries. Events where
    ``P_i = 0`` contribute 0. Raises ``ValueError`` naming ``weights`` when they have the
    wrong length, are negative or not finite, or do not sum to 1 within
    ``WEIGHTS_TOLERANCE``.
    """
    scale = nats_per_unit(unit)
    one_set = np.ndim(distributions) == 2
    sets = _sets(distributions)
    w = _weights(weights, sets.shape[1])
    if not (w > 0).all():  # a weight-0 member is outside the mixture's support
        sets, w = sets[:, w > 0], w[w > 0]
    # einsum, not matmul: BLAS would run multi-threaded here, many times slower when shared
    mixture = np.einsum("i,sin->sn", w, sets)
    count, k, n = sets.shape
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        logs = np.divide(sets, mixture[:, None, :])
        np.log(logs, out=logs)
        # 0 * log 0 = NaN where P_i = 0: weighted_row_sums counts it as 0
        flat = weighted_row_sums(sets.reshape(-1, n), logs.reshape(-1, n))
        divergences = flat.reshape(count, k)  # D(P_i || M)
        bad = ~np.isfinite(divergences).all(axis=1)
        if bad.any():
            divergences[bad] = _capped_divergences(sets[bad], mixture[bad], w)
    bound = -float(np.add.reduce(w * np.log(w)))  # H(w) in nats; every w_i > 0 here
    return finish(row_dots(divergences, w), one_set, scale, high=bound)


def _capped_divergences(sets: Float64Array, mixture: Float64Array, w: Float64Array) -> Float64Array:
    """``D(P_i || M)`` with ``log(P_i / M)`` capped at its exact bound ``-log w_i``.

    ``M >= w_i P_i``, but where ``w_i P_i`` underflows a subnormal ``M`` can round to 0 and
    the ratio overflow; the cap restores the bound, and such terms are negligible anyway.
    """
    logs = np.log(sets / mixture[:, None, :])
    np.minimum(logs, -np.log(w)[:, None], out=logs)
    sums: Float64Array = np.where(sets > 0, sets * logs, 0.0).sum(axis=-1)
    return sums

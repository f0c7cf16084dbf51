"""Perplexity and cross-perplexity.

::

    PP(p)     = b^H_b(p)    = exp(H(p))       H in nats
    PP(p, q)  = b^H_b(p, q) = exp(H(p, q))

The value does not depend on the base ``b`` of the logarithm, so these kernels take **no
unit**: they are effective numbers of equally likely events. ``1 <= PP(p) <= n`` for ``n``
events (1 for a one-hot distribution, ``n`` for the uniform one). ``PP(p, q) >= PP(p)`` and is
``+inf`` where the cross-entropy is (some event with ``p > 0 = q``), and also where
``exp`` overflows float64 (a cross-entropy above about 709.78 nats). Events with ``p = 0``
contribute nothing (``0 log 0 = 0``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from app.infotheory._arrays import Float64Array, as_distribution, as_rows
from app.infotheory._rows import pair, weighted_row_sums

__all__ = ["cross_perplexity", "perplexity"]


def _exp_of_minus(sums: Float64Array, one_d: bool, high: float) -> float | Float64Array:
    """``exp(-sums)`` clamped into ``[1, high]`` (``sums`` is ``sum p log x <= 0``)."""
    with np.errstate(over="ignore"):
        if one_d:
            return min(max(1.0, float(np.exp(-sums[0]))), high)
        np.negative(sums, out=sums)
        np.exp(sums, out=sums)
        return np.clip(sums, 1.0, high, out=sums)


def perplexity(p: ArrayLike) -> float | Float64Array:
    """Return ``exp(H(p))``, in ``[1, n]``: a float for 1-D input, one value per row otherwise."""
    arr = as_distribution(p)
    rows = as_rows(arr)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sums = weighted_row_sums(rows, np.log(rows))  # -H(p): 0 * log 0 counts as 0
    return _exp_of_minus(sums, arr.ndim == 1, float(rows.shape[-1]))


def cross_perplexity(p: ArrayLike, q: ArrayLike) -> float | Float64Array:
    """Return ``exp(H(p, q))``, in ``[1, +inf]``; ``+inf`` where some event has ``p > 0 = q``.

    A float for two 1-D inputs, one value per row otherwise.
    """
    pa, qa = pair(p, q)
    prow = as_rows(pa)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sums = weighted_row_sums(prow, np.log(as_rows(qa)))  # -H(p, q)
    return _exp_of_minus(sums, pa.ndim == 1, math.inf)

"""Jeffreys divergence, the symmetrised Kullback-Leibler divergence.

::

    J(p, q) = D(p || q) + D(q || p) = sum (p - q) log(p / q)

Symmetric, in ``[0, +inf]``, in ``"bits"``, ``"nats"`` (default) or ``"bans"``. Zeros,
exactly: an event with ``p = q = 0`` contributes 0; an event where exactly one of ``p``,
``q`` is 0 makes the value ``+inf`` (one of the two KL terms is infinite). In nats it is the
population stability index (see ``stability``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from app.infotheory._arrays import Float64Array, as_rows, finish
from app.infotheory._rows import pair, weighted_row_sums
from app.infotheory.units import nats_per_unit

__all__ = ["jeffreys_divergence"]

_LOG_TINY = math.log(np.finfo(np.float64).tiny)


def jeffreys_divergence(p: ArrayLike, q: ArrayLike, unit: str = "nats") -> float | Float64Array:
    """Return ``J(p, q) = sum (p - q) log(p / q)`` in ``unit``.

    One vectorised pass computes ``(p - q) log(p / q)``; rows whose sum is not finite (an
    event with one zero, or a ratio that overflows) or that hold a subnormal ratio are
    recomputed term by term with ``log p - log q``, exact about infinities. A float for two
    1-D inputs, one value per row otherwise.
    """
    scale = nats_per_unit(unit)
    pa, qa = pair(p, q)
    prow, qrow = as_rows(pa), as_rows(qa)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        logs = np.divide(prow, qrow)
        np.log(logs, out=logs)
        # a ratio below the smallest normal float64 has lost bits: recompute its row exactly
        subnormal = np.fmin.reduce(logs, axis=-1) < _LOG_TINY
        # log(0 / 0) = NaN where p = q = 0, where the gap is 0: weighted_row_sums counts it as 0
        sums = weighted_row_sums(np.subtract(prow, qrow), logs)
        bad = ~np.isfinite(sums) | subnormal
        if bad.any():
            sums[bad] = _exact_rows(prow[bad], qrow[bad])
    return finish(sums, pa.ndim == 1, scale)


def _exact_rows(p: Float64Array, q: Float64Array) -> Float64Array:
    """Row sums of ``(p - q)(log p - log q)``: ``+inf`` exactly where one of ``p, q`` is 0."""
    both = (p > 0) & (q > 0)
    terms = np.where(both, (p - q) * (np.log(p) - np.log(q)), np.where(p == q, 0.0, np.inf))
    sums: Float64Array = terms.sum(axis=-1)
    return sums

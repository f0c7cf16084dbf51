"""1-D Wasserstein-1 (earth mover's) distance on an ordered support.

With events at strictly increasing ``positions`` ``x_0 < ... < x_{n-1}`` (default
``0, 1, ..., n-1``) and the cumulative sums ``F_p``, ``F_q``::

    W_1(p, q) = sum_{i < n-1} |F_p(i) - F_q(i)| (x_{i+1} - x_i)

the least total mass times distance needed to move ``p`` onto ``q``. A metric, never
infinite, in ``[0, x_{n-1} - x_0]``; it has no unit of information but the units of the
positions, so these kernels take no unit. It equals ``scipy.stats.wasserstein_distance``
with ``u_values = v_values = positions`` and weights ``p``, ``q``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from app.infotheory._arrays import Float64Array, as_rows, finish
from app.infotheory._rows import pair, row_dots

__all__ = ["wasserstein_distance"]


def _gaps(positions: ArrayLike, n: int) -> Float64Array:
    """Return the ``n - 1`` gaps between ``positions``; ``ValueError`` naming them if bad."""
    x = np.asarray(positions, dtype=np.float64)
    if x.shape != (n,):
        raise ValueError(f"positions must be a vector of {n} numbers, got shape {x.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        gaps = np.diff(x)
        span = float(x[-1] - x[0])
    # every gap > 0 and a finite span imply finite positions: a NaN fails the first test,
    # an infinite end the second
    if not (gaps > 0).all():
        if not np.isfinite(x).all():
            raise ValueError("positions must be finite")
        raise ValueError("positions must be strictly increasing")
    if not math.isfinite(span):  # else the bound and the sums overflow
        if not np.isfinite(x).all():
            raise ValueError("positions must be finite")
        raise ValueError("positions must span less than the largest float64")
    return gaps


def wasserstein_distance(
    p: ArrayLike, q: ArrayLike, positions: ArrayLike | None = None
) -> float | Float64Array:
    """Return the Wasserstein-1 distance between ``p`` and ``q`` placed at ``positions``.

    In the units of ``positions``, clamped into ``[0, x_{n-1} - x_0]``: a float for two 1-D
    inputs, one value per row otherwise. Raises ``ValueError`` naming ``positions`` unless
    they are ``n`` finite, strictly increasing numbers.
    """
    pa, qa = pair(p, q)
    n = pa.shape[-1]
    gaps = None if positions is None else _gaps(positions, n)
    cdf_gaps = np.subtract(as_rows(pa), as_rows(qa))
    np.cumsum(cdf_gaps, axis=-1, out=cdf_gaps)
    np.abs(cdf_gaps, out=cdf_gaps)
    heads = cdf_gaps[:, :-1]  # F_p - F_q at the last event is 0 and has no gap after it
    if gaps is None:
        sums: Float64Array = np.add.reduce(heads, axis=-1)
        span = float(n - 1)
    else:
        sums = row_dots(heads, gaps)
        span = float(gaps.sum())
    return finish(sums, pa.ndim == 1, 1.0, high=span)

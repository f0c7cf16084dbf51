"""Self-information and Shannon entropy.

Both take a distribution (1-D) or a batch of distributions (2-D, one per row) of
non-negative float64 probabilities, and return values in the requested unit
(``"bits"``, ``"nats"`` or ``"bans"``). Neither normalises its input nor adds an epsilon.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from app.infotheory._arrays import Float64Array, as_distribution, as_rows, clamp, finish
from app.infotheory._native import SMALL_MAX_EVENTS, small
from app.infotheory._parallel import row_sums_in_chunks
from app.infotheory._sums import SMALLEST, weighted_log_sum
from app.infotheory.units import nats_per_unit

__all__ = ["entropy", "self_information"]


def self_information(p: ArrayLike, unit: str = "nats") -> Float64Array:
    """Return ``I(x) = -log p(x)`` for every event, element-wise.

    Parameters
    ----------
    p : array_like
        Probabilities, 1-D or 2-D.
    unit : {"bits", "nats", "bans"}
        Logarithm base 2, e, or 10.

    Returns
    -------
    ndarray
        Same shape as ``p``. An event of probability 0 carries ``+inf`` information;
        an event of probability 1 carries exactly 0 (never ``-0.0``).
    """
    scale = nats_per_unit(unit)
    arr = as_distribution(p)
    with np.errstate(divide="ignore"):
        info: Float64Array = 0.0 - np.log(arr)
    if scale != 1.0:
        info /= scale
    return info


def entropy(p: ArrayLike, unit: str = "nats") -> float | Float64Array:
    """Return the Shannon entropy ``H(p) = -sum p log p``.

    Parameters
    ----------
    p : array_like
        One distribution (1-D) or one per row (2-D).
    unit : {"bits", "nats", "bans"}

    Returns
    -------
    float or ndarray
        A float for 1-D input, one value per row for 2-D input. Events with ``p = 0``
        contribute exactly 0 (``0 log 0 = 0``). Rounding never takes the result outside
        ``[0, log n]`` for ``n`` events (a sum that exceeds 1 within a caller's tolerance
        can exceed ``log n`` by more than rounding; that is reported as computed).
    """
    scale = nats_per_unit(unit)
    if small is not None and (value := small.entropy(p, SMALL_MAX_EVENTS)) is not None:
        return clamp(_rounded_to_bound(value, len(p)), scale)  # type: ignore[arg-type]
    arr = as_distribution(p)
    rows = as_rows(arr)
    sums = row_sums_in_chunks(_plogp_sums, rows)
    nats = np.negative(sums, out=sums)
    bound = math.log(rows.shape[-1])
    np.copyto(nats, bound, where=(nats > bound) & (nats <= bound * (1 + _ROUNDING)))
    return finish(nats, arr.ndim == 1, scale)


def _plogp_sums(rows: Float64Array) -> Float64Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        # 0 log 0 as 0 * log(SMALLEST) = 0: no NaN to repair (positive p are >= SMALLEST)
        logs = np.maximum(rows, SMALLEST)
        np.log(logs, out=logs)
        return weighted_log_sum(rows, logs)


_ROUNDING = 1e-13  # far above a float sum's rounding error, far below any real excess


def _rounded_to_bound(nats: float, n: int) -> float:
    """``log n`` for a value above it by rounding only; the value itself otherwise."""
    bound = math.log(n)
    return bound if bound < nats <= bound * (1 + _ROUNDING) else nats

"""Row sums of ``x log y`` terms under the convention ``0 log 0 = 0`` (private).

The kernels compute their terms in one vectorised pass, in place, so that a large input
costs one temporary buffer, and call :func:`row_sums` on the result.
"""

from __future__ import annotations

import numpy as np

from app.infotheory._arrays import Float64Array

__all__ = ["SMALLEST", "row_sums", "weighted_log_sum"]

# The smallest positive float64 (a subnormal). Raising a zero to it before the logarithm makes
# ``0 * log 0`` the finite ``0 * -744.4 = 0`` instead of ``0 * -inf = NaN``, so that the
# plain (fast) sum needs no NaN repair; a positive input is never below it, so nothing else
# changes.
SMALLEST = float(np.nextafter(0.0, 1.0))

# Small arrays: one masked reduction (``x == x`` is false only for NaN) costs less than a
# sum, a NaN test and a second sum. Large arrays: a plain sum is several times faster than a
# masked one, so NaN terms are zeroed in place only when a row sum shows there are some.
_MASKED_SUM_MAX_SIZE = 4096


def row_sums(terms: Float64Array) -> Float64Array:
    """Return the sums over the last axis of ``terms``, NaN terms counted as 0.

    In IEEE arithmetic a zero weight times ``log 0 = -inf`` (or times a NaN from ``0 / 0``)
    is NaN. With finite, non-negative weights those are the only NaN terms the kernels make,
    so a NaN term is exactly a zero-weight term, whose value is 0 (the limit of
    ``x log x`` as ``x -> 0``). ``terms`` is overwritten when any sum is NaN.
    """
    if terms.size <= _MASKED_SUM_MAX_SIZE:
        masked: Float64Array = np.add.reduce(terms, axis=-1, where=terms == terms)
        return masked
    sums: Float64Array = np.add.reduce(terms, axis=-1)
    if sums.size == 1 and sums[0] == sums[0]:  # one row, not NaN: no numpy call to ask
        return sums
    if np.isnan(sums).any():
        np.copyto(terms, 0.0, where=np.isnan(terms))
        sums = np.add.reduce(terms, axis=-1)
    return sums


def weighted_log_sum(weights: Float64Array, logs: Float64Array) -> Float64Array:
    """Return the row sums of ``weights * logs`` (``logs`` is overwritten)."""
    np.multiply(logs, weights, out=logs)
    return row_sums(logs)

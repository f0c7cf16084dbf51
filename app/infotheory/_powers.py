"""Logarithms of power sums ``log sum p^a q^(1-a)`` for the Rényi and Tsallis kernels (private).

Rényi and Tsallis quantities of order ``a`` are functions of one power sum over the events
with ``p > 0`` (``q`` is 1 for the entropies)::

    S_a = sum p^a q^(1-a) = sum p exp((a - 1) log(p / q))

Near ``a = 1`` the quantities divide ``log S_a`` (or ``S_a - 1``) by ``a - 1``, and for a
divergence between nearly equal distributions ``S_a`` is near 1 whatever ``a``: computing
``S_a`` itself would lose the digits that matter. So the divergences, and the entropies near
``a = 1``, compute ``u = S_a - 1 = sum p expm1((a - 1) log(p / q))`` and ``log S_a =
log1p(u)``, exact to a few ulps whenever ``u >= -1/2``. Two orders have cheaper exact forms
for distributions: ``S_2 - 1 = sum (p - q)^2 / q`` (Pearson's chi-square) and
``S_1/2 - 1 = -1/2 sum (sqrt p - sqrt q)^2`` (minus the squared Hellinger distance). Rows
where none of this holds (``S_a`` small, or overflowing) are recomputed by a shifted
log-sum-exp that cannot overflow for any finite ``a``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from app.infotheory._arrays import Float64Array
from app.infotheory._rows import chi_square_sums, row_dots, weighted_row_sums

__all__ = ["log_power_sums"]

BoolArray = NDArray[np.bool_]

# Entropies farther than this from order 1 sum p^a directly: the error of log(S) / (1 - a)
# is then at most about 1e3 ulps of 1 in absolute terms.
_NEAR_ONE = 1e-3
# A direct sum below this may have lost terms to underflow: recompute it shifted.
_SMALLEST_SAFE_SUM = 1e-280


def log_power_sums(p: Float64Array, q: Float64Array | None, order: float) -> Float64Array:
    """Row values of ``log sum_{p > 0} p^a q^(1-a)`` for rows ``p``, ``q`` (2-D), ``a = order``.

    ``order`` is finite, positive and not 1. ``q = None`` means ``q = 1`` (the entropies).
    A term with ``p > 0 = q`` is ``+inf`` for ``a > 1`` and 0 for ``a < 1``; terms with
    ``p = 0`` are 0. The result is ``-inf`` when every term is 0 (disjoint supports).
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        if q is None and abs(order - 1.0) >= _NEAR_ONE:
            sums = _entropy_power_sums(p, order)
            logs: Float64Array = np.log(sums)
            return _redo(logs, sums, _SMALLEST_SAFE_SUM, p, q, order)
        excess = _excess_power_sums(p, q, order)
        logs = np.log1p(excess)
        return _redo(logs, excess, -0.5, p, q, order)


def _entropy_power_sums(p: Float64Array, order: float) -> Float64Array:
    """Row sums of ``p^a`` (``0^a = 0``), directly."""
    if order == 2.0:
        return row_dots(p, p)
    terms = np.log(p)
    terms *= order - 1.0
    np.exp(terms, out=terms)
    return weighted_row_sums(p, terms)  # p exp((a-1) log p); 0 * inf only where p = 0


def _excess_power_sums(p: Float64Array, q: Float64Array | None, order: float) -> Float64Array:
    """Row values of ``S_a - 1``, exact near 0 (for distributions ``p``, ``q``)."""
    if q is not None and order == 2.0:  # sum (p - q)^2 / q
        return chi_square_sums(p, q, q)
    if q is not None and order == 0.5:  # -1/2 sum (sqrt p - sqrt q)^2
        roots = np.sqrt(p)
        roots -= np.sqrt(q)
        excess = row_dots(roots, roots)
        excess *= -0.5
        return excess
    terms = np.log(p) if q is None else np.divide(p, q)
    if q is not None:
        np.log(terms, out=terms)
        if not np.isfinite(terms).all():
            # p / q overflows for a subnormal q: the logarithm of the ratio is still finite
            fix = np.isinf(terms) & (q > 0)
            terms[fix] = np.log(p[fix]) - np.log(q[fix])
    terms *= order - 1.0
    np.expm1(terms, out=terms)
    return weighted_row_sums(p, terms)  # p expm1(...); 0 * inf only where p = 0


def _redo(
    logs: Float64Array,
    values: Float64Array,
    low: float,
    p: Float64Array,
    q: Float64Array | None,
    order: float,
) -> Float64Array:
    """Recompute, shifted, the rows whose ``values`` are not in ``[low, inf)`` (NaN included)."""
    if values.shape[0] == 1:  # one distribution: a float test costs less than array ones
        if low <= float(values[0]) < math.inf:
            return logs
        redo: BoolArray = np.ones(1, dtype=np.bool_)
    else:
        redo = ~((values >= low) & (values < math.inf))
        if not redo.any():
            return logs
    logs[redo] = _shifted_log_sums(p[redo], None if q is None else q[redo], order)
    return logs


def _shifted_log_sums(p: Float64Array, q: Float64Array | None, order: float) -> Float64Array:
    """``log S_a`` as ``c ext(y) + log sum exp(c (y - ext(y)))``, ``y = log p / c + log(p/q)``.

    With ``c = a - 1`` and ``ext`` the maximum of ``y`` for ``c > 0`` (the minimum for
    ``c < 0``), every exponent is ``<= 0`` and the largest is 0, so nothing overflows.
    """
    c = order - 1.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        logp = np.log(p)
        ratio = logp if q is None else logp - np.log(q)  # +inf where p > 0 = q
        y = np.where(p > 0, logp / c + ratio, np.inf if c < 0 else -np.inf)
        ext = (y.max(axis=-1) if c > 0 else y.min(axis=-1))[:, None]
        shifted = np.exp(c * (y - ext))
        shifted[~np.isfinite(shifted)] = 0.0  # only rows whose ext is infinite
        logs: Float64Array = c * ext[:, 0] + np.log(shifted.sum(axis=-1))
    # ext = +inf: some p > 0 = q. It makes S_a infinite for a > 1 and, for a < 1, means
    # every term is 0 (disjoint supports); c * ext is then +inf and -inf respectively.
    infinite = np.isinf(ext[:, 0])
    logs[infinite] = c * ext[infinite, 0]
    return logs

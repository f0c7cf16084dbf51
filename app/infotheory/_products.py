"""Matrix-product forms of the pairwise measures (private to :mod:`app.infotheory.matrix`).

Where a measure is a sum over events of a product ``f(p) g(q)``, its matrix for all pairs of
rows is ``f(P) @ g(Q)^T``, one BLAS call:

- cross-entropy ``-P @ log(Q)^T``, and KL as cross-entropy less the entropy of each row of P;
- Bhattacharyya ``sqrt(P) @ sqrt(Q)^T``, and Hellinger ``sqrt(1 - BC)`` from it;
- Pearson chi-square ``(P * P) @ (1 / Q)^T - 2 sum p + sum q``.

A product cannot carry ``0 * -inf``: ``log 0`` and ``1 / 0`` are replaced by 0 and the
infinite pairs (some event with ``p > 0 = q``) are marked from a second product of masks.
Each kernel's ``rows(p, start, own)`` returns raw values (nats, or unitless; unclamped) of
every row of ``p`` against the rows ``q[start:]`` (:class:`app.infotheory._blocks.RowKernel`);
pairs whose value came from cancellation are recomputed from their events
(:func:`app.infotheory._blocks.refine`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from app.infotheory._arrays import Float64Array
from app.infotheory._blocks import CANCELLATION, refine
from app.infotheory.divergence import kl_divergence
from app.infotheory.entropy import entropy

__all__ = ["BhattacharyyaProduct", "ChiSquareProduct", "CrossEntropyProduct"]

# 1 / q overflows float64 below this (subnormal q): such events are summed pair by pair.
_SMALLEST_INVERTIBLE = 1.0 / np.finfo(np.float64).max


class _Columns:
    """Pairs with ``p > 0`` at some event where a mask over ``q`` holds, as one product.

    The counts are sums of zeros and ones, so any hit is at least 1 whatever the rounding,
    and float32 (twice BLAS's float64 speed) decides ``count > 0`` exactly."""

    def __init__(self, mask: NDArray[np.bool_]) -> None:
        self.columns = np.flatnonzero(mask.any(axis=0))
        self.hits_q = mask[:, self.columns].astype(np.float32)

    def hits(self, p: Float64Array, start: int) -> NDArray[np.bool_] | None:
        if not self.columns.size:
            return None
        mass = p[:, self.columns] > 0.0
        if not mass.any():
            return None
        counts = mass.astype(np.float32) @ self.hits_q[start:].T
        hit: NDArray[np.bool_] = counts > 0.0
        return hit


def _mark_infinite(values: Float64Array, zeros: _Columns, p: Float64Array, start: int) -> None:
    if (hit := zeros.hits(p, start)) is not None:
        values[hit] = np.inf


def _array(values: float | Float64Array) -> Float64Array:
    assert isinstance(values, np.ndarray)  # the kernels return one value per row for 2-D
    return values


def _kl_pairs(p: Float64Array, q: Float64Array) -> Float64Array:
    return _array(kl_divergence(p, q))


class CrossEntropyProduct:
    """Cross-entropy ``-P @ log(Q)^T``; with ``kl``, KL as that less ``H(P_i)``."""

    def __init__(self, q: Float64Array, budget: int, kl: bool) -> None:
        self.q, self.budget, self.kl = q, budget, kl
        self.log_q = np.log(q, out=np.zeros_like(q), where=q > 0.0)
        self.zeros = _Columns(q == 0.0)

    def rows(self, p: Float64Array, start: int = 0, own: int | None = None) -> Float64Array:
        values = p @ self.log_q[start:].T
        np.negative(values, out=values)  # every term -p log q is >= 0: nothing cancels
        if self.kl:
            h = _array(entropy(p))[:, None]
            near = values < h / (1.0 - CANCELLATION)  # KL = H(p, q) - H(p) < C H(p, q)
            values -= h
            refine(values, near, p, self.q[start:], _kl_pairs, self.budget, own)
        _mark_infinite(values, self.zeros, p, start)
        return values


def _half_squared_distance(root_p: Float64Array, root_q: Float64Array) -> Float64Array:
    """``sum (sqrt p - sqrt q)^2 / 2``, which is ``1 - BC`` for distributions, without the
    cancellation of ``1 - BC``."""
    diff = root_p - root_q
    squares: Float64Array = np.einsum("ij,ij->i", diff, diff)
    squares *= 0.5
    return squares


class BhattacharyyaProduct:
    """Bhattacharyya coefficient ``sqrt(P) @ sqrt(Q)^T``; with ``hellinger``, ``1 - BC``
    (the squared Hellinger distance)."""

    def __init__(self, q: Float64Array, budget: int, hellinger: bool) -> None:
        self.root_q, self.budget, self.hellinger = np.sqrt(q), budget, hellinger

    def rows(self, p: Float64Array, start: int = 0, own: int | None = None) -> Float64Array:
        whole_self = own == 0 and start == 0 and p.shape == self.root_q.shape
        # sqrt(P) @ sqrt(P)^T of one buffer is BLAS's syrk: half the work, exactly symmetric
        root_p = self.root_q if whole_self else np.sqrt(p)
        values = root_p @ self.root_q[start:].T
        if self.hellinger:
            np.subtract(1.0, values, out=values)
            near = values < CANCELLATION
            q = self.root_q[start:]
            refine(values, near, root_p, q, _half_squared_distance, self.budget, own)
        return values


def _chi_square_pairs(p: Float64Array, q: Float64Array) -> Float64Array:
    """``sum (p - q)^2 / q`` over events with ``q > 0`` (the caller marks ``p > 0 = q``)."""
    squares = np.square(p - q)
    with np.errstate(over="ignore"):  # a subnormal q under mass: honestly +inf
        np.divide(squares, q, out=squares, where=q > 0.0)
    squares[q == 0.0] = 0.0
    sums: Float64Array = squares.sum(axis=1)
    return sums


class ChiSquareProduct:
    """Pearson chi-square ``sum (p - q)^2 / q = P^2 @ (1/Q)^T - 2 sum p + sum q``; an event
    with ``p = q = 0`` contributes 0, one with ``p > 0 = q`` makes the value ``+inf``."""

    def __init__(self, q: Float64Array, budget: int) -> None:
        self.q, self.budget = q, budget
        invertible = q >= _SMALLEST_INVERTIBLE
        self.inv_q = np.divide(1.0, q, out=np.zeros_like(q), where=invertible)
        self.q_mass = q.sum(axis=1)
        self.zeros = _Columns(q == 0.0)
        self.tiny = _Columns(~invertible & (q > 0.0))

    def rows(self, p: Float64Array, start: int = 0, own: int | None = None) -> Float64Array:
        ratios = np.square(p) @ self.inv_q[start:].T
        p_mass = 2.0 * p.sum(axis=1)
        values: Float64Array = ratios - p_mass[:, None]
        values += self.q_mass[start:]
        magnitude = ratios + np.add.outer(p_mass, self.q_mass[start:])
        near = values < CANCELLATION * magnitude
        if (tiny := self.tiny.hits(p, start)) is not None:
            near |= tiny
        refine(values, near, p, self.q[start:], _chi_square_pairs, self.budget, own)
        _mark_infinite(values, self.zeros, p, start)
        return values

"""Block-by-block work for the pairwise matrices (private to :mod:`app.infotheory.matrix`).

Jensen-Shannon and total variation have no matrix-product form: each pair needs its own pass
over the events. They are computed in tiles of ``rows of P x rows of Q x events``, small
enough to stay in cache and vectorised inside. The helpers here also recompute the pairs that
a product form gets by cancellation (:func:`refine`) and pick the nearest rows of a block
without sorting it (:func:`smallest`).

A row kernel holds the prepared rows of Q; ``rows(p, start, own)`` returns the raw values
(nats, or unitless; unclamped) of every row of ``p`` against ``q[start:]``. In a self-matrix
``own`` says where ``p`` sits in ``q[start:]`` (``p[r]`` is row ``own + r``): those pairs
are the diagonal, which the caller sets, so they are not refined.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from app.infotheory._arrays import Float64Array
from app.infotheory.entropy import entropy
from app.infotheory.jensen_shannon import js_divergence

__all__ = [
    "CANCELLATION",
    "TILE_BYTES",
    "JensenShannonTiles",
    "RowKernel",
    "TotalVariationTiles",
    "refine",
    "smallest",
    "tiles",
]

# A tile's temporaries stay in a core's cache (2 MiB of L2 on the machines measured), where
# a tile of 1 MiB runs about twice as fast per pair as one of 16 MiB.
TILE_BYTES = 1 << 20

# A value computed as a difference of sums this many times larger than itself has lost about
# three digits to rounding; such pairs are recomputed from their events (:func:`refine`).
CANCELLATION = 1e-3

_LN2 = math.log(2.0)
# log of the smallest subnormal. Where p = q = 0, log(p + q) = -inf is replaced by it, so the
# term (p + q) log(p + q) is 0 * finite = 0 exactly rather than the NaN of 0 * -inf; for any
# p + q > 0 the logarithm is already at least this, so nothing else changes.
_LOG_TINY = math.log(math.ulp(0.0))

RowPairs = Callable[[Float64Array, Float64Array], Float64Array]


class RowKernel(Protocol):
    def rows(self, p: Float64Array, start: int = 0, own: int | None = None) -> Float64Array:
        """Raw values of every row of ``p`` against ``q[start:]``."""


def tiles(rows: int, cols: int, n: int, budget: int) -> tuple[int, int]:
    """Rows of P and of Q per tile so that a ``rows x cols x n`` float64 tile fits budget."""
    pairs = max(1, budget // (8 * n))
    per_row = max(1, min(cols, pairs))
    return max(1, min(rows, pairs // per_row)), per_row


def _tile(buffer: Float64Array, shape: tuple[int, int, int]) -> Float64Array:
    return buffer[: math.prod(shape)].reshape(shape)


def _entropies(rows: Float64Array) -> Float64Array:
    values = entropy(rows)
    assert isinstance(values, np.ndarray)  # 2-D in, one value per row out
    return values


def _js_pairs(p: Float64Array, q: Float64Array) -> Float64Array:
    values = js_divergence(p, q)
    assert isinstance(values, np.ndarray)
    return values


class JensenShannonTiles:
    """JS in nats. With ``s = p + q``, ``JS = (ln 2 (sum p + sum q) + sum p log p
    + sum q log q - sum s log s) / 2``: the entropies are computed once per row, and a tile
    costs one ``log`` per event where the pair kernel needs two divisions and two logs.
    """

    def __init__(self, q: Float64Array, budget: int) -> None:
        self.q, self.budget = q, budget
        self.q_mass, self.q_plogp = q.sum(axis=1), -_entropies(q)

    def rows(self, p: Float64Array, start: int = 0, own: int | None = None) -> Float64Array:
        q = self.q[start:]
        base = _LN2 * np.add.outer(p.sum(axis=1), self.q_mass[start:])
        plogp = np.add.outer(-_entropies(p), self.q_plogp[start:])
        js: Float64Array = base + plogp
        js -= _sum_s_log_s(p, q, self.budget)
        js *= 0.5
        refine(js, js < CANCELLATION * (base - plogp), p, q, _js_pairs, self.budget, own)
        return js


def _sum_s_log_s(p: Float64Array, q: Float64Array, budget: int) -> Float64Array:
    """``sum s log s`` with ``s = p[i] + q[j]`` for every pair, tile by tile."""
    live = (p != 0.0).any(axis=0) | (q != 0.0).any(axis=0)
    if not live.all():  # events that are 0 in every row contribute nothing: drop them
        p, q = np.ascontiguousarray(p[:, live]), np.ascontiguousarray(q[:, live])
    (m, n), k = p.shape, q.shape[0]
    bi, bj = tiles(m, k, n, budget)
    s_buffer, log_buffer = np.empty(bi * bj * n), np.empty(bi * bj * n)
    sums = np.empty((m, k))
    p_zero, q_zero = p == 0.0, q == 0.0
    q_zero_cols = [q_zero[j : j + bj].any(axis=0) for j in range(0, k, bj)] if q_zero.any() else []
    for i in range(0, m, bi):
        pb = p[i : i + bi]
        p_zero_cols = p_zero[i : i + bi].any(axis=0)
        for tile, j in enumerate(range(0, k, bj)):
            qb = q[j : j + bj]
            shape = (pb.shape[0], qb.shape[0], n)
            s = np.add(pb[:, None, :], qb[None, :, :], out=_tile(s_buffer, shape))
            with np.errstate(divide="ignore"):  # log 0 = -inf, mended below
                logs = np.log(s, out=_tile(log_buffer, shape))
            if q_zero_cols:
                _mend(logs, np.flatnonzero(p_zero_cols & q_zero_cols[tile]))
            np.vecdot(s, logs, out=sums[i : i + bi, j : j + bj])
    return sums


def _mend(logs: Float64Array, both_zero: NDArray[np.intp]) -> None:
    """Raise ``log 0 = -inf`` to :data:`_LOG_TINY` at the events zero on both sides."""
    if both_zero.size * 64 > logs.shape[-1]:  # one pass over the tile
        np.maximum(logs, _LOG_TINY, out=logs)
        return
    for c in both_zero:  # a few columns: mend those alone
        np.maximum(logs[..., c], _LOG_TINY, out=logs[..., c])


class TotalVariationTiles:
    """Total variation ``sum |p - q| / 2``: a sum of non-negative terms, nothing cancels."""

    def __init__(self, q: Float64Array, budget: int) -> None:
        self.q, self.budget = q, budget

    def rows(self, p: Float64Array, start: int = 0, own: int | None = None) -> Float64Array:
        q, n = self.q[start:], p.shape[1]
        bi, bj = tiles(p.shape[0], q.shape[0], n, self.budget)
        buffer = np.empty(bi * bj * n)
        tv = np.empty((p.shape[0], q.shape[0]))
        for i in range(0, p.shape[0], bi):
            pb = p[i : i + bi]
            for j in range(0, q.shape[0], bj):
                qb = q[j : j + bj]
                shape = (pb.shape[0], qb.shape[0], n)
                diff = np.subtract(pb[:, None, :], qb[None, :, :], out=_tile(buffer, shape))
                np.abs(diff, out=diff)
                np.add.reduce(diff, axis=-1, out=tv[i : i + bi, j : j + bj])
        tv *= 0.5
        return tv


def refine(
    values: Float64Array,
    near: NDArray[np.bool_],
    p: Float64Array,
    q: Float64Array,
    pairs: RowPairs,
    budget: int,
    own: int | None = None,
) -> None:
    """Recompute ``values[i, j]`` as ``pairs(p[i], q[j])`` where ``near[i, j]``, in chunks.

    A product form gets a small value as the difference of two large sums and loses digits
    where two rows are close. Such pairs are few unless rows nearly repeat, and the pair
    kernels compute them from their events. The diagonal of a self-matrix (``own``) is left.
    """
    if own is not None:
        diagonal = np.arange(near.shape[0])
        near[diagonal, diagonal + own] = False
    if not near.any():
        return
    rows, cols = np.nonzero(near)
    chunk = max(1, budget // (16 * p.shape[1]))
    for start in range(0, rows.size, chunk):
        i, j = rows[start : start + chunk], cols[start : start + chunk]
        values[i, j] = pairs(p[i], q[j])


def smallest(keys: Float64Array, k: int) -> NDArray[np.intp]:
    """Column indices of the ``k`` smallest keys of every row, ordered by (key, index).

    ``np.partition`` finds each row's k-th key; every smaller key is taken, then keys equal
    to it by increasing column until there are ``k``. So ties go to the lower index, ``+inf``
    comes last, and only the chosen ``k`` per row are sorted.
    """
    rows, cols = keys.shape
    if k < cols:
        kth = np.partition(keys, k - 1, axis=1)[:, k - 1 : k]
        chosen = keys < kth
        tied = keys == kth
        room = k - np.count_nonzero(chosen, axis=1, keepdims=True)
        chosen |= tied & (np.cumsum(tied, axis=1) <= room)
        picked = np.nonzero(chosen)[1].reshape(rows, k)
    else:
        picked = np.broadcast_to(np.arange(cols), (rows, cols))
    order = np.argsort(np.take_along_axis(keys, picked, axis=1), axis=1, kind="stable")
    nearest: NDArray[np.intp] = np.take_along_axis(picked, order, axis=1)
    return nearest

"""Fast paths shared by the family kernels (private).

``pair`` skips the general coercion when both inputs are already float64 arrays of one
shape, the common case once the service has validated them. ``row_dots`` sums ``a * b``
along rows in one fused pass (``np.vecdot``, several times faster than a product followed by
a sum). ``weighted_row_sums`` adds ``0 * anything = 0``: a term with ``w = 0`` is 0 even
where ``x`` is infinite or NaN (``0 log 0``, ``0 / 0``), as every kernel's convention
requires. ``chi_square_sums`` is the one chi-square loop, shared with the Rényi and Tsallis
kernels of order 2.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import ArrayLike

from app.infotheory._arrays import Float64Array, as_pair
from app.infotheory._sums import row_sums

__all__ = ["chi_square_sums", "pair", "row_dots", "weighted_row_sums"]

# np.vecdot calls BLAS ddot, which OpenBLAS runs on several threads above 10,000 elements;
# on a busy machine that costs up to 1000x the single-threaded time (measured: 1.4 us for
# 10,000 elements, 16 ms for 10,001 on 2 shared cores), and the spinning threads slow what
# runs next. Longer rows are summed in blocks of _BLOCK, one single-threaded call each.
_SINGLE_THREADED_MAX = 10_000
_BLOCK = 8192


def pair(p: ArrayLike, q: ArrayLike) -> tuple[Float64Array, Float64Array]:
    """Return ``as_pair(p, q)``, without its checks for two float64 arrays of one shape."""
    if (
        type(p) is np.ndarray
        and type(q) is np.ndarray
        and p.dtype == np.float64
        and q.dtype == np.float64
        and p.shape == q.shape
        and 1 <= p.ndim <= 2
        and p.shape[-1] > 0
    ):
        return p, q
    return as_pair(p, q)


def row_dots(a: Float64Array, b: Float64Array) -> Float64Array:
    """Return the sums over the last axis of ``a * b`` (2-D rows, or broadcastable to them)."""
    n = a.shape[-1]
    if n <= _SINGLE_THREADED_MAX:
        short: Float64Array = np.vecdot(a, b)
        return short
    blocks, whole = n // _BLOCK, n // _BLOCK * _BLOCK
    sums: Float64Array = np.vecdot(_blocked(a, blocks), _blocked(b, blocks)).sum(axis=-1)
    if whole < n:
        sums += np.vecdot(a[..., whole:], b[..., whole:])
    return sums


def _blocked(x: Float64Array, blocks: int) -> Float64Array:
    """A read-only ``(rows, blocks, _BLOCK)`` view of the first ``blocks * _BLOCK`` columns."""
    rows = x.reshape(1, -1) if x.ndim == 1 else x
    shape = (rows.shape[0], blocks, _BLOCK)
    strides = (rows.strides[0], _BLOCK * rows.strides[1], rows.strides[1])
    if rows.flags.c_contiguous:  # the direct constructor costs a tenth of as_strided
        return np.ndarray(shape, np.float64, rows, 0, strides)
    view: Float64Array = as_strided(rows, shape=shape, strides=strides, writeable=False)
    return view


def chi_square_sums(p: Float64Array, q: Float64Array, denominator: Float64Array) -> Float64Array:
    """Return the row sums of ``(p - q)^2 / denominator``, ``0 / 0`` counted as 0.

    One buffer, updated in place: at a million events, a second buffer for a fused
    product-sum costs more in memory traffic than the extra pass it saves.
    """
    terms = np.subtract(p, q)
    terms *= terms
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        terms /= denominator  # x / 0 = +inf where x > 0; 0 / 0 = NaN where p = q = 0
        # a difference so small that its square underflows to 0 is still no 0 / 0: a zero
        # denominator under p != q makes the term infinite
        lost = np.isnan(terms)
        if lost.any():
            terms[lost & (p != q)] = np.inf
        return row_sums(terms)


def weighted_row_sums(w: Float64Array, x: Float64Array) -> Float64Array:
    """Return the sums over the last axis of ``w * x``, terms with ``w = 0`` counted as 0.

    ``w`` is finite. A NaN sum can only come from a zero weight meeting an infinite or NaN
    ``x``; such rows are summed again with those terms removed (``x`` is not modified).
    """
    sums = row_dots(w, x)
    if sums.shape[0] == 1 and sums[0] == sums[0]:  # one row, not NaN: skip the array tests
        return sums
    nan = np.isnan(sums)
    if nan.any():
        rows_w, rows_x = w[nan], x[nan]
        np.copyto(rows_x, 0.0, where=rows_w == 0)
        sums[nan] = row_dots(rows_w, rows_x)
    return sums

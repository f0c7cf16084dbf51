"""Shared input coercion for the kernels (private)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Float64Array", "as_distribution", "as_pair", "as_rows", "clamp", "finish"]

Float64Array = NDArray[np.float64]


def as_distribution(p: ArrayLike, name: str = "p") -> Float64Array:
    """Return ``p`` as a 1-D or 2-D float64 array (rows are distributions)."""
    arr = np.asarray(p, dtype=np.float64)
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D or 2-D, got {arr.ndim}-D")
    if arr.shape[-1] == 0:
        raise ValueError(f"{name} must not be empty")
    return arr


def as_pair(p: ArrayLike, q: ArrayLike) -> tuple[Float64Array, Float64Array]:
    """Return ``p`` and ``q`` as float64 arrays broadcast to one shape."""
    pa, qa = as_distribution(p, "p"), as_distribution(q, "q")
    if pa.shape[-1] != qa.shape[-1]:
        raise ValueError(f"p and q differ in length: {pa.shape[-1]} != {qa.shape[-1]}")
    if pa.ndim == 2 and qa.ndim == 2 and pa.shape[0] != qa.shape[0]:
        raise ValueError(f"p and q differ in rows: {pa.shape[0]} != {qa.shape[0]}")
    if pa.shape != qa.shape:
        pa, qa = np.broadcast_arrays(pa, qa)
    return pa, qa


def as_rows(arr: Float64Array) -> Float64Array:
    """Return a 2-D view of ``arr``: a 1-D array becomes one row."""
    return arr.reshape(1, -1) if arr.ndim == 1 else arr


def clamp(nats: float, scale: float, high: float = math.inf) -> float:
    """Clamp one value in nats to ``[0, high]`` (``+0.0``, never ``-0.0``) and convert it."""
    return min(max(0.0, nats), high) / scale


def finish(
    nats: Float64Array, one_d: bool, scale: float, high: float = math.inf
) -> float | Float64Array:
    """Clamp row values in nats to ``[0, high]``, convert them to the unit, and unwrap.

    ``scale`` is nats per unit. Returns a Python float when the input was one distribution
    (1-D), the array of row values otherwise.
    """
    if one_d:
        return clamp(float(nats[0]), scale, high)
    np.maximum(nats, 0.0, out=nats)
    nats += 0.0  # -0.0 + 0.0 is +0.0: never print "-0.0"
    if high != math.inf:
        np.minimum(nats, high, out=nats)
    if scale != 1.0:
        nats /= scale
    return nats

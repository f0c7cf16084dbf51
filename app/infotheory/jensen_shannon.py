"""Jensen-Shannon divergence and distance.

With ``m = (p + q) / 2``, ``JS(p, q) = (D(p || m) + D(q || m)) / 2``. It is symmetric, always
finite, and bounded by ``ln 2`` nats (1 bit); its square root is a metric.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from app.infotheory._arrays import Float64Array, as_pair, as_rows, clamp, finish
from app.infotheory._native import SMALL_MAX_EVENTS, small
from app.infotheory._parallel import row_sums_in_chunks
from app.infotheory._sums import row_sums
from app.infotheory.units import nats_per_unit

__all__ = ["js_distance", "js_divergence"]

_LN2 = math.log(2.0)


def _js(p: ArrayLike, q: ArrayLike, scale: float) -> float | Float64Array:
    """JS in the unit of ``scale``, clamped to ``[0, ln 2]`` nats."""
    if small is not None and (value := small.js(p, q, SMALL_MAX_EVENTS)) is not None:
        return clamp(value, scale, high=_LN2)
    js, one_d = _js_nats(p, q)
    return finish(js, one_d, scale, high=_LN2)


def _js_nats(p: ArrayLike, q: ArrayLike) -> tuple[Float64Array, bool]:
    """Row values of JS in nats, unclamped, and whether the inputs were one pair."""
    pa, qa = as_pair(p, q)
    return row_sums_in_chunks(_js_sums, as_rows(pa), as_rows(qa)), pa.ndim == 1


def _js_sums(prow: Float64Array, qrow: Float64Array) -> Float64Array:
    mid = np.add(prow, qrow)
    mid *= 0.5
    terms = np.empty((2, *prow.shape))
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(prow, mid, out=terms[0])
        np.divide(qrow, mid, out=terms[1])
        np.log(terms, out=terms)
        terms[0] *= prow
        terms[1] *= qrow
        halves = row_sums(terms)
    js: Float64Array = halves[0]
    js += halves[1]
    js *= 0.5
    return js


def js_divergence(p: ArrayLike, q: ArrayLike, unit: str = "nats") -> float | Float64Array:
    """Return the Jensen-Shannon divergence in ``unit``.

    Events where both ``p`` and ``q`` are 0 contribute 0. Rounding is clamped so that the
    result always lies in ``[0, ln 2]`` nats; it is never NaN.
    """
    return _js(p, q, nats_per_unit(unit))


def js_distance(p: ArrayLike, q: ArrayLike, unit: str = "nats") -> float | Float64Array:
    """Return the Jensen-Shannon distance, the square root of :func:`js_divergence`.

    Because the divergence is clamped at 0 first, the distance is never NaN (unlike
    ``scipy.spatial.distance.jensenshannon`` for nearly equal inputs).
    """
    value = _js(p, q, nats_per_unit(unit))
    return math.sqrt(value) if isinstance(value, float) else np.sqrt(value, out=value)

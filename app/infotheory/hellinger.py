"""Hellinger distance and the Bhattacharyya coefficient and distance.

All three measure the overlap of ``sqrt(p)`` and ``sqrt(q)``::

    BC(p, q) = sum sqrt(p q)                      in [0, 1], unitless
    H(p, q)  = sqrt(1 - BC) = sqrt(1/2 sum (sqrt p - sqrt q)^2)   in [0, 1], unitless
    D_B(p, q) = -log BC                           in [0, inf], in a unit

Convention: this Hellinger distance is normalised to ``[0, 1]`` (dit, Wikipedia); some
authors use ``sqrt(2)`` times it, ``sqrt(sum (sqrt p - sqrt q)^2)``, in ``[0, sqrt 2]``.
``H^2 = 1 - BC`` for distributions; the kernel sums squared differences rather than
subtracting ``BC`` from 1, so that nearly equal inputs keep their digits and identical ones
give exactly 0. ``D_B`` is ``+inf`` exactly when the supports are disjoint (``BC = 0``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from app.infotheory._arrays import Float64Array, as_rows, clamp, finish
from app.infotheory._rows import pair, row_dots
from app.infotheory.units import nats_per_unit

__all__ = ["bhattacharyya_coefficient", "bhattacharyya_distance", "hellinger_distance"]


def _coefficients(p: ArrayLike, q: ArrayLike) -> tuple[Float64Array, bool]:
    """Row values of ``sum sqrt(p q)``, and whether the inputs were one pair."""
    pa, qa = pair(p, q)
    products = np.multiply(as_rows(pa), as_rows(qa))
    np.sqrt(products, out=products)
    sums: Float64Array = np.add.reduce(products, axis=-1)
    return sums, pa.ndim == 1


def bhattacharyya_coefficient(p: ArrayLike, q: ArrayLike) -> float | Float64Array:
    """Return the Bhattacharyya coefficient ``BC = sum sqrt(p q)``, clamped into ``[0, 1]``.

    Unitless; 1 for identical distributions, 0 for disjoint supports. A float for two 1-D
    inputs, one value per row otherwise.
    """
    sums, one_d = _coefficients(p, q)
    return finish(sums, one_d, 1.0, high=1.0)


def bhattacharyya_distance(p: ArrayLike, q: ArrayLike, unit: str = "nats") -> float | Float64Array:
    """Return the Bhattacharyya distance ``D_B = -log sum sqrt(p q)`` in ``unit``.

    ``0 <= D_B <= +inf``; ``+inf`` exactly when no event has both ``p > 0`` and ``q > 0``.
    Symmetric, but not a metric (no triangle inequality). A float for two 1-D inputs, one
    value per row otherwise.
    """
    scale = nats_per_unit(unit)
    sums, one_d = _coefficients(p, q)
    if one_d:
        bc = float(sums[0])
        return clamp(-math.log(bc) if bc > 0.0 else math.inf, scale)
    with np.errstate(divide="ignore"):
        nats = np.log(sums, out=sums)
    return finish(np.negative(nats, out=nats), one_d, scale)


def hellinger_distance(p: ArrayLike, q: ArrayLike) -> float | Float64Array:
    """Return the Hellinger distance ``H = sqrt(1/2 sum (sqrt p - sqrt q)^2)`` in ``[0, 1]``.

    Equal to ``sqrt(1 - BC)`` for distributions; unitless; a metric. 0 for identical inputs,
    1 for disjoint supports. A float for two 1-D inputs, one value per row otherwise.
    """
    pa, qa = pair(p, q)
    gaps = np.sqrt(as_rows(pa))
    gaps -= np.sqrt(as_rows(qa))
    halves = row_dots(gaps, gaps)
    halves *= 0.5
    if pa.ndim == 1:
        return math.sqrt(min(max(0.0, float(halves[0])), 1.0))
    return np.sqrt(finish(halves, False, 1.0, high=1.0))

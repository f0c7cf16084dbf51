"""Total variation distance ``TV(p, q) = 1/2 sum |p - q|``.

The largest difference ``|P(A) - Q(A)|`` over all events ``A``; a metric, unitless, in
``[0, 1]`` (0 for identical distributions, 1 for disjoint supports). For distributions it
equals scipy's Bray-Curtis dissimilarity and half the L1 (city block) distance.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from app.infotheory._arrays import Float64Array, as_rows, finish
from app.infotheory._rows import pair

__all__ = ["total_variation"]


def total_variation(p: ArrayLike, q: ArrayLike) -> float | Float64Array:
    """Return ``TV = 1/2 sum |p - q|``, clamped into ``[0, 1]``; never infinite.

    A float for two 1-D inputs, one value per row otherwise.
    """
    pa, qa = pair(p, q)
    gaps = np.subtract(as_rows(pa), as_rows(qa))
    np.abs(gaps, out=gaps)
    sums: Float64Array = np.add.reduce(gaps, axis=-1)
    sums *= 0.5
    return finish(sums, pa.ndim == 1, 1.0, high=1.0)

"""Tsallis entropy and Tsallis relative entropy of index ``q > 0``.

With sums over the events where ``p > 0``::

    S_q(p)       = (1 - sum p^q) / (q - 1)
    D_q(p || r)  = (sum p^q r^(1-q) - 1) / (q - 1)

and their limits at ``q = 1``, the Shannon entropy and the Kullback-Leibler divergence in
nats (the kernels take the limit; they never divide by zero). Tsallis quantities are
dimensionless numbers, not amounts of information in a base: changing the logarithm base
does not rescale them, so these kernels take **no unit** parameter. ``r`` names the second
distribution because ``q`` is the index. Orders near 1 keep their precision: the kernels
compute ``sum p^q r^(1-q) - 1`` as ``expm1`` of the power sum's logarithm (see ``_powers``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from app.infotheory._arrays import Float64Array, as_distribution, as_rows, finish
from app.infotheory._powers import log_power_sums
from app.infotheory._rows import pair
from app.infotheory.divergence import kl_divergence
from app.infotheory.entropy import entropy

__all__ = ["tsallis_divergence", "tsallis_entropy"]


def _index(q: float) -> float:
    """Return ``q`` as a float in ``(0, inf)``; raise ``ValueError`` naming it otherwise."""
    value = float(q)
    if not 0.0 < value < math.inf:  # also refuses NaN
        raise ValueError(f"q must be a finite number > 0, got {q!r}")
    return value


def tsallis_entropy(p: ArrayLike, q: float) -> float | Float64Array:
    """Return the Tsallis entropy ``S_q(p) = (1 - sum p^q) / (q - 1)`` (unitless).

    ``0 <= S_q <= ln_q(n) = (n^(1-q) - 1) / (1 - q)`` for ``n`` events (the uniform
    distribution attains it); never infinite. ``0^q`` counts as 0. At ``q = 1`` it is the
    Shannon entropy in nats. A float for 1-D input, one value per row otherwise. Raises
    ``ValueError`` naming ``q`` unless ``q`` is finite and positive.
    """
    index = _index(q)
    if index == 1.0:
        return entropy(p)
    arr = as_distribution(p)
    rows = as_rows(arr)
    excess = np.expm1(log_power_sums(rows, None, index))  # sum p^q - 1
    excess /= 1.0 - index
    log_n = math.log(rows.shape[-1])
    high = math.expm1((1.0 - index) * log_n) / (1.0 - index)
    return finish(excess, arr.ndim == 1, 1.0, high=high)


def tsallis_divergence(p: ArrayLike, r: ArrayLike, q: float) -> float | Float64Array:
    """Return the Tsallis relative entropy ``D_q(p || r) = (sum p^q r^(1-q) - 1) / (q - 1)``.

    Unitless. ``D_q >= 0``; for ``q < 1`` it is at most ``1 / (1 - q)``, reached when the
    supports are disjoint; for ``q >= 1`` it is ``+inf`` when some event has ``p > 0 = r``.
    At ``q = 1`` it is the KL divergence in nats. Events with ``p = 0`` contribute nothing.
    A float for two 1-D inputs, one value per row otherwise. Raises ``ValueError`` naming
    ``q`` unless ``q`` is finite and positive.
    """
    index = _index(q)
    if index == 1.0:
        return kl_divergence(p, r)
    pa, ra = pair(p, r)
    with np.errstate(over="ignore"):
        excess = np.expm1(log_power_sums(as_rows(pa), as_rows(ra), index))
    excess /= index - 1.0
    high = 1.0 / (1.0 - index) if index < 1.0 else math.inf
    return finish(excess, pa.ndim == 1, 1.0, high=high)

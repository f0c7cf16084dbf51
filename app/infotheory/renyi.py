"""Rényi divergence and Rényi entropy of every order ``alpha`` in ``[0, inf]``.

For ``alpha`` not in ``{0, 1, inf}``, with sums over the events where ``p > 0``::

    D_alpha(p || q) = log(sum p^alpha q^(1-alpha)) / (alpha - 1)
    H_alpha(p)      = log(sum p^alpha) / (1 - alpha)

and the limits ``D_0 = -log Q(supp p)``, ``D_1 = KL``, ``D_inf = log max_{p>0} p / q``;
``H_0 = log |supp p|`` (Hartley), ``H_1`` Shannon, ``H_2 = -log sum p^2`` (collision),
``H_inf = -log max p`` (min-entropy). The divergence is non-decreasing in ``alpha``, the
entropy non-increasing. Values are in ``"bits"``, ``"nats"`` (default) or ``"bans"``.

Infinities: for ``alpha >= 1`` the divergence is ``+inf`` when some event has ``p > 0 = q``;
for ``alpha < 1`` it is finite unless the supports are disjoint (``Q(supp p) = 0``).
The power sums are computed so that nearly equal distributions and orders near 1 keep their
precision and no finite order overflows (see ``_powers``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from app.infotheory._arrays import Float64Array, as_distribution, as_rows, finish
from app.infotheory._powers import log_power_sums
from app.infotheory._rows import pair
from app.infotheory._sums import row_sums
from app.infotheory.divergence import kl_divergence
from app.infotheory.entropy import entropy
from app.infotheory.units import nats_per_unit

__all__ = ["renyi_divergence", "renyi_entropy"]


def _order(alpha: float) -> float:
    """Return ``alpha`` as a float in ``[0, inf]``; raise ``ValueError`` naming it otherwise."""
    value = float(alpha)
    if not value >= 0.0:  # also refuses NaN
        raise ValueError(f"alpha must be in [0, inf], got {alpha!r}")
    return value


def renyi_divergence(
    p: ArrayLike, q: ArrayLike, alpha: float, unit: str = "nats"
) -> float | Float64Array:
    """Return the Rényi divergence ``D_alpha(p || q)`` of order ``alpha`` in ``[0, inf]``.

    ``0 <= D_alpha <= +inf``: a float for two 1-D inputs, one value per row otherwise.
    Events with ``p = 0`` contribute nothing. Raises ``ValueError`` naming ``alpha`` when it
    is negative or NaN.
    """
    order, scale = _order(alpha), nats_per_unit(unit)
    if order == 1.0:
        return kl_divergence(p, q, unit)
    pa, qa = pair(p, q)
    prow, qrow = as_rows(pa), as_rows(qa)
    if order == 0.0:
        with np.errstate(divide="ignore"):
            nats = 0.0 - np.log(row_sums(np.where(prow > 0, qrow, 0.0)))
    elif order == math.inf:
        with np.errstate(divide="ignore", invalid="ignore"):
            # log p - log q, not log(p / q): the ratio may overflow where q is subnormal
            logs = np.where(prow > 0, np.log(prow) - np.log(qrow), -np.inf)
            nats = logs.max(axis=-1)
    else:
        nats = log_power_sums(prow, qrow, order)
        nats /= order - 1.0
    return finish(nats, pa.ndim == 1, scale)


def renyi_entropy(p: ArrayLike, alpha: float, unit: str = "nats") -> float | Float64Array:
    """Return the Rényi entropy ``H_alpha(p)`` of order ``alpha`` in ``[0, inf]``.

    ``0 <= H_alpha <= log n`` (``n`` events; equality for the uniform distribution), never
    infinite: a float for 1-D input, one value per row otherwise. ``0^alpha`` counts as 0 for
    every ``alpha`` (so ``H_0`` counts the events with ``p > 0``). Raises ``ValueError``
    naming ``alpha`` when it is negative or NaN.
    """
    order, scale = _order(alpha), nats_per_unit(unit)
    if order == 1.0:
        return entropy(p, unit)
    arr = as_distribution(p)
    rows = as_rows(arr)
    if order == 0.0:
        nats = np.log(np.count_nonzero(rows, axis=-1).astype(np.float64))
    elif order == math.inf:
        nats = 0.0 - np.log(rows.max(axis=-1))
    else:
        nats = log_power_sums(rows, None, order)
        nats /= 1.0 - order
    return finish(nats, arr.ndim == 1, scale, high=math.log(rows.shape[-1]))

"""Pearson and Neyman chi-square divergences (unitless).

::

    Pearson  chi2_P(p || q) = sum (p - q)^2 / q
    Neyman   chi2_N(p || q) = sum (p - q)^2 / p

Both are f-divergences in ``[0, +inf]``, 0 only for identical inputs, and neither is
symmetric (``chi2_N(p || q) = chi2_P(q || p)``). Zeros, exactly: an event where the
denominator and the numerator are both 0 (``p = q = 0``) contributes 0; an event where only
the denominator is 0 makes the value ``+inf``.
"""

from __future__ import annotations

from numpy.typing import ArrayLike

from app.infotheory._arrays import Float64Array, as_rows, finish
from app.infotheory._rows import chi_square_sums, pair

__all__ = ["neyman_chi_square", "pearson_chi_square"]


def _chi_square(p: ArrayLike, q: ArrayLike, denominator_is_q: bool) -> float | Float64Array:
    pa, qa = pair(p, q)
    prow, qrow = as_rows(pa), as_rows(qa)
    sums = chi_square_sums(prow, qrow, qrow if denominator_is_q else prow)
    return finish(sums, pa.ndim == 1, 1.0)


def pearson_chi_square(p: ArrayLike, q: ArrayLike) -> float | Float64Array:
    """Return Pearson's ``sum (p - q)^2 / q``: ``+inf`` where some event has ``q = 0 < p``.

    A float for two 1-D inputs, one value per row otherwise.
    """
    return _chi_square(p, q, denominator_is_q=True)


def neyman_chi_square(p: ArrayLike, q: ArrayLike) -> float | Float64Array:
    """Return Neyman's ``sum (p - q)^2 / p``: ``+inf`` where some event has ``p = 0 < q``.

    A float for two 1-D inputs, one value per row otherwise.
    """
    return _chi_square(p, q, denominator_is_q=False)

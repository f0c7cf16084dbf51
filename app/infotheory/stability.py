"""Population stability index (PSI) and its customary bands.

::

    PSI(p, q) = sum (p - q) ln(p / q)

over the bins of a baseline distribution ``q`` and a current one ``p`` (or the other way
round: PSI is symmetric). By its customary definition PSI is in nats (natural logarithm) and
takes no unit; it equals the Jeffreys divergence in nats. It is ``+inf`` where exactly one
of ``p``, ``q`` is 0 in some bin (no epsilon is added; smoothing is the caller's choice).

The customary bands, used by credit-risk and model-monitoring practice:

=================  ========================
PSI                band
=================  ========================
``< 0.1``          ``"no significant change"``
``0.1 to < 0.25``  ``"moderate"``
``>= 0.25``        ``"significant"`` (including ``+inf``)
=================  ========================
"""

from __future__ import annotations

from typing import Literal

from numpy.typing import ArrayLike

from app.infotheory._arrays import Float64Array
from app.infotheory.jeffreys import jeffreys_divergence

__all__ = ["PSI_BANDS", "PsiBand", "population_stability_index", "psi_band"]

PsiBand = Literal["no significant change", "moderate", "significant"]

# (lower bound, band), in increasing order: a value is in the last band whose bound it reaches.
PSI_BANDS: tuple[tuple[float, PsiBand], ...] = (
    (0.0, "no significant change"),
    (0.1, "moderate"),
    (0.25, "significant"),
)


def population_stability_index(p: ArrayLike, q: ArrayLike) -> float | Float64Array:
    """Return ``PSI = sum (p - q) ln(p / q)`` in nats, in ``[0, +inf]``.

    A float for two 1-D inputs, one value per row otherwise.
    """
    return jeffreys_divergence(p, q, "nats")


def psi_band(psi: float) -> PsiBand:
    """Name the customary band of a PSI value; raise ``ValueError`` naming ``psi`` if not >= 0."""
    if not psi >= 0.0:  # also refuses NaN
        raise ValueError(f"psi must be >= 0, got {psi!r}")
    band = PSI_BANDS[0][1]
    for bound, name in PSI_BANDS:
        if psi >= bound:
            band = name
    return band

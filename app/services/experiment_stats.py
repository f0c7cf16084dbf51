"""Student's t interval of a mean, for the paired per-seed gaps of an experiment.

Exact for integer degrees of freedom without scipy: the two-sided probability
``A(t | nu) = P(|T| < t)`` is a finite sum in ``theta = atan(t / sqrt(nu))`` (Abramowitz and
Stegun 26.7.3 and 26.7.4), and the quantile is found by bisection on it.
"""

from __future__ import annotations

import math

__all__ = ["mean_interval", "t_quantile"]


def _two_sided(t: float, nu: int) -> float:
    """P(|T| < t) for Student's t with ``nu`` degrees of freedom, t >= 0."""
    theta = math.atan(t / math.sqrt(nu))
    s, c = math.sin(theta), math.cos(theta)
    if nu % 2 == 1:
        total, term = 0.0, c  # cos, (2/3) cos^3, (2*4)/(3*5) cos^5, ... up to cos^(nu - 2)
        for k in range(1, (nu - 1) // 2 + 1):
            total += term
            term *= c * c * (2 * k) / (2 * k + 1)
        return 2.0 / math.pi * (theta + s * total)
    total, term = 0.0, 1.0  # 1, (1/2) cos^2, (1*3)/(2*4) cos^4, ... up to cos^(nu - 2)
    for k in range(1, nu // 2 + 1):
        total += term
        term *= c * c * (2 * k - 1) / (2 * k)
    return s * total


def t_quantile(probability: float, nu: int) -> float:
    """The ``probability`` quantile (in (0.5, 1)) of Student's t with ``nu`` >= 1 degrees
    of freedom, to about 1e-12."""
    if not 0.5 < probability < 1.0 or nu < 1:
        raise ValueError("probability must be in (0.5, 1) and nu at least 1")
    target = 2.0 * probability - 1.0
    low, high = 0.0, 1.0
    while _two_sided(high, nu) < target:
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if _two_sided(middle, nu) < target:
            low = middle
        else:
            high = middle
        if high - low <= 1e-13 * high:
            break
    return (low + high) / 2.0


def mean_interval(
    values: list[float], confidence: float = 0.95
) -> tuple[float, float, tuple[float, float] | None]:
    """Mean, sample standard deviation (0 for one value) and the t interval of the mean,
    ``mean +- t((1 + confidence) / 2, n - 1) * sd / sqrt(n)`` (None for one value)."""
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return mean, 0.0, None
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_quantile((1.0 + confidence) / 2.0, n - 1) * sd / math.sqrt(n)
    return mean, sd, (mean - half, mean + half)

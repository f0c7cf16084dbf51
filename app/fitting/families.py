"""Model families over the integer support ``0..K``, fitted by maximum likelihood.

Every function is vectorised over rows: ``counts`` is ``(..., K + 1)``; the fitted
probabilities have the same shape. Probabilities are the families' own pmfs on ``0..K``
(not renormalised): mass beyond ``K`` (Poisson, geometric) is the model's ``tail_mass``, an
event the observations never show, so it adds nothing to ``D(observed || model)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.infotheory import Float64Array

__all__ = ["FAMILIES", "Fit", "binomial_pmf", "geometric_pmf", "log_factorials", "poisson_pmf"]


@dataclass(frozen=True)
class Fit:
    """Fitted parameters (each an array over rows) and the pmf on the support."""

    parameters: dict[str, Float64Array]
    probabilities: Float64Array


def log_factorials(k_max: int) -> Float64Array:
    """``log k!`` for ``k = 0..k_max``."""
    logs = np.zeros(k_max + 1)
    np.cumsum(np.log(np.arange(1, k_max + 1, dtype=np.float64)), out=logs[1:])
    return logs


def _xlogy(x: Float64Array, y: Float64Array) -> Float64Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        product: Float64Array = np.where(x == 0, 0.0, x * np.log(y))
    return product


def binomial_pmf(n: int, p: Float64Array) -> Float64Array:
    """Binomial(n, p) on ``0..n``; ``p`` has shape ``(...)``, the result ``(..., n + 1)``."""
    k = np.arange(n + 1, dtype=np.float64)
    lf = log_factorials(n)
    log_choose = lf[n] - lf - lf[::-1]
    p = np.asarray(p, dtype=np.float64)[..., np.newaxis]
    log_pmf: Float64Array = log_choose + _xlogy(k, p) + _xlogy(n - k, 1.0 - p)
    return np.exp(log_pmf)


def poisson_pmf(k_max: int, rate: Float64Array) -> Float64Array:
    """Poisson(rate) on ``0..k_max``."""
    k = np.arange(k_max + 1, dtype=np.float64)
    rate = np.asarray(rate, dtype=np.float64)[..., np.newaxis]
    return np.exp(_xlogy(k, rate) - rate - log_factorials(k_max))


def geometric_pmf(k_max: int, p: Float64Array) -> Float64Array:
    """Geometric(p) on ``0..k_max``: failures before the first success, ``(1 - p)^k p``."""
    k = np.arange(k_max + 1, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)[..., np.newaxis]
    return np.exp(_xlogy(k, 1.0 - p)) * p


def _means(counts: Float64Array) -> Float64Array:
    k = np.arange(counts.shape[-1], dtype=np.float64)
    means: Float64Array = (counts @ k) / counts.sum(axis=-1)
    return means


def fit_uniform(counts: Float64Array) -> Fit:
    width = counts.shape[-1]
    return Fit({}, np.full(counts.shape, 1.0 / width))


def fit_binomial(counts: Float64Array) -> Fit:
    """n = the support's maximum K; p = mean / K (the maximum-likelihood estimate)."""
    n = counts.shape[-1] - 1
    p = _means(counts) / n if n > 0 else np.ones(counts.shape[:-1])
    return Fit({"n": np.full(p.shape, float(n)), "p": p}, binomial_pmf(n, p))


def fit_poisson(counts: Float64Array) -> Fit:
    """rate = mean (the maximum-likelihood estimate)."""
    rate = _means(counts)
    return Fit({"rate": rate}, poisson_pmf(counts.shape[-1] - 1, rate))


def fit_geometric(counts: Float64Array) -> Fit:
    """p = 1 / (1 + mean) (the maximum-likelihood estimate on 0, 1, 2, ...)."""
    p = 1.0 / (1.0 + _means(counts))
    return Fit({"p": p}, geometric_pmf(counts.shape[-1] - 1, p))


FAMILIES: dict[str, Callable[[Float64Array], Fit]] = {
    "uniform": fit_uniform,
    "binomial": fit_binomial,
    "poisson": fit_poisson,
    "geometric": fit_geometric,
}

"""Parametric laws as plain records, and what an answer about them carries.

The records hold parameters already checked by the caller (scales > 0, probabilities in
[0, 1], covariances symmetric positive definite, weights summing to 1); the kernels trust them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from app.infotheory._arrays import Float64Array

__all__ = [
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "Dirichlet",
    "Estimate",
    "Exponential",
    "Gamma",
    "Geometric",
    "Laplace",
    "Law",
    "LogNormal",
    "Method",
    "MultivariateNormal",
    "MultivariateNormalMixture",
    "Normal",
    "NormalMixture",
    "Poisson",
    "Uniform",
]

Method = Literal["closed form", "exact sum", "monte carlo"]


@dataclass(frozen=True)
class Estimate:
    """A value in nats and how it was obtained (``standard_error`` and ``draws`` for Monte
    Carlo, ``terms`` for exact sums, ``infinite_reason`` when the value is +inf)."""

    value: float
    method: Method
    standard_error: float | None = None
    draws: int | None = None
    terms: int | None = None
    infinite_reason: str | None = None


@dataclass(frozen=True)
class Normal:
    """N(mean, std^2)."""

    family: ClassVar[str] = "normal"
    mean: float
    std: float


@dataclass(frozen=True)
class MultivariateNormal:
    """N(mean, covariance) in d dimensions."""

    family: ClassVar[str] = "multivariate_normal"
    mean: Float64Array
    covariance: Float64Array


@dataclass(frozen=True)
class LogNormal:
    """exp(Y) for Y ~ N(mu, sigma^2)."""

    family: ClassVar[str] = "log_normal"
    mu: float
    sigma: float


@dataclass(frozen=True)
class Exponential:
    """Density rate * exp(-rate x) on x >= 0."""

    family: ClassVar[str] = "exponential"
    rate: float


@dataclass(frozen=True)
class Gamma:
    """Density rate^shape x^(shape-1) exp(-rate x) / Gamma(shape) on x > 0."""

    family: ClassVar[str] = "gamma"
    shape: float
    rate: float


@dataclass(frozen=True)
class Beta:
    """Density x^(alpha-1) (1-x)^(beta-1) / B(alpha, beta) on 0 < x < 1."""

    family: ClassVar[str] = "beta"
    alpha: float
    beta: float


@dataclass(frozen=True)
class Dirichlet:
    """Density on the simplex (against Lebesgue measure on its first K - 1 coordinates)."""

    family: ClassVar[str] = "dirichlet"
    alpha: Float64Array


@dataclass(frozen=True)
class Laplace:
    """Density exp(-|x - loc| / scale) / (2 scale)."""

    family: ClassVar[str] = "laplace"
    loc: float
    scale: float


@dataclass(frozen=True)
class Uniform:
    """Uniform on [low, high], low < high."""

    family: ClassVar[str] = "uniform"
    low: float
    high: float


@dataclass(frozen=True)
class Bernoulli:
    """P(1) = p, P(0) = 1 - p."""

    family: ClassVar[str] = "bernoulli"
    p: float


@dataclass(frozen=True)
class Categorical:
    """P(i) = p[i] over K categories."""

    family: ClassVar[str] = "categorical"
    p: Float64Array


@dataclass(frozen=True)
class Binomial:
    """Successes in n trials of probability p."""

    family: ClassVar[str] = "binomial"
    n: int
    p: float


@dataclass(frozen=True)
class Poisson:
    """P(k) = rate^k exp(-rate) / k!, rate >= 0."""

    family: ClassVar[str] = "poisson"
    rate: float


@dataclass(frozen=True)
class Geometric:
    """Failures before the first success: P(k) = (1 - p)^k p, k = 0, 1, ...; 0 < p <= 1."""

    family: ClassVar[str] = "geometric"
    p: float


@dataclass(frozen=True)
class NormalMixture:
    """sum_j weights[j] N(means[j], stds[j]^2)."""

    family: ClassVar[str] = "normal_mixture"
    weights: Float64Array
    means: Float64Array
    stds: Float64Array


@dataclass(frozen=True)
class MultivariateNormalMixture:
    """sum_j weights[j] N(means[j], covariances[j]); means (k, d), covariances (k, d, d)."""

    family: ClassVar[str] = "multivariate_normal_mixture"
    weights: Float64Array
    means: Float64Array
    covariances: Float64Array

    @property
    def dimension(self) -> int:
        return int(np.shape(self.means)[1])


Law = (
    Normal
    | MultivariateNormal
    | LogNormal
    | Exponential
    | Gamma
    | Beta
    | Dirichlet
    | Laplace
    | Uniform
    | Bernoulli
    | Categorical
    | Binomial
    | Poisson
    | Geometric
    | NormalMixture
    | MultivariateNormalMixture
)

"""Models of ``/v1/parametric/*``: laws given by their parameters, and the answer.

A law is one object whose ``family`` says which parameters it has. Each parameter is checked
here (scales > 0, probabilities in [0, 1], shapes), so an error names the field; what needs
arithmetic (sums of probabilities, positive definite covariances, caps) is the service's.
The answer's model is the client's (``divergence_client.models.parametric``), re-exported here.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas.common import Unit
from divergence_client.models.parametric import ParametricResponse

__all__ = [
    "BernoulliLaw",
    "BetaLaw",
    "BinomialLaw",
    "CategoricalLaw",
    "DirichletLaw",
    "ExponentialLaw",
    "GammaLaw",
    "GeometricLaw",
    "LaplaceLaw",
    "Law",
    "LogNormalLaw",
    "MultivariateNormalLaw",
    "MultivariateNormalMixtureLaw",
    "NormalLaw",
    "NormalMixtureLaw",
    "ParametricEntropyRequest",
    "ParametricPairRequest",
    "ParametricResponse",
    "PoissonLaw",
    "UniformLaw",
]

LIMIT = 1e100
"""Parameters stay within +-1e100 and scales above 1e-100, so that squares and ratios of two
of them stay within float64."""
SHAPE_LIMIT = 1e6
"""Shapes (gamma, beta, Dirichlet) above this lose digits in lgamma/digamma differences."""
Real = Annotated[float, Field(ge=-LIMIT, le=LIMIT, allow_inf_nan=False)]
Scale = Annotated[float, Field(ge=1 / LIMIT, le=LIMIT, allow_inf_nan=False)]
Shape = Annotated[float, Field(ge=1 / LIMIT, le=SHAPE_LIMIT, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class _Law(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class NormalLaw(_Law):
    """N(mean, std^2)."""

    family: Literal["normal"]
    mean: Real
    std: Scale = Field(description="Standard deviation (not the variance), 1e-100 to 1e100.")


class MultivariateNormalLaw(_Law):
    """N(mean, covariance) in d dimensions."""

    family: Literal["multivariate_normal"]
    mean: list[Real] = Field(min_length=1, description="d values.")
    covariance: list[list[Real]] = Field(
        description="d x d, symmetric positive definite (a singular one is refused)."
    )

    @model_validator(mode="after")
    def _square(self) -> Self:
        _check_square(self.covariance, len(self.mean), "covariance")
        return self


class LogNormalLaw(_Law):
    """exp(Y) for Y ~ N(mu, sigma^2)."""

    family: Literal["log_normal"]
    mu: Real = Field(description="Mean of log X.")
    sigma: Scale = Field(description="Standard deviation of log X, > 0.")


class _RateOrScale(_Law):
    rate: Scale | None = Field(None, description="Rate (1 / scale), > 0.")
    scale: Scale | None = Field(None, description="Scale (1 / rate), > 0.")

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.rate is None) == (self.scale is None):
            raise ValueError("give exactly one of rate or scale")
        return self

    @property
    def rate_value(self) -> float:
        if self.rate is not None:
            return self.rate
        assert self.scale is not None
        return 1.0 / self.scale


class ExponentialLaw(_RateOrScale):
    """Density rate exp(-rate x) on x >= 0."""

    family: Literal["exponential"]


class GammaLaw(_RateOrScale):
    """Density rate^shape x^(shape-1) exp(-rate x) / Gamma(shape) on x > 0."""

    family: Literal["gamma"]
    shape: Shape = Field(description="Shape k (concentration), 1e-100 to 1e6.")


class BetaLaw(_Law):
    """Density x^(alpha-1) (1-x)^(beta-1) / B(alpha, beta) on (0, 1)."""

    family: Literal["beta"]
    alpha: Shape = Field(description="1e-100 to 1e6.")
    beta: Shape = Field(description="1e-100 to 1e6.")


class DirichletLaw(_Law):
    """Density on the K-simplex."""

    family: Literal["dirichlet"]
    alpha: list[Shape] = Field(min_length=2, description="K concentrations, 1e-100 to 1e6.")


class LaplaceLaw(_Law):
    """Density exp(-|x - loc| / scale) / (2 scale)."""

    family: Literal["laplace"]
    loc: Real
    scale: Scale


class UniformLaw(_Law):
    """Uniform on [low, high]."""

    family: Literal["uniform"]
    low: Real
    high: Real

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.low < self.high:
            raise ValueError(f"high ({self.high}) must be greater than low ({self.low})")
        return self


class BernoulliLaw(_Law):
    """P(1) = p."""

    family: Literal["bernoulli"]
    p: Probability


class CategoricalLaw(_Law):
    """P(i) = p[i], i = 0..K-1."""

    family: Literal["categorical"]
    p: list[Probability] = Field(min_length=1, description="K probabilities adding up to 1.")


class BinomialLaw(_Law):
    """Successes in n trials."""

    family: Literal["binomial"]
    n: int = Field(ge=0, le=2**53, description="Number of trials.")
    p: Probability


class PoissonLaw(_Law):
    """P(k) = rate^k exp(-rate) / k!."""

    family: Literal["poisson"]
    rate: float = Field(ge=0, le=LIMIT, allow_inf_nan=False, description="Mean, >= 0.")


class GeometricLaw(_Law):
    """Failures before the first success: P(k) = (1 - p)^k p, k = 0, 1, ..."""

    family: Literal["geometric"]
    p: float = Field(
        ge=1 / LIMIT, le=1, allow_inf_nan=False, description="Success probability, > 0."
    )


class NormalMixtureLaw(_Law):
    """sum_j weights[j] N(means[j], stds[j]^2)."""

    family: Literal["normal_mixture"]
    weights: list[Probability] = Field(min_length=1, description="Adding up to 1.")
    means: list[Real]
    stds: list[Scale] = Field(description="Standard deviations, > 0.")

    @model_validator(mode="after")
    def _lengths(self) -> Self:
        for name in ("means", "stds"):
            if len(getattr(self, name)) != len(self.weights):
                raise ValueError(
                    f"{name} has {len(getattr(self, name))} values, weights has {len(self.weights)}"
                )
        return self


class MultivariateNormalMixtureLaw(_Law):
    """sum_j weights[j] N(means[j], covariances[j])."""

    family: Literal["multivariate_normal_mixture"]
    weights: list[Probability] = Field(min_length=1, description="Adding up to 1.")
    means: list[list[Real]] = Field(description="One d-vector per component.")
    covariances: list[list[list[Real]]] = Field(
        description="One d x d symmetric positive definite matrix per component."
    )

    @model_validator(mode="after")
    def _shapes(self) -> Self:
        k = len(self.weights)
        if len(self.means) != k or len(self.covariances) != k:
            raise ValueError(
                f"means has {len(self.means)} and covariances {len(self.covariances)} "
                f"components, weights has {k}"
            )
        d = len(self.means[0])
        for j, (mean, covariance) in enumerate(zip(self.means, self.covariances, strict=True)):
            if len(mean) != d or d == 0:
                raise ValueError(f"means[{j}] has {len(mean)} values, means[0] has {d}")
            _check_square(covariance, d, f"covariances[{j}]")
        return self


def _check_square(matrix: list[list[float]], d: int, name: str) -> None:
    if len(matrix) != d or any(len(row) != d for row in matrix):
        shape = f"{len(matrix)} rows of lengths {sorted({len(row) for row in matrix})}"
        raise ValueError(f"{name} must be {d} x {d} (as the mean is long), got {shape}")


Law = Annotated[
    NormalLaw
    | MultivariateNormalLaw
    | LogNormalLaw
    | ExponentialLaw
    | GammaLaw
    | BetaLaw
    | DirichletLaw
    | LaplaceLaw
    | UniformLaw
    | BernoulliLaw
    | CategoricalLaw
    | BinomialLaw
    | PoissonLaw
    | GeometricLaw
    | NormalMixtureLaw
    | MultivariateNormalMixtureLaw,
    Field(discriminator="family"),
]


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    unit: Unit = Field("nats", description="bits (log 2), nats (ln) or bans (log 10).")
    draws: int | None = Field(
        None,
        ge=2,
        description="Monte Carlo draws (mixtures only); default 100000 or the cap, whichever "
        "is smaller; at most DIVERGENCE_PARAMETRIC_MAX_DRAWS.",
    )
    seed: int = Field(0, ge=0, le=2**63 - 1, description="Seed of the Monte Carlo draws.")
    tolerance: float | None = Field(
        None,
        ge=0,
        le=0.5,
        allow_inf_nan=False,
        description="Allowed |sum - 1| of categorical p and mixture weights; default 1e-6.",
    )


class ParametricEntropyRequest(_Options):
    """One law."""

    p: Law


class ParametricPairRequest(_Options):
    """Two laws: P (the truth) and Q (the model)."""

    p: Law
    q: Law

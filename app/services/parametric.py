"""Parametric laws: request models -> checked kernel records, caps, the kernels, the answer.

Checked here, before any work: sums of categorical probabilities and mixture weights (within
the tolerance, never normalised), covariances (symmetric, positive definite, dimension within
the cap before the d^3 check), that a formula relates P's and Q's families and their shapes
agree, and the cost: Monte Carlo draws and work, exact-sum terms.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from app.config import Settings
from app.errors import InvalidInputError
from app.infotheory import parametric as kernels
from app.schemas import parametric as schemas
from app.schemas.common import Unit
from app.schemas.parametric import ParametricEntropyRequest, ParametricPairRequest
from app.schemas.parametric import ParametricResponse as Response
from app.services.distributions import check_sums

__all__ = ["cross_entropy", "entropy", "kl_divergence"]

Array = NDArray[np.float64]
Loc = list[str | int]
DEFAULT_DRAWS = 100_000
SYMMETRY_TOLERANCE = 1e-12
"""Largest |S - S^T| accepted, relative to max |S|; the symmetric part is used."""


def _dimension_cap(d: int, loc: Loc, settings: Settings) -> None:
    if d > settings.parametric_max_dimension:
        raise InvalidInputError(
            loc,
            f"has dimension {d}, more than the limit of {settings.parametric_max_dimension} "
            "(setting DIVERGENCE_PARAMETRIC_MAX_DIMENSION)",
            "too_large",
        )


def _covariance(values: list[list[float]], loc: Loc) -> Array:
    """A symmetric positive definite matrix, or 422 naming ``loc``."""
    matrix = np.asarray(values, dtype=np.float64)
    scale = float(np.max(np.abs(matrix)))
    if float(np.max(np.abs(matrix - matrix.T))) > SYMMETRY_TOLERANCE * scale:
        raise InvalidInputError(loc, "must be symmetric", "not_symmetric")
    matrix = 0.5 * (matrix + matrix.T)
    eigenvalues = np.linalg.eigvalsh(matrix)
    smallest, largest = float(eigenvalues[0]), float(eigenvalues[-1])
    # numpy's matrix_rank tolerance: below it an eigenvalue is zero in float64
    if largest <= 0.0 or smallest <= largest * matrix.shape[0] * np.finfo(np.float64).eps:
        kind = "singular" if smallest > -largest * 1e-8 else "not positive definite"
        raise InvalidInputError(
            loc,
            f"must be positive definite; it is {kind} (eigenvalues from {smallest:.6g} "
            f"to {largest:.6g})",
            "not_positive_definite",
        )
    return matrix


def _weights(values: list[float], loc: Loc, tolerance: float) -> Array:
    weights = np.asarray(values, dtype=np.float64)
    check_sums(weights, loc, tolerance)
    return weights


def _law(law: schemas.Law, field: str, settings: Settings, tolerance: float) -> kernels.Law:
    """The kernel's record of one law, every parameter checked."""
    if isinstance(law, schemas.NormalLaw):
        return kernels.Normal(law.mean, law.std)
    if isinstance(law, schemas.LogNormalLaw):
        return kernels.LogNormal(law.mu, law.sigma)
    if isinstance(law, schemas.ExponentialLaw):
        return kernels.Exponential(law.rate_value)
    if isinstance(law, schemas.GammaLaw):
        return kernels.Gamma(law.shape, law.rate_value)
    if isinstance(law, schemas.BetaLaw):
        return kernels.Beta(law.alpha, law.beta)
    if isinstance(law, schemas.LaplaceLaw):
        return kernels.Laplace(law.loc, law.scale)
    if isinstance(law, schemas.UniformLaw):
        return kernels.Uniform(law.low, law.high)
    if isinstance(law, schemas.BernoulliLaw):
        return kernels.Bernoulli(law.p)
    if isinstance(law, schemas.BinomialLaw):
        return kernels.Binomial(law.n, law.p)
    if isinstance(law, schemas.PoissonLaw):
        return kernels.Poisson(law.rate)
    if isinstance(law, schemas.GeometricLaw):
        return kernels.Geometric(law.p)
    if isinstance(law, schemas.CategoricalLaw):
        return kernels.Categorical(_weights(law.p, [field, "p"], tolerance))
    if isinstance(law, schemas.DirichletLaw):
        _dimension_cap(len(law.alpha), [field, "alpha"], settings)
        return kernels.Dirichlet(np.asarray(law.alpha, dtype=np.float64))
    if isinstance(law, schemas.MultivariateNormalLaw):
        _dimension_cap(len(law.mean), [field, "mean"], settings)
        covariance = _covariance(law.covariance, [field, "covariance"])
        return kernels.MultivariateNormal(np.asarray(law.mean, dtype=np.float64), covariance)
    if isinstance(law, schemas.NormalMixtureLaw):
        weights = _weights(law.weights, [field, "weights"], tolerance)
        means, stds = (np.asarray(v, dtype=np.float64) for v in (law.means, law.stds))
        return kernels.NormalMixture(weights, means, stds)
    assert isinstance(law, schemas.MultivariateNormalMixtureLaw)
    _dimension_cap(len(law.means[0]), [field, "means"], settings)
    weights = _weights(law.weights, [field, "weights"], tolerance)
    covariances = np.array(
        [_covariance(c, [field, "covariances", j]) for j, c in enumerate(law.covariances)]
    )
    return kernels.MultivariateNormalMixture(
        weights, np.asarray(law.means, dtype=np.float64), covariances
    )


def _shape(law: kernels.Law) -> tuple[str, int] | None:
    """The field whose length must agree between P and Q, and that length."""
    if isinstance(law, kernels.Categorical):
        return "p", law.p.size
    if isinstance(law, kernels.Dirichlet):
        return "alpha", law.alpha.size
    if isinstance(law, kernels.Beta):
        return "alpha", 2
    if isinstance(law, kernels.MultivariateNormal):
        return "mean", law.mean.size
    if isinstance(law, kernels.MultivariateNormalMixture):
        return "means", law.dimension
    if isinstance(law, kernels.Normal | kernels.NormalMixture):
        return "mean" if isinstance(law, kernels.Normal) else "means", 1
    return None


def _related(p: kernels.Law, q: kernels.Law) -> None:
    """422 unless a formula relates P's and Q's families and their shapes agree."""
    route = kernels.formula(p, q)
    if route is None:
        raise InvalidInputError(
            ["q", "family"],
            f"no formula relates P's family {p.family} and {q.family}; with P {p.family}, Q "
            f"may be {', '.join(kernels.partners(p.family))}",
            "unrelated_families",
        )
    if route == "real" or route == "counting":
        return
    p_shape, q_shape = _shape(p), _shape(q)
    if p_shape is not None and q_shape is not None and p_shape[1] != q_shape[1]:
        what = "values" if p_shape[0] in ("p", "alpha") else "dimensions"
        raise InvalidInputError(
            ["q", q_shape[0]],
            f"Q has {q_shape[1]} {what}, P has {p_shape[1]}",
            "shape_mismatch",
        )


def _draws(requested: int | None, settings: Settings) -> int:
    cap = settings.parametric_max_draws
    if requested is None:
        return min(DEFAULT_DRAWS, cap)
    if requested > cap:
        raise InvalidInputError(
            ["draws"],
            f"{requested} draws are more than the limit of {cap} "
            "(setting DIVERGENCE_PARAMETRIC_MAX_DRAWS)",
            "too_large",
        )
    return requested


_SIZE_FIELD = {"poisson": "rate", "binomial": "n", "geometric": "p", "bernoulli": "p"}


def _within_cost(
    p: kernels.Law, q: kernels.Law | None, measure: str, draws: int, settings: Settings
) -> None:
    cost = kernels.cost(p, q, measure, draws)
    if cost.terms > settings.parametric_max_terms:
        raise InvalidInputError(
            ["p", _SIZE_FIELD.get(p.family, "family")],
            f"the exact sum over P's support takes {cost.terms} terms, more than the limit of "
            f"{settings.parametric_max_terms} (setting DIVERGENCE_PARAMETRIC_MAX_TERMS)",
            "too_much_work",
        )
    limit = settings.parametric_max_work
    if cost.monte_carlo_work > limit:
        per_draw = cost.monte_carlo_work // draws
        raise InvalidInputError(
            ["draws"],
            f"{draws} draws x mixture components x max(dimension^2, 8) is "
            f"{cost.monte_carlo_work}, "
            f"more than the limit of {limit} (setting DIVERGENCE_PARAMETRIC_MAX_WORK); "
            f"use at most {limit // per_draw} draws",
            "too_much_work",
        )


def _tolerance(value: float | None, settings: Settings) -> float:
    return settings.default_tolerance if value is None else value


def _answer(estimate: kernels.Estimate, p: kernels.Law, unit: Unit, seed: int) -> Response:
    monte_carlo = estimate.method == "monte carlo"
    return Response(
        value=estimate.value,
        unit=unit,
        method=estimate.method,
        differential=not kernels.is_discrete(p),
        standard_error=estimate.standard_error,
        draws=estimate.draws,
        seed=seed if monte_carlo else None,
        terms=estimate.terms,
        infinite_reason=estimate.infinite_reason,
    )


def _computed(work: Callable[[], kernels.Estimate]) -> kernels.Estimate:
    try:
        return work()
    except kernels.NotRepresentableError as exc:
        raise InvalidInputError(["p"], str(exc), "not_representable") from None


def entropy(request: ParametricEntropyRequest, settings: Settings) -> Response:
    """H(P): Shannon entropy of a mass function, differential entropy of a density."""
    tolerance = _tolerance(request.tolerance, settings)
    p = _law(request.p, "p", settings, tolerance)
    draws = _draws(request.draws, settings)
    _within_cost(p, None, "entropy", draws, settings)
    estimate = _computed(lambda: kernels.entropy(p, request.unit, draws=draws, seed=request.seed))
    return _answer(estimate, p, request.unit, request.seed)


def _pair(
    request: ParametricPairRequest, settings: Settings, measure: str
) -> tuple[kernels.Law, kernels.Estimate]:
    tolerance = _tolerance(request.tolerance, settings)
    p = _law(request.p, "p", settings, tolerance)
    q = _law(request.q, "q", settings, tolerance)
    _related(p, q)
    draws = _draws(request.draws, settings)
    _within_cost(p, q, measure, draws, settings)
    work = kernels.cross_entropy if measure == "cross_entropy" else kernels.kl_divergence
    return p, _computed(lambda: work(p, q, request.unit, draws=draws, seed=request.seed))


def cross_entropy(request: ParametricPairRequest, settings: Settings) -> Response:
    """H(P, Q) = -E_P log q(X)."""
    p, estimate = _pair(request, settings, "cross_entropy")
    return _answer(estimate, p, request.unit, request.seed)


def kl_divergence(request: ParametricPairRequest, settings: Settings) -> Response:
    """D(P || Q) = E_P log(p(X) / q(X))."""
    p, estimate = _pair(request, settings, "kl_divergence")
    return _answer(estimate, p, request.unit, request.seed)

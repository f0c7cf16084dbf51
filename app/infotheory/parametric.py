"""Entropy, cross-entropy and KL divergence of parametric laws given by their parameters.

=====================================  ==================================================
P and Q                                method
=====================================  ==================================================
normal, log-normal, exponential,       closed form, any pair of these (differential;
gamma, beta, Laplace, uniform          ``_parametric_continuous``)
multivariate normal (and a normal as   closed form (Cholesky, cost d^3)
its 1-D case)
Dirichlet (and a beta as its K = 2)    closed form
categorical                            closed form (the finite sums themselves)
Bernoulli, binomial, Poisson,          closed form where one exists, else an exact sum
geometric, any pair                    over P's support (``_parametric_discrete``)
mixtures of normals (1-D, d-D), or a   Monte Carlo: estimate, standard error, draws, seed
mixture against a normal
=====================================  ==================================================

Values are in nats, converted to ``unit`` at the end. Entropies of laws with a density are
differential entropies: they depend on the scale of x and can be negative. Where P gives
probability (or mass) to events that Q rules out, H(P, Q) and D(P || Q) are +inf with the
reason; a pair without a formula raises ``ValueError`` (callers check :func:`formula`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import special

from app.infotheory import _parametric_continuous as continuous
from app.infotheory import _parametric_discrete as discrete
from app.infotheory import _parametric_multivariate as multivariate
from app.infotheory._parametric_laws import (
    Bernoulli,
    Beta,
    Binomial,
    Categorical,
    Dirichlet,
    Estimate,
    Exponential,
    Gamma,
    Geometric,
    Laplace,
    Law,
    LogNormal,
    Method,
    MultivariateNormal,
    MultivariateNormalMixture,
    Normal,
    NormalMixture,
    Poisson,
    Uniform,
)
from app.infotheory._parametric_mixtures import as_gaussians, monte_carlo
from app.infotheory.units import nats_per_unit

__all__ = [
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "Cost",
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
    "NotRepresentableError",
    "Poisson",
    "Uniform",
    "cost",
    "cross_entropy",
    "entropy",
    "formula",
    "is_discrete",
    "kl_divergence",
    "partners",
]

_REAL = (Normal, LogNormal, Exponential, Gamma, Beta, Laplace, Uniform)
_COUNTING = (Bernoulli, Binomial, Poisson, Geometric)
_GAUSSIAN = (Normal, MultivariateNormal, NormalMixture, MultivariateNormalMixture)
_MIXTURES = (NormalMixture, MultivariateNormalMixture)
_MIN_CELL_COST = 8
"""A component's log-density at a point costs about d^2; in 1-D as much as d^2 = 8 would."""


class NotRepresentableError(ArithmeticError):
    """The parameters are valid, but float64 cannot carry the computation (log-densities of
    Monte Carlo draws that overflow, for instance)."""


@dataclass(frozen=True)
class Cost:
    """What a computation will take, known before it starts: terms of an exact sum, and
    Monte Carlo draws x mixture components (P and Q) x max(dimension^2, 8)."""

    terms: int = 0
    monte_carlo_work: int = 0


def is_discrete(law: Law) -> bool:
    """Whether the law is a probability mass function (else it has a density)."""
    return isinstance(law, (*_COUNTING, Categorical))


def _simplified(law: Law) -> Law:
    """A mixture of one component is that normal (so its measures are closed forms)."""
    if isinstance(law, _MIXTURES) and np.count_nonzero(law.weights) == 1:
        j = int(np.flatnonzero(law.weights)[0])
        if isinstance(law, NormalMixture):
            return Normal(float(law.means[j]), float(law.stds[j]))
        return MultivariateNormal(law.means[j], law.covariances[j])
    return law


def _as_vector(law: Law) -> Law:
    if isinstance(law, Normal):
        return MultivariateNormal(np.array([law.mean]), np.array([[law.std**2]]))
    if isinstance(law, Beta):
        return Dirichlet(np.array([law.alpha, law.beta]))
    return law


def formula(p: Law, q: Law | None = None) -> str | None:
    """How (P, Q) is computed (``real``, ``counting``, ``categorical``, ``dirichlet``,
    ``normal``, ``mixture``), or None when no formula relates the two families."""
    p = _simplified(p)
    if q is None:
        laws: tuple[Law, ...] = (p,)
    else:
        laws = (p, _simplified(q))
    if all(isinstance(law, _REAL) for law in laws):
        return "real"
    if all(isinstance(law, _COUNTING) for law in laws):
        return "counting"
    if all(isinstance(law, Categorical) for law in laws):
        return "categorical"
    if all(isinstance(law, Dirichlet | Beta) for law in laws):
        return "dirichlet"
    if all(isinstance(law, _GAUSSIAN) for law in laws):
        return "mixture" if any(isinstance(law, _MIXTURES) for law in laws) else "normal"
    return None


_GROUPS = (_REAL, _COUNTING, (Categorical,), (Dirichlet, Beta), _GAUSSIAN)


def partners(family: str) -> list[str]:
    """The families a law of ``family`` can be paired with (itself included)."""
    groups = [{law.family for law in group} for group in _GROUPS]
    return sorted(set().union(*(group for group in groups if family in group)))


def _dimension(law: Law) -> int:
    if isinstance(law, MultivariateNormal):
        return int(law.mean.size)
    return law.dimension if isinstance(law, MultivariateNormalMixture) else 1


def _components(law: Law) -> int:
    return int(np.count_nonzero(law.weights)) if isinstance(law, _MIXTURES) else 1


def cost(p: Law, q: Law | None, measure: str, draws: int) -> Cost:
    """The cost of ``measure`` (``entropy``, ``cross_entropy``, ``kl_divergence``) of P (and
    Q) with ``draws`` Monte Carlo draws, for a caller to refuse before the work."""
    route = formula(p, q)
    if route == "counting":
        assert isinstance(p, _COUNTING) and (q is None or isinstance(q, _COUNTING))
        return Cost(terms=discrete.sum_terms(p, q, measure))
    if route == "mixture":
        parts = _components(p) + (0 if q is None else _components(q))
        return Cost(monte_carlo_work=draws * parts * max(_dimension(p) ** 2, _MIN_CELL_COST))
    return Cost()


def _categorical(p: Categorical, q: Categorical | None, measure: str) -> Estimate:
    if q is None:
        return Estimate(float(np.sum(special.entr(p.p))), "closed form")
    if measure == "cross_entropy":
        value = float(-np.sum(special.xlogy(p.p, q.p)))
    else:
        value = max(float(np.sum(special.rel_entr(p.p, q.p))), 0.0)
    missing = np.flatnonzero((p.p > 0) & (q.p == 0))
    reason = None
    if missing.size:
        shown = ", ".join(str(int(i)) for i in missing[:10])
        more = f" and {missing.size - 10} more" if missing.size > 10 else ""
        reason = f"P gives probability to categories {shown}{more}, where Q gives none"
    return Estimate(value, "closed form", infinite_reason=reason)


def _compute(p: Law, q: Law | None, measure: str, draws: int, seed: int) -> Estimate:
    route = formula(p, q)
    if route is None:
        raise ValueError(f"no formula relates {p.family} and {q.family if q else None}")
    p, q = _simplified(p), None if q is None else _simplified(q)
    if route == "real":
        assert isinstance(p, _REAL) and (q is None or isinstance(q, _REAL))
        if q is None:
            return Estimate(continuous.entropy(p), "closed form")
        work = continuous.cross_entropy if measure == "cross_entropy" else continuous.kl_divergence
        value, reason = work(p, q)
        return Estimate(value, "closed form", infinite_reason=reason)
    if route == "counting":
        assert isinstance(p, _COUNTING) and (q is None or isinstance(q, _COUNTING))
        return discrete.entropy(p) if q is None else discrete.pair(p, q, measure)
    if route == "categorical":
        assert isinstance(p, Categorical) and (q is None or isinstance(q, Categorical))
        return _categorical(p, q, measure)
    if route == "dirichlet":
        pd, qd = _as_vector(p), None if q is None else _as_vector(q)
        assert isinstance(pd, Dirichlet) and (qd is None or isinstance(qd, Dirichlet))
        return Estimate(multivariate.dirichlet(pd, qd, measure), "closed form")
    if route == "normal":
        pn, qn = _as_vector(p), None if q is None else _as_vector(q)
        assert isinstance(pn, MultivariateNormal)
        assert qn is None or isinstance(qn, MultivariateNormal)
        return Estimate(multivariate.normal(pn, qn, measure), "closed form")
    assert isinstance(p, _GAUSSIAN) and (q is None or isinstance(q, _GAUSSIAN))
    gq = None if q is None else as_gaussians(q)
    value, error = monte_carlo(as_gaussians(p), gq, measure, draws, seed)
    if measure == "kl_divergence":
        value = max(value, 0.0)
    return Estimate(value, "monte carlo", standard_error=error, draws=draws)


def _in_unit(estimate: Estimate, unit: str) -> Estimate:
    error = estimate.standard_error
    if (
        math.isnan(estimate.value)
        or estimate.value == -math.inf
        or (error is not None and not (math.isfinite(error) and math.isfinite(estimate.value)))
    ):
        raise NotRepresentableError(
            "the value cannot be computed in float64 for these parameters (scales too far apart)"
        )
    reason = estimate.infinite_reason
    if estimate.value == math.inf and reason is None:
        reason = "the value exceeds the float64 range"
    scale = nats_per_unit(unit)
    return replace(
        estimate,
        value=estimate.value / scale + 0.0,  # + 0.0: no -0.0 from a clamp
        standard_error=None if error is None else error / scale,
        infinite_reason=reason if estimate.value == math.inf else None,
    )


def entropy(p: Law, unit: str = "nats", *, draws: int = 100_000, seed: int = 0) -> Estimate:
    """H(P) = -E log p(X): Shannon entropy of a mass function, differential entropy of a
    density (which can be negative)."""
    return _in_unit(_compute(p, None, "entropy", draws, seed), unit)


def cross_entropy(
    p: Law, q: Law, unit: str = "nats", *, draws: int = 100_000, seed: int = 0
) -> Estimate:
    """H(P, Q) = -E_P log q(X); +inf where P has mass that Q rules out."""
    return _in_unit(_compute(p, q, "cross_entropy", draws, seed), unit)


def kl_divergence(
    p: Law, q: Law, unit: str = "nats", *, draws: int = 100_000, seed: int = 0
) -> Estimate:
    """D(P || Q) = E_P log(p(X) / q(X)) >= 0; +inf where P has mass that Q rules out."""
    return _in_unit(_compute(p, q, "kl_divergence", draws, seed), unit)

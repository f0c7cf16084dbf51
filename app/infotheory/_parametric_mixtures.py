"""Mixtures of normals (1-D and d-D): Monte Carlo, since no closed form exists.

Each measure is an expectation under P of a log-density expression: ``-log p(X)``
(entropy), ``-log q(X)`` (cross-entropy), ``log p(X) - log q(X)`` (KL). ``draws`` points
are drawn from P with a seeded generator, in fixed chunks (memory bounded whatever the
draws; the same seed gives the same answer); the estimate is the sample mean, its standard
error the sample standard deviation over sqrt(draws). Log-densities are log-sum-exp over
components, so far tails do not underflow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from app.infotheory._arrays import Float64Array
from app.infotheory._parametric_laws import (
    MultivariateNormal,
    MultivariateNormalMixture,
    Normal,
    NormalMixture,
)

__all__ = ["Gaussians", "as_gaussians", "monte_carlo"]

_LOG_2PI = math.log(2.0 * math.pi)
_CHUNK_CELLS = 2**18
"""Draws x components x dimension held at once: 2 MiB per array."""


@dataclass(frozen=True)
class Gaussians:
    """A mixture with its zero-weight components dropped and Cholesky factors ready."""

    log_weights: Float64Array  # (k,)
    means: Float64Array  # (k, d)
    factors: Float64Array  # (k, d, d), lower triangular
    log_dets: Float64Array  # (k,): log det of each covariance

    @property
    def dimension(self) -> int:
        return int(self.means.shape[1])

    def log_density(self, x: Float64Array) -> Float64Array:
        """log of the mixture density at the rows of ``x`` (n, d)."""
        d = self.dimension
        # log w_j - log det(S_j) / 2 - d log(2 pi) / 2, then -|L_j^-1 (x - m_j)|^2 / 2
        constants = self.log_weights - 0.5 * (self.log_dets + d * _LOG_2PI)
        if d == 1:  # one broadcast instead of a solve per component
            z = (x[:, 0] - self.means[:, :1]) / self.factors[:, 0, :1]
            terms = constants[:, None] - 0.5 * (z * z)
        else:
            terms = np.empty((constants.size, x.shape[0]))
            for j, (mean, factor) in enumerate(zip(self.means, self.factors, strict=True)):
                z = linalg.solve_triangular(factor, (x - mean).T, lower=True)
                terms[j] = constants[j] - 0.5 * np.sum(z * z, axis=0)
        return _log_sum_exp(terms)

    def draw(self, rng: np.random.Generator, n: int) -> Float64Array:
        """``n`` points of the mixture (component by multinomial counts, then shuffled)."""
        counts = rng.multinomial(n, np.exp(self.log_weights))
        parts = [
            mean + rng.standard_normal((count, self.dimension)) @ factor.T
            for count, mean, factor in zip(counts, self.means, self.factors, strict=True)
        ]
        points: Float64Array = np.concatenate(parts)
        return points


def _log_sum_exp(terms: Float64Array) -> Float64Array:
    """log sum_j exp(terms[j]) over the first axis, shifted by the largest term."""
    top = np.max(terms, axis=0)
    shift = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):  # every term -inf: log 0 = -inf
        out: Float64Array = np.log(np.sum(np.exp(terms - shift), axis=0)) + shift
    return out


def as_gaussians(
    law: Normal | MultivariateNormal | NormalMixture | MultivariateNormalMixture,
) -> Gaussians:
    """Any normal or mixture of normals as one :class:`Gaussians`."""
    if isinstance(law, Normal | NormalMixture):  # 1-D: the factor is the std itself
        if isinstance(law, Normal):
            weights, means, stds = np.ones(1), np.array([law.mean]), np.array([law.std])
        else:
            weights, means, stds = law.weights, law.means, law.stds
        keep = weights > 0
        factors = stds[keep][:, None, None].astype(np.float64)
        means = means[:, None]
    else:
        if isinstance(law, MultivariateNormal):
            weights, means, covariances = np.ones(1), law.mean[None, :], law.covariance[None]
        else:
            weights, means, covariances = law.weights, law.means, law.covariances
        keep = weights > 0
        factors = np.array([linalg.cholesky(c, lower=True) for c in covariances[keep]])
    log_dets = 2.0 * np.sum(np.log(np.diagonal(factors, axis1=1, axis2=2)), axis=1)
    return Gaussians(np.log(weights[keep]), means[keep], factors, log_dets)


def _combine(
    n: int, mean: float, m2: float, m: int, chunk_mean: float, chunk_m2: float
) -> tuple[int, float, float]:
    """Chan's pairwise update of (count, mean, sum of squared deviations)."""
    total = n + m
    delta = chunk_mean - mean
    return total, mean + delta * m / total, m2 + chunk_m2 + delta**2 * n * m / total


def monte_carlo(
    p: Gaussians, q: Gaussians | None, measure: str, draws: int, seed: int
) -> tuple[float, float]:
    """(estimate, standard error) in nats of ``entropy`` of P or ``cross_entropy`` /
    ``kl_divergence`` of (P, Q), from ``draws`` (>= 2) points of P."""
    rng = np.random.default_rng(seed)
    components = p.log_weights.size + (0 if q is None else q.log_weights.size)
    rows = max(1, _CHUNK_CELLS // (components * p.dimension))
    count, mean, m2 = 0, 0.0, 0.0
    for start in range(0, draws, rows):
        x = p.draw(rng, min(rows, draws - start))
        if measure == "entropy":
            values = -p.log_density(x)
        elif measure == "cross_entropy":
            assert q is not None
            values = -q.log_density(x)
        else:
            assert q is not None
            values = p.log_density(x) - q.log_density(x)
        with np.errstate(invalid="ignore"):  # inf - inf: NaN, refused by the caller
            chunk_mean = float(np.mean(values))
            chunk_m2 = float(np.sum((values - chunk_mean) ** 2))
        count, mean, m2 = _combine(count, mean, m2, values.size, chunk_mean, chunk_m2)
    return mean, math.sqrt(m2 / (count - 1) / count)

"""Multivariate laws in closed form: the normal (full covariance) and the Dirichlet (in nats).

Normals go through Cholesky factors: log det S = 2 sum log diag L, tr(S2^-1 S1) = |L2^-1 L1|_F^2,
the Mahalanobis term |L2^-1 (m1 - m2)|^2; cost d^3. The Dirichlet's density is taken against
Lebesgue measure on the simplex's first K - 1 coordinates (as scipy's), so K = 2 is the beta.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg, special

from app.infotheory._arrays import Float64Array
from app.infotheory._parametric_laws import Dirichlet, MultivariateNormal

__all__ = ["dirichlet", "normal"]

_LOG_2PI = math.log(2.0 * math.pi)


def _cholesky(covariance: Float64Array) -> Float64Array:
    factor: Float64Array = linalg.cholesky(covariance, lower=True)
    return factor


def _log_det(factor: Float64Array) -> float:
    return 2.0 * float(np.sum(np.log(np.diag(factor))))


def normal(p: MultivariateNormal, q: MultivariateNormal | None, measure: str) -> float:
    """``entropy`` of P, or ``cross_entropy`` / ``kl_divergence`` of (P, Q)."""
    d = p.mean.size
    lp = _cholesky(p.covariance)
    if q is None:
        return 0.5 * d * (1.0 + _LOG_2PI) + 0.5 * _log_det(lp)
    lq = _cholesky(q.covariance)
    spread = linalg.solve_triangular(lq, lp, lower=True)
    shift = linalg.solve_triangular(lq, p.mean - q.mean, lower=True)
    trace, mahalanobis = float(np.sum(spread**2)), float(np.sum(shift**2))
    if measure == "cross_entropy":
        return 0.5 * (d * _LOG_2PI + _log_det(lq) + trace + mahalanobis)
    # log det Sq - log det Sp = -log det(Lq^-1 Lp)^2, from the triangular solve's diagonal
    log_ratio = -2.0 * float(np.sum(np.log(np.abs(np.diag(spread)))))
    return max(0.5 * (trace - d + mahalanobis + log_ratio), 0.0)


def _log_beta(alpha: Float64Array) -> float:
    return float(np.sum(special.gammaln(alpha)) - special.gammaln(np.sum(alpha)))


def dirichlet(p: Dirichlet, q: Dirichlet | None, measure: str) -> float:
    """``entropy`` of P, or ``cross_entropy`` / ``kl_divergence`` of (P, Q)."""
    a = p.alpha
    a0 = float(np.sum(a))
    mean_logs = special.digamma(a) - special.digamma(a0)  # E log x_i under P
    if q is None:
        k = a.size
        return (
            _log_beta(a)
            + (a0 - k) * float(special.digamma(a0))
            - float(np.dot(a - 1.0, special.digamma(a)))
        )
    b = q.alpha
    if measure == "cross_entropy":
        return _log_beta(b) - float(np.dot(b - 1.0, mean_logs))
    return max(_log_beta(b) - _log_beta(a) + float(np.dot(a - b, mean_logs)), 0.0)

"""Laws with a density on the real line: normal, log-normal, exponential, gamma, beta,
Laplace, uniform (in nats; entropies are differential).

Every pair has a closed form. ``-log q(x)`` of each Q is a combination of a few statistics
(x, x^2, log x, (log x)^2, log(1 - x), |x - m|), so H(P, Q) needs only P's expectations of
those, which each P has in closed form; D(P || Q) = H(P, Q) - H(P), written directly for
pairs of one family (no cancellation when P is near Q). Where P has mass outside Q's
support, both are +inf.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from app.infotheory._parametric_laws import (
    Beta,
    Exponential,
    Gamma,
    Laplace,
    LogNormal,
    Normal,
    Uniform,
)

__all__ = ["Real", "cross_entropy", "entropy", "kl_divergence"]

Real = Normal | LogNormal | Exponential | Gamma | Beta | Laplace | Uniform
_LOG_2PI = math.log(2.0 * math.pi)
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(40)


def _sq(x: float) -> float:
    """x^2, +inf past float64's range (x**2 would raise)."""
    return x * x


def _exp(x: float) -> float:
    """exp(x), +inf past float64's range (math.exp would raise)."""
    return math.exp(x) if x < 709.0 else float(np.exp(x))


def _support(law: Real) -> tuple[float, float]:
    if isinstance(law, Uniform):
        return law.low, law.high
    if isinstance(law, Beta):
        return 0.0, 1.0
    if isinstance(law, LogNormal | Exponential | Gamma):
        return 0.0, math.inf
    return -math.inf, math.inf


def _as_gamma(law: Real) -> Real:
    return Gamma(1.0, law.rate) if isinstance(law, Exponential) else law


def entropy(law: Real) -> float:
    """Differential entropy -E log p(X) (negative for narrow laws)."""
    law = _as_gamma(law)
    if isinstance(law, Normal):
        return 0.5 * (1.0 + _LOG_2PI) + math.log(law.std)
    if isinstance(law, LogNormal):
        return law.mu + 0.5 * (1.0 + _LOG_2PI) + math.log(law.sigma)
    if isinstance(law, Gamma):
        k = law.shape
        return k - math.log(law.rate) + float(special.gammaln(k) + (1.0 - k) * special.digamma(k))
    if isinstance(law, Beta):
        a, b = law.alpha, law.beta
        digammas = (a - 1.0) * special.digamma(a) + (b - 1.0) * special.digamma(b)
        return float(special.betaln(a, b) - digammas + (a + b - 2.0) * special.digamma(a + b))
    if isinstance(law, Laplace):
        return 1.0 + math.log(2.0 * law.scale)
    assert isinstance(law, Uniform)
    return math.log(law.high - law.low)


def _mean_variance(law: Real) -> tuple[float, float]:
    if isinstance(law, Normal):
        return law.mean, _sq(law.std)
    if isinstance(law, LogNormal):
        s2 = _sq(law.sigma)  # var = exp(2 mu + s2) (exp(s2) - 1), in logs: no 0 x inf
        log_expm1 = s2 + math.log1p(-math.exp(-s2)) if s2 > 1.0 else math.log(math.expm1(s2))
        return _exp(law.mu + 0.5 * s2), _exp(2.0 * law.mu + s2 + log_expm1)
    if isinstance(law, Gamma):
        return law.shape / law.rate, law.shape / _sq(law.rate)
    if isinstance(law, Beta):
        a, b = law.alpha, law.beta
        return a / (a + b), a * b / (_sq(a + b) * (a + b + 1.0))
    if isinstance(law, Laplace):
        return law.loc, 2.0 * _sq(law.scale)
    assert isinstance(law, Uniform)
    return 0.5 * (law.low + law.high), _sq(law.high - law.low) / 12.0


def _uniform_logs(low: float, high: float) -> tuple[float, float]:
    """Mean and variance of log X for X uniform on [low, high], 0 <= low."""
    if low < 0.5 * high:  # closed forms; no cancellation while high - low >= high / 2
        r = low / high
        e_log_u = -1.0 if r == 0.0 else -1.0 - r * math.log(r) / (1.0 - r)
        second = 2.0 - (0.0 if r == 0.0 else r * (_sq(math.log(r)) - 2.0 * math.log(r) + 2.0))
        e_log2_u = second / (1.0 - r)
        return math.log(high) + e_log_u, max(e_log2_u - _sq(e_log_u), 0.0)
    # Gauss-Legendre: log is analytic on [low, high] well away from 0
    mid, half = 0.5 * (low + high), 0.5 * (high - low)
    logs = np.log(mid + half * _NODES)
    mean = float(0.5 * np.dot(_WEIGHTS, logs))
    return mean, float(0.5 * np.dot(_WEIGHTS, (logs - mean) ** 2))


def _log_moments(law: Real) -> tuple[float, float]:
    """Mean and variance of log X (laws on x >= 0)."""
    if isinstance(law, LogNormal):
        return law.mu, _sq(law.sigma)
    if isinstance(law, Gamma):
        return float(special.digamma(law.shape)) - math.log(law.rate), float(
            special.polygamma(1, law.shape)
        )
    if isinstance(law, Beta):
        a, b = law.alpha, law.beta
        mean = float(special.digamma(a) - special.digamma(a + b))
        return mean, float(special.polygamma(1, a) - special.polygamma(1, a + b))
    assert isinstance(law, Uniform)
    return _uniform_logs(law.low, law.high)


def _mean_log_complement(law: Real) -> float:
    """E log(1 - X) (laws on [0, 1])."""
    if isinstance(law, Beta):
        return float(special.digamma(law.beta) - special.digamma(law.alpha + law.beta))
    assert isinstance(law, Uniform)
    return _uniform_logs(1.0 - law.high, 1.0 - law.low)[0]


def _below(law: Real, m: float) -> tuple[float, float]:
    """P(X <= m) and E[X; X <= m] for m > 0 (laws on x >= 0)."""
    if isinstance(law, Gamma):
        k, rate = law.shape, law.rate
        return float(special.gammainc(k, rate * m)), k / rate * float(
            special.gammainc(k + 1.0, rate * m)
        )
    if isinstance(law, LogNormal):
        z = (math.log(m) - law.mu) / law.sigma
        log_partial = law.mu + 0.5 * _sq(law.sigma) + float(special.log_ndtr(z - law.sigma))
        return float(special.ndtr(z)), _exp(log_partial)
    assert isinstance(law, Beta)
    a, b = law.alpha, law.beta
    m = min(m, 1.0)
    return float(special.betainc(a, b, m)), a / (a + b) * float(special.betainc(a + 1.0, b, m))


def _mean_abs(law: Real, m: float) -> float:
    """E|X - m|."""
    mean = _mean_variance(law)[0]
    if isinstance(law, Normal):
        d, s = law.mean - m, law.std
        return s * math.sqrt(2.0 / math.pi) * math.exp(-0.5 * _sq(d / s)) + d * math.erf(
            d / (s * math.sqrt(2.0))
        )
    if isinstance(law, Laplace):
        d = abs(law.loc - m)
        return d + law.scale * math.exp(-d / law.scale)
    if isinstance(law, Uniform):
        a, b = law.low, law.high
        if m <= a or m >= b:
            return abs(mean - m)
        return (_sq(m - a) + _sq(b - m)) / (2.0 * (b - a))
    if m <= 0.0 or math.isinf(mean):
        return mean - m
    cdf, partial = _below(law, m)
    return max(mean - m + 2.0 * (m * cdf - partial), 0.0)


def _outside(p: Real, q: Real) -> str | None:
    (p_lo, p_hi), (q_lo, q_hi) = _support(p), _support(q)
    if p_lo >= q_lo and p_hi <= q_hi:
        return None
    return f"P has mass on [{p_lo:g}, {p_hi:g}] outside Q's support [{q_lo:g}, {q_hi:g}]"


def _cross(p: Real, q: Real) -> float:
    """-E_P log q(X), P's support inside Q's."""
    if isinstance(q, Normal):
        mean, var = _mean_variance(p)
        s = q.std
        return 0.5 * _LOG_2PI + math.log(s) + 0.5 * (var / _sq(s) + _sq((mean - q.mean) / s))
    if isinstance(q, Laplace):
        return math.log(2.0 * q.scale) + _mean_abs(p, q.loc) / q.scale
    if isinstance(q, Uniform):
        return math.log(q.high - q.low)
    if isinstance(q, Gamma):
        k, rate = q.shape, q.rate
        log_term = 0.0 if k == 1.0 else (k - 1.0) * _log_moments(p)[0]
        mean = _mean_variance(p)[0]
        return float(special.gammaln(k)) - k * math.log(rate) - log_term + rate * mean
    if isinstance(q, LogNormal):
        mean_log, var_log = _log_moments(p)
        s = q.sigma
        spread = 0.5 * (var_log / _sq(s) + _sq((mean_log - q.mu) / s))
        return mean_log + 0.5 * _LOG_2PI + math.log(s) + spread
    assert isinstance(q, Beta)
    a, b = q.alpha, q.beta
    log_x = 0.0 if a == 1.0 else (a - 1.0) * _log_moments(p)[0]
    log_1mx = 0.0 if b == 1.0 else (b - 1.0) * _mean_log_complement(p)
    return float(special.betaln(a, b)) - log_x - log_1mx


def cross_entropy(p: Real, q: Real) -> tuple[float, str | None]:
    """H(P, Q) = -E_P log q(X), and why it is +inf where it is."""
    p, q = _as_gamma(p), _as_gamma(q)
    reason = _outside(p, q)
    return (math.inf, reason) if reason is not None else (_cross(p, q), None)


def _normal_kl(m1: float, s1: float, m2: float, s2: float) -> float:
    log_r2 = 2.0 * (math.log(s1) - math.log(s2))
    return 0.5 * (_exp(log_r2) - 1.0 - log_r2) + 0.5 * _sq((m1 - m2) / s2)


def _same_family_kl(p: Real, q: Real) -> float | None:
    if isinstance(p, Normal) and isinstance(q, Normal):
        return _normal_kl(p.mean, p.std, q.mean, q.std)
    if isinstance(p, LogNormal) and isinstance(q, LogNormal):  # KL is invariant under exp
        return _normal_kl(p.mu, p.sigma, q.mu, q.sigma)
    if isinstance(p, Gamma) and isinstance(q, Gamma):
        k1, b1, k2, b2 = p.shape, p.rate, q.shape, q.rate
        lgammas = float(special.gammaln(k2) - special.gammaln(k1))
        rates = k2 * math.log(b1 / b2) + k1 * (b2 - b1) / b1
        return float((k1 - k2) * special.digamma(k1)) + lgammas + rates
    if isinstance(p, Beta) and isinstance(q, Beta):
        a1, b1, a2, b2 = p.alpha, p.beta, q.alpha, q.beta
        lbetas = float(special.betaln(a2, b2) - special.betaln(a1, b1))
        digammas = (a1 - a2) * special.digamma(a1) + (b1 - b2) * special.digamma(b1)
        return lbetas + float(digammas + (a2 - a1 + b2 - b1) * special.digamma(a1 + b1))
    if isinstance(p, Laplace) and isinstance(q, Laplace):
        d, b1, b2 = abs(p.loc - q.loc), p.scale, q.scale
        return math.log(b2 / b1) + d / b2 + b1 / b2 * math.exp(-d / b1) - 1.0
    if isinstance(p, Uniform) and isinstance(q, Uniform):
        return math.log((q.high - q.low) / (p.high - p.low))
    return None


def kl_divergence(p: Real, q: Real) -> tuple[float, str | None]:
    """D(P || Q) = E_P log(p(X) / q(X)) >= 0, and why it is +inf where it is."""
    p, q = _as_gamma(p), _as_gamma(q)
    reason = _outside(p, q)
    if reason is not None:
        return math.inf, reason
    same = _same_family_kl(p, q)
    value = _cross(p, q) - entropy(p) if same is None else same
    return max(value, 0.0), None

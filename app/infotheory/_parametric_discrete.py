"""Laws on the integers 0, 1, 2, ...: Bernoulli, binomial, Poisson, geometric (in nats).

Closed forms where they exist; otherwise an exact sum over P's support, truncated where the
mass left out is below 1e-20 (a window of ``mean +- (20 sd + 30)`` for binomial and Poisson,
``(1 - p)^k < 1e-25`` for geometric), in chunks so memory stays constant. Log-probabilities
use Loader's saddle-point form (``stirlerr`` and ``bd0``), accurate to a few ulps where
``gammaln`` differences lose digits (``n = 10**9`` loses six).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import special

from app.infotheory._arrays import Float64Array
from app.infotheory._parametric_laws import Bernoulli, Binomial, Estimate, Geometric, Poisson

__all__ = ["Counting", "entropy", "pair", "sum_terms", "terms"]

Counting = Binomial | Poisson | Geometric
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_CHUNK = 2**16
_GEOMETRIC_TAIL = math.log(1e-25)


def _stirlerr(n: Float64Array) -> Float64Array:
    """``log(n!) - ((n + 1/2) log n - n + log(2 pi) / 2)`` for n >= 1."""
    out = np.empty_like(n)
    small = n <= 15.0
    s = n[small]
    out[small] = special.gammaln(s + 1.0) - (s + 0.5) * np.log(s) + s - _HALF_LOG_2PI
    b = n[~small]
    nn = b * b
    out[~small] = (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - 1 / 1188 / nn) / nn) / nn) / nn) / b
    return out


def _bd0(x: Float64Array, m: Float64Array | float) -> Float64Array:
    """``x log(x / m) + m - x`` (m > 0), by its series where x is near m."""
    m = np.broadcast_to(np.asarray(m, dtype=np.float64), x.shape)
    out: Float64Array = special.xlogy(x, x) - special.xlogy(x, m) + m - x
    near = np.abs(x - m) < 0.1 * (x + m)
    if near.any():
        xs, ms = x[near], m[near]
        v = (xs - ms) / (xs + ms)
        total = (xs - ms) * v
        term = 2.0 * xs * v
        v2 = v * v
        for j in range(1, 12):  # |v| < 0.1: each term is 100 times smaller
            term = term * v2
            total = total + term / (2 * j + 1)
        out[near] = total
    return out


def _log_pmf(law: Counting, k: Float64Array) -> Float64Array:
    """log P(k) for integers k inside the law's support."""
    if isinstance(law, Geometric):
        linear: Float64Array = math.log(law.p) + special.xlog1py(k, -law.p)
        return linear
    if isinstance(law, Poisson):
        if law.rate == 0.0:
            return np.where(k == 0, 0.0, -np.inf)
        out = np.full_like(k, -law.rate)
        pos = k > 0
        kp = k[pos]
        out[pos] = -_stirlerr(kp) - _bd0(kp, law.rate) - _HALF_LOG_2PI - 0.5 * np.log(kp)
        return out
    n, p = float(law.n), law.p
    if p == 0.0 or p == 1.0 or n == 0.0:
        at = 0.0 if p == 0.0 else n
        return np.where(k == at, 0.0, -np.inf)
    out = np.empty_like(k)
    out[k == 0] = n * math.log1p(-p)
    out[k == n] = n * math.log(p)
    inner = (k > 0) & (k < n)
    x = k[inner]
    log_c = _stirlerr(np.array([n]))[0] - _stirlerr(x) - _stirlerr(n - x)
    lc = log_c - _bd0(x, n * p) - _bd0(n - x, n * (1.0 - p))
    out[inner] = lc - 0.5 * (2 * _HALF_LOG_2PI + np.log(x) + np.log1p(-x / n))
    return out


def _support(law: Counting) -> tuple[int, float]:
    """Smallest and largest k of positive probability (the largest may be inf)."""
    if isinstance(law, Binomial):
        if law.p == 0.0:
            return 0, 0
        return (law.n, law.n) if law.p == 1.0 else (0, law.n)
    if isinstance(law, Poisson):
        return (0, 0) if law.rate == 0.0 else (0, math.inf)
    return (0, 0) if law.p == 1.0 else (0, math.inf)


def _window(law: Counting) -> tuple[int, int]:
    """The k summed over: P's support, but for mass below about 1e-20."""
    lo, hi = _support(law)
    if lo == hi:
        return lo, lo
    if isinstance(law, Geometric):
        return 0, math.ceil(min(_GEOMETRIC_TAIL / math.log1p(-law.p), 2.0**62))
    if isinstance(law, Poisson):
        mean, sd = law.rate, math.sqrt(law.rate)
    else:
        mean, sd = law.n * law.p, math.sqrt(law.n * law.p * (1.0 - law.p))
    # in integers: in floats, mean +- reach rounds back to the mean once the rate is above
    # about 1e34, and the window would collapse to one term
    reach = math.ceil(20.0 * sd + 30.0)
    low = max(lo, math.floor(mean) - reach)
    high = math.ceil(mean) + reach
    return low, high if hi == math.inf else min(int(hi), high)


def terms(law: Counting) -> int:
    """How many terms an exact sum over P's window takes."""
    lo, hi = _window(law)
    return hi - lo + 1


def _mean(law: Counting) -> float:
    if isinstance(law, Binomial):
        return law.n * law.p
    if isinstance(law, Poisson):
        return law.rate
    return (1.0 - law.p) / law.p


def _sum(
    p: Counting, term: Callable[[Float64Array, Float64Array, Float64Array], Float64Array]
) -> float:
    """sum over P's window of term(P(k), log P(k), k), chunk by chunk."""
    lo, hi = _window(p)
    total = 0.0
    for start in range(lo, hi + 1, _CHUNK):
        k = np.arange(start, min(start + _CHUNK, hi + 1), dtype=np.float64)
        log_p = _log_pmf(p, k)
        w = np.exp(log_p)
        with np.errstate(invalid="ignore"):  # 0 x inf where P(k) underflows: 0 log 0 = 0
            total += float(np.sum(np.where(w > 0, term(w, log_p, k), 0.0)))
    return total


def _as_counting(law: Counting | Bernoulli) -> Counting:
    return Binomial(1, law.p) if isinstance(law, Bernoulli) else law


def _bernoulli_entropy(p: float) -> float:
    return float(special.entr(p) + special.entr(1.0 - p))


def _bernoulli_kl(p: float, q: float) -> float:
    return float(special.rel_entr(p, q) + special.rel_entr(1.0 - p, 1.0 - q))


def _bernoulli_cross(p: float, q: float) -> float:
    return float(-special.xlogy(p, q) - special.xlog1py(1.0 - p, -q))


def _outside(p: Counting, q: Counting) -> str | None:
    """Why P gives probability to k that Q rules out, or None when Q covers P's support."""
    (p_lo, p_hi), (q_lo, q_hi) = _support(p), _support(q)
    if p_lo >= q_lo and p_hi <= q_hi:
        return None
    shown = [f"{k:g}" for k in (p_lo, p_hi)]
    events = f"k = {shown[0]}" if p_lo == p_hi else f"k in {shown[0]}..{shown[1]}"
    reach = f"k = {q_lo}" if q_lo == q_hi else f"k in {q_lo}..{q_hi:g}"
    return f"P gives probability to {events}; Q only to {reach}"


def _closed_entropy(law: Counting | Bernoulli) -> float | None:
    if isinstance(law, Bernoulli):
        return _bernoulli_entropy(law.p)
    if isinstance(law, Geometric):
        return _bernoulli_entropy(law.p) / law.p
    lo, hi = _support(law)
    return 0.0 if lo == hi else None


def _closed_pair(p: Counting, q: Counting, measure: str) -> float | None:
    """The closed form of ``measure`` (cross_entropy or kl_divergence) where there is one."""
    if measure == "cross_entropy":
        if isinstance(q, Geometric):  # log Q(k) is linear in k: only E_P[k] is needed
            return -math.log(q.p) - float(special.xlog1py(_mean(p), -q.p))
        if isinstance(p, Binomial) and isinstance(q, Binomial) and p.n == q.n == 1:
            return _bernoulli_cross(p.p, q.p)
        return None
    if isinstance(p, Binomial) and isinstance(q, Binomial) and p.n == q.n:
        return p.n * _bernoulli_kl(p.p, q.p)
    if isinstance(p, Poisson) and isinstance(q, Poisson):
        if p.rate == 0.0:  # a point mass at 0, which Q (rate mu) gives exp(-mu)
            return q.rate
        return float(_bd0(np.array([p.rate]), q.rate)[0])  # rate log(rate/mu) + mu - rate
    if isinstance(p, Geometric) and isinstance(q, Geometric):
        return _bernoulli_kl(p.p, q.p) / p.p
    return None


def entropy(law: Counting | Bernoulli) -> Estimate:
    """H(P) in nats."""
    closed = _closed_entropy(law)
    if closed is not None:
        return Estimate(closed, "closed form")
    pc = _as_counting(law)
    value = _sum(pc, lambda w, lp, k: -w * lp)
    return Estimate(max(value, 0.0), "exact sum", terms=terms(pc))


def pair(p: Counting | Bernoulli, q: Counting | Bernoulli, measure: str) -> Estimate:
    """``measure`` of (P, Q) in nats: ``cross_entropy`` (-sum P log Q) or ``kl_divergence``
    (sum P log(P / Q)); +inf, with the reason, where P gives probability that Q rules out."""
    pc, qc = _as_counting(p), _as_counting(q)
    reason = _outside(pc, qc)
    if reason is not None:
        return Estimate(math.inf, "closed form", infinite_reason=reason)
    closed = _closed_pair(pc, qc, measure)
    if closed is not None:
        return Estimate(max(closed, 0.0), "closed form")
    if measure == "cross_entropy":
        value = _sum(pc, lambda w, lp, k: -w * _log_pmf(qc, k))
    else:
        value = _sum(pc, lambda w, lp, k: w * (lp - _log_pmf(qc, k)))
    return Estimate(max(value, 0.0), "exact sum", terms=terms(pc))


def sum_terms(p: Counting | Bernoulli, q: Counting | Bernoulli | None, measure: str) -> int:
    """Terms the exact sum of ``measure`` takes (0 for closed forms and infinities), so that
    a caller can refuse before the work."""
    pc = _as_counting(p)
    if q is None:
        return 0 if _closed_entropy(p) is not None else terms(pc)
    qc = _as_counting(q)
    if _outside(pc, qc) is not None or _closed_pair(pc, qc, measure) is not None:
        return 0
    return terms(pc)

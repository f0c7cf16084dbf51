"""Estimators from counts: entropy with bias corrections, plug-in divergences, the bootstrap.

Counts are a 1-D array of non-negative integers (as float64 or int64) with a positive total
``N``; ``K_obs`` is the number of categories seen (count > 0). Every entropy estimator
returns nats divided by the unit's ``ln(base)``:

==============  ==========================================================================
plugin          ``-sum (n_i/N) ln(n_i/N)``
miller_madow    plug-in ``+ (K_obs - 1) / (2N)`` (Miller 1955)
grassberger     ``ln N - (1/N) sum n_i G(n_i)``, ``G(n) = psi(n) + (-1)^n/2 (psi((n+1)/2) -
                psi(n/2))``: the 2003 estimator (Grassberger, arXiv:physics/0307138, eq. 35),
                not the 1988 one with ``(-1)^n / (n + 1)``
chao_shen       coverage-adjusted Horvitz-Thompson (Chao and Shen 2003): ``C = 1 - f1/N``
                (``f1`` singletons; ``f1 = N - 1`` when every count is 1), ``pa = C n_i/N``,
                ``-sum pa ln pa / (1 - (1 - pa)^N)``
nsb             Nemenman, Shafee and Bialek (2002): the posterior mean of H under a mixture
                of symmetric Dirichlet(beta) priors on ``K`` categories, mixed so that the
                prior on H is flat (weight ``d xi / d beta``, ``xi(beta) = E[H | beta]``)
==============  ==========================================================================

The plug-in divergences (:func:`kl_counts`, :func:`js_counts`, :func:`mi_counts`) work on
batches of count rows, so that :func:`bootstrap` can score many multinomial resamples at
once; :func:`percentile_interval` and :func:`bca_interval` turn the scores into intervals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special

from app.infotheory._arrays import Float64Array
from app.infotheory.divergence import kl_divergence
from app.infotheory.entropy import entropy
from app.infotheory.jensen_shannon import js_divergence
from app.infotheory.units import nats_per_unit

__all__ = [
    "ENTROPY_ESTIMATORS",
    "NSB_MAX_TOTAL",
    "CountStatistic",
    "NsbEstimate",
    "bca_interval",
    "bootstrap",
    "chao_shen_entropy",
    "grassberger_entropy",
    "grassberger_g",
    "jackknife_acceleration",
    "js_counts",
    "kl_counts",
    "mi_counts",
    "miller_madow_entropy",
    "nsb_entropy",
    "percentile_interval",
    "plugin_entropy",
]

ENTROPY_ESTIMATORS = ("plugin", "miller_madow", "grassberger", "chao_shen", "nsb")
NSB_MAX_TOTAL = 10**10
"""Most observations NSB takes: beyond, the log-likelihood's variation over beta (order 1)
drowns in the rounding of its size (order N) where beta is large."""
CountStatistic = Callable[..., Float64Array]
"""A statistic of count batches: one ``(R, K_s)`` float64 array per sample in, ``(R,)``
values in nats out."""


def _counts(counts: ArrayLike) -> tuple[Float64Array, float]:
    """The counts as float64 and their total; ``ValueError`` for a bad vector."""
    arr = np.asarray(counts, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError("counts must be a non-empty 1-D array")
    if not np.isfinite(arr).all() or (arr < 0).any() or (arr != np.floor(arr)).any():
        raise ValueError("counts must be non-negative integers")
    total = float(arr.sum())
    if total <= 0:
        raise ValueError("counts must not all be 0")
    return arr, total


def _plugin_nats(n: Float64Array, total: float) -> float:
    seen = n[n > 0]
    return max(0.0, math.log(total) - float(seen @ np.log(seen)) / total)


def plugin_entropy(counts: ArrayLike, unit: str = "nats") -> float:
    """The plug-in (maximum-likelihood) entropy of the empirical distribution."""
    n, total = _counts(counts)
    return _plugin_nats(n, total) / nats_per_unit(unit)


def miller_madow_entropy(counts: ArrayLike, unit: str = "nats") -> float:
    """Plug-in plus Miller's first-order bias correction ``(K_obs - 1) / (2N)`` nats."""
    n, total = _counts(counts)
    seen = int((n > 0).sum())
    return (_plugin_nats(n, total) + (seen - 1) / (2.0 * total)) / nats_per_unit(unit)


def grassberger_g(n: ArrayLike) -> Float64Array:
    """Grassberger's (2003) ``G(n) = psi(n) + (-1)^n / 2 (psi((n + 1)/2) - psi(n/2))``."""
    arr = np.asarray(n, dtype=np.float64)
    sign = np.where(np.mod(arr, 2.0) == 0.0, 1.0, -1.0)
    g: Float64Array = special.digamma(arr) + 0.5 * sign * (
        special.digamma((arr + 1.0) / 2.0) - special.digamma(arr / 2.0)
    )
    return g


def grassberger_entropy(counts: ArrayLike, unit: str = "nats") -> float:
    """Grassberger's 2003 estimator ``ln N - (1/N) sum n_i G(n_i)`` (never below 0)."""
    n, total = _counts(counts)
    seen = n[n > 0]
    nats = math.log(total) - float(seen @ grassberger_g(seen)) / total
    return max(0.0, nats) / nats_per_unit(unit)


def chao_shen_entropy(counts: ArrayLike, unit: str = "nats") -> float:
    """Chao and Shen's coverage-adjusted Horvitz-Thompson estimator."""
    n, total = _counts(counts)
    seen = n[n > 0]
    singletons = float((seen == 1).sum())
    if singletons == total:  # every count 1: coverage 0 would make every pa 0
        singletons = total - 1.0
    coverage = 1.0 - singletons / total
    pa = coverage * seen / total
    # 1 - (1 - pa)^N, without losing pa^2 terms to rounding when pa is tiny
    with np.errstate(divide="ignore"):  # pa = 1: one category, seen for sure
        seen_at_all = -np.expm1(total * np.log1p(-pa))
    nats = -float(np.sum(pa * np.log(pa) / seen_at_all))
    return max(0.0, nats) / nats_per_unit(unit)


# -- NSB -------------------------------------------------------------------------------------

_STIRLING_FROM = 100.0
"""Above this argument, log-gamma differences use Stirling's series (no cancellation)."""


def _stirling_tail(x: Float64Array) -> Float64Array:
    """``lgamma(x) - ((x - 1/2) ln x - x + ln(2 pi) / 2)`` for ``x >= 100`` (error < 1e-18)."""
    inv = 1.0 / x
    inv2 = inv * inv
    tail: Float64Array = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)))
    return tail


def _log_rising(x: Float64Array, n: Float64Array) -> Float64Array:
    """``ln Gamma(x + n) - ln Gamma(x)`` for ``n <= x`` (Stirling's series from x = 100)."""
    out = np.empty(x.shape)
    big = x >= _STIRLING_FROM
    small = ~big
    out[small] = special.gammaln(x[small] + n[small]) - special.gammaln(x[small])
    xb, nb = x[big], n[big]
    out[big] = (
        (xb - 0.5) * np.log1p(nb / xb)
        + nb * np.log(xb + nb)
        - nb
        + _stirling_tail(xb + nb)
        - _stirling_tail(xb)
    )
    return out


def _log_beta_ratio(a: Float64Array, b: Float64Array) -> Float64Array:
    """``ln Gamma(a + b) - ln Gamma(a) - ln Gamma(b)`` (symmetric), to an absolute error of
    a few ulps of ``min(a, b) ln max(a, b)``: no huge log-gammas cancel, so the NSB
    likelihood stays smooth for counts up to 2**53 at small beta and for beta up to e^60."""
    a, b = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64))
    high, low = np.maximum(a, b), np.minimum(a, b)
    out: Float64Array = _log_rising(high, low) - special.gammaln(low)
    return out


def _trigamma(x: Float64Array | float) -> Float64Array:
    """``psi1(x)`` for ``x > 0``: the recurrence ``psi1(x) = psi1(x + 1) + 1/x^2`` up to 12,
    then the asymptotic series (error below 1e-16 there); scipy's ``zeta`` costs tens of
    times more on large arrays."""
    y = np.array(x, dtype=np.float64)
    if y.size <= 64:  # few values: the call's overhead dominates, and zeta's is least
        small: Float64Array = special.zeta(2.0, y)
        return small
    shifted = np.zeros(y.shape)
    low = y < 12.0
    while low.any():
        shifted[low] += 1.0 / (y[low] * y[low])
        y[low] += 1.0
        low = y < 12.0
    inv = 1.0 / y
    inv2 = inv * inv
    series = inv2 * (
        1 / 6
        - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 * (1 / 30 - inv2 * (5 / 66 - inv2 * 691 / 2730))))
    )
    out: Float64Array = shifted + inv + inv2 / 2.0 + inv * series
    return out


def _dxi_dbeta(beta: Float64Array, k: float) -> Float64Array:
    """``d/d beta [psi(K beta + 1) - psi(beta + 1)] = K psi1(K beta + 1) - psi1(beta + 1)``.

    For large beta the two terms nearly cancel; there, the asymptotic series of the
    difference is used."""
    beta = np.asarray(beta, dtype=np.float64)
    inv_k = 1.0 / k
    with np.errstate(over="ignore"):
        b2 = beta * beta
        series = (
            (1.0 - inv_k) / (2.0 * b2)
            - (1.0 - inv_k**2) / (6.0 * b2 * beta)
            + (1.0 - inv_k**4) / (30.0 * b2 * b2 * beta)
            - (1.0 - inv_k**6) / (42.0 * b2 * b2 * b2 * beta)
        )
    direct = k * _trigamma(k * beta + 1.0) - _trigamma(beta + 1.0)
    out: Float64Array = np.where(beta < _STIRLING_FROM, direct, series)
    return out


@dataclass(frozen=True)
class NsbEstimate:
    """The NSB posterior mean and standard deviation of the entropy (in the unit), and the
    number of categories ``K`` assumed."""

    value: float
    std: float
    categories: int


class _NsbPosterior:
    """The NSB integrand over ``t = ln beta``, from the distinct counts and their
    multiplicities (the cost does not grow with ``K`` or with unseen categories)."""

    def __init__(self, seen: Float64Array, categories: int) -> None:
        self.values, multiplicity = np.unique(seen, return_counts=True)
        self.mult = multiplicity.astype(np.float64)
        self.total = float(seen.sum())
        self.k = float(categories)
        self.unseen = float(categories - seen.size)

    def log_weight(self, t: Float64Array) -> Float64Array:
        """``ln`` of likelihood x ``d xi / d beta`` x ``beta`` (the Jacobian of ``t``), for
        an array of ``t``."""
        t = np.asarray(t, dtype=np.float64)
        beta = np.exp(t)
        # sum_i ln[Gamma(n_i + b) / Gamma(b)] - ln[Gamma(N + K b) / Gamma(K b)], less the
        # constant sum_i ln Gamma(n_i) - ln Gamma(N)
        seen: Float64Array = _log_beta_ratio(beta[:, np.newaxis], self.values) @ self.mult
        log_like = seen - _log_beta_ratio(self.k * beta, np.full(beta.shape, self.total))
        out: Float64Array = log_like + np.log(_dxi_dbeta(beta, self.k)) + t
        return out

    def moments(self, beta: Float64Array) -> tuple[Float64Array, Float64Array]:
        """``E[H | n, beta]`` and ``E[H^2 | n, beta]`` in nats (Wolpert and Wolf 1995), for
        an array of ``beta``."""
        b = np.asarray(beta, dtype=np.float64)[:, np.newaxis]
        a = self.values + b  # the posterior Dirichlet's parameters, seen categories
        m, u0 = self.mult, self.unseen
        big_a = self.total + self.k * b[:, 0]
        psi_a1, psi_a2 = special.digamma(big_a + 1.0), special.digamma(big_a + 2.0)
        tri_a2 = _trigamma(big_a + 2.0)
        psi_seen, psi_unseen = special.digamma(a + 1.0), special.digamma(b[:, 0] + 1.0)
        b = b[:, 0]
        first = psi_a1 - ((a * psi_seen) @ m + u0 * b * psi_unseen) / big_a
        u = a * (psi_seen - psi_a2[:, np.newaxis])
        u_unseen = b * (psi_unseen - psi_a2)
        sum_u = u @ m + u0 * u_unseen
        sum_u2 = (u * u) @ m + u0 * u_unseen**2
        sum_a2 = (a * a) @ m + u0 * b**2
        cross = sum_u**2 - sum_u2 - (big_a**2 - sum_a2) * tri_a2

        def diagonal(x: Float64Array, psi_a: Float64Array, tri_a: Float64Array) -> Float64Array:
            gap = special.digamma(x + 2.0) - psi_a
            term: Float64Array = x * (x + 1.0) * (gap * gap + _trigamma(x + 2.0) - tri_a)
            return term

        diag = diagonal(a, psi_a2[:, np.newaxis], tri_a2[:, np.newaxis]) @ m
        diag += u0 * diagonal(b, psi_a2, tri_a2)
        second: Float64Array = (cross + diag) / (big_a * (big_a + 1.0))
        return first, second

    def integrand(self, t: Float64Array, top: float) -> Float64Array:
        """Rows: the posterior weight (scaled by its peak, ``e^top``), and the weight times
        the first and second moments of H, at each ``t``; in chunks of bounded memory."""
        out = np.empty((3, t.size))
        rows = max(1, _NSB_CELLS // max(1, self.values.size))
        for start in range(0, t.size, rows):
            part = t[start : start + rows]
            weight = np.exp(self.log_weight(part) - top)
            first, second = self.moments(np.exp(part))
            out[:, start : start + part.size] = weight, weight * first, weight * second
        return out


_NSB_CELLS = 2**16
"""Quadrature nodes x distinct counts evaluated at once."""
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(16)


def _nsb_range(post: _NsbPosterior) -> tuple[float, float, float, float]:
    """The peak of the log integrand over ``t`` and the range outside which it has dropped
    by more than 40 below it (a relative mass below 1e-17): the grid finds the peak, Brent's
    method places it and the range's ends."""

    def log_weight(t: float) -> float:
        return float(post.log_weight(np.array([t]))[0])

    grid = np.linspace(-60.0, 60.0, 241)
    logs = post.log_weight(grid)
    best = int(np.argmax(logs))
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
    found = optimize.minimize_scalar(
        lambda t: -log_weight(t), bounds=(low, high), method="bounded", options={"xatol": 1e-7}
    )
    peak, top = float(found.x), -float(found.fun)
    if logs[best] > top:
        peak, top = float(grid[best]), float(logs[best])

    def drop(t: float) -> float:
        return log_weight(t) - (top - 40.0)

    ends = []
    for edge in (grid[0], grid[-1]):
        ends.append(float(edge) if drop(edge) >= 0 else optimize.brentq(drop, edge, peak))
    return peak, top, ends[0], ends[1]


def _nsb_integrals(post: _NsbPosterior) -> Float64Array:
    """``[Z, Z E[H], Z E[H^2]]`` over ``t``: 16-point Gauss-Legendre on panels on either side
    of the peak, the panels doubled until two rounds agree."""
    peak, top, lo, hi = _nsb_range(post)
    # Z, Z E[H] and Z E[H^2] to 1e-12 of Z, Z ln K and Z (ln K)^2: H to 1e-12 of ln K
    scale = max(1.0, math.log(post.k))
    tolerance = 1e-12 * np.array([1.0, scale, scale * scale])
    previous = None
    panels = 4
    while True:
        edges = np.concatenate(
            [np.linspace(lo, peak, panels + 1)[:-1], np.linspace(peak, hi, panels + 1)]
        )
        half = np.diff(edges)[:, np.newaxis] / 2.0
        nodes = ((edges[:-1, np.newaxis] + edges[1:, np.newaxis]) / 2.0 + half * _NODES).ravel()
        values = post.integrand(nodes, top).reshape(3, -1, _NODES.size)
        total: Float64Array = np.einsum("rpn,n,p->r", values, _WEIGHTS, half[:, 0])
        if previous is not None and np.all(np.abs(total - previous) <= tolerance * total[0]):
            return total
        if panels >= 1024:
            return total
        previous, panels = total, panels * 2


def nsb_entropy(
    counts: ArrayLike, categories: int | None = None, unit: str = "nats"
) -> NsbEstimate:
    """The NSB estimate: posterior mean and standard deviation of H over ``categories``
    (``K``; default the categories seen, a lower bound of the true ``K``).

    The integrals over ``beta`` run in ``t = ln beta`` over ``(-60, 60)``, cut where the
    integrand falls below ``e^-40`` of its peak, by Gauss-Legendre panels refined until they
    agree to 1e-12; the integrand is scaled by its peak so that it never underflows."""
    n, total = _counts(counts)
    if total > NSB_MAX_TOTAL:
        raise ValueError(f"NSB takes at most {NSB_MAX_TOTAL} observations, got {total:.0f}")
    seen = n[n > 0]
    k = seen.size if categories is None else int(categories)
    if k < seen.size:
        raise ValueError(f"categories ({k}) is below the categories seen ({seen.size})")
    scale = nats_per_unit(unit)
    if k == 1:
        return NsbEstimate(0.0, 0.0, 1)
    z, first, second = _nsb_integrals(_NsbPosterior(seen, k))
    mean = first / z
    variance = max(0.0, second / z - mean * mean)
    mean = min(max(0.0, mean), math.log(k))
    return NsbEstimate(float(mean) / scale, math.sqrt(variance) / scale, k)


# -- plug-in divergences of count batches ----------------------------------------------------


def _rows(counts: Float64Array) -> Float64Array:
    """Each row divided by its total (rows of counts to rows of frequencies)."""
    rows = np.atleast_2d(np.asarray(counts, dtype=np.float64))
    freq: Float64Array = rows / rows.sum(axis=-1, keepdims=True)
    return freq


def kl_counts(p_counts: Float64Array, q_counts: Float64Array) -> Float64Array:
    """Plug-in ``D(p || q)`` in nats per row of counts; ``+inf`` where a row's p has a count
    that its q does not."""
    value = kl_divergence(_rows(p_counts), _rows(q_counts))
    return np.atleast_1d(np.asarray(value, dtype=np.float64))


def js_counts(p_counts: Float64Array, q_counts: Float64Array) -> Float64Array:
    """Plug-in Jensen-Shannon divergence in nats per row of counts (in ``[0, ln 2]``)."""
    value = js_divergence(_rows(p_counts), _rows(q_counts))
    return np.atleast_1d(np.asarray(value, dtype=np.float64))


def mi_counts(tables: Float64Array, shape: tuple[int, int]) -> Float64Array:
    """Plug-in mutual information ``H(X) + H(Y) - H(X, Y)`` in nats per row, each row a
    flattened ``shape`` table of counts; clamped into ``[0, min(H(X), H(Y))]``."""
    cells = _rows(tables)
    joint = cells.reshape(-1, *shape)
    hx = np.atleast_1d(np.asarray(entropy(joint.sum(axis=2)), dtype=np.float64))
    hy = np.atleast_1d(np.asarray(entropy(joint.sum(axis=1)), dtype=np.float64))
    hxy = np.atleast_1d(np.asarray(entropy(cells), dtype=np.float64))
    mi: Float64Array = np.clip(hx + hy - hxy, 0.0, np.minimum(hx, hy))
    return mi + 0.0


# -- the bootstrap ---------------------------------------------------------------------------


def bootstrap(
    statistic: CountStatistic,
    samples: Sequence[Float64Array],
    resamples: int,
    seed: int,
    chunk_cells: int = 2**18,
) -> Float64Array:
    """The statistic of ``resamples`` multinomial resamples of every sample's counts (each
    sample resampled on its own, with its own total), drawn ``chunk_cells`` cells at a time
    so that memory stays bounded; seeded by ``seed``."""
    rng = np.random.default_rng(seed)
    totals = [int(s.sum()) for s in samples]
    freqs = [s / s.sum() for s in samples]
    width = sum(s.size for s in samples)
    rows = max(1, chunk_cells // width)
    out = np.empty(resamples)
    for start in range(0, resamples, rows):
        size = min(rows, resamples - start)
        drawn = [
            rng.multinomial(n, p, size=size).astype(np.float64)
            for n, p in zip(totals, freqs, strict=True)
        ]
        out[start : start + size] = statistic(*drawn)
    return out


def jackknife_acceleration(
    statistic: CountStatistic, samples: Sequence[Float64Array], chunk_cells: int = 2**18
) -> float:
    """BCa's acceleration from the delete-one jackknife of every sample.

    Deleting any one of the ``c_j`` observations of category ``j`` gives the same counts, so
    each category is scored once and weighted by ``c_j``. With ``l`` the jackknife influence
    values ``(n_s - 1)(mean - theta_(i))`` of sample ``s``, ``a = sum_s n_s^-3 sum l^3 /
    (6 (sum_s n_s^-2 sum l^2)^(3/2))`` (Davison and Hinkley 1997, as ``scipy.stats.bootstrap``).
    NaN when a deleted sample is empty (a sample of one) or a jackknife value is infinite.
    """
    numerator = denominator = 0.0
    for index, counts in enumerate(samples):
        total = float(counts.sum())
        if total < 2:
            return math.nan
        cats = np.flatnonzero(counts)
        weights = counts[cats]
        values = np.empty(cats.size)
        rows = max(1, chunk_cells // sum(s.size for s in samples))
        for start in range(0, cats.size, rows):
            chunk = cats[start : start + rows]
            batch = [np.broadcast_to(s, (chunk.size, s.size)) for s in samples]
            deleted = np.repeat(counts[np.newaxis, :], chunk.size, axis=0)
            deleted[np.arange(chunk.size), chunk] -= 1.0
            batch[index] = deleted
            values[start : start + chunk.size] = statistic(*batch)
        if not np.isfinite(values).all():
            return math.nan
        mean = float(weights @ values) / total
        influence = (total - 1.0) * (mean - values)
        numerator += float(weights @ influence**3) / total**3
        denominator += float(weights @ influence**2) / total**2
    if denominator == 0.0:
        return 0.0
    return float(numerator / (6.0 * denominator**1.5))


def _quantiles(values: Float64Array, *fractions: float) -> list[float]:
    """Linear-interpolation quantiles (numpy's default), but ``+inf`` rather than NaN where
    an infinite value takes part (numpy would interpolate ``inf - inf``)."""
    ordered = np.sort(values)
    out = []
    for fraction in fractions:
        position = fraction * (ordered.size - 1)
        below = int(np.floor(position))
        above = min(below + 1, ordered.size - 1)
        weight = position - below
        low, high = float(ordered[below]), float(ordered[above])
        if math.isinf(high):
            out.append(math.inf if weight > 0 or math.isinf(low) else low)
        else:
            out.append(low + weight * (high - low))
    return out


def percentile_interval(values: Float64Array, confidence: float) -> tuple[float, float]:
    """The equal-tailed percentile interval of bootstrap values."""
    tail = (1.0 - confidence) / 2.0
    low, high = _quantiles(values, tail, 1.0 - tail)
    return low, high


def bca_interval(
    values: Float64Array, estimate: float, acceleration: float, confidence: float
) -> tuple[float, float] | None:
    """Efron's bias-corrected and accelerated interval (Efron and Tibshirani 1993, 14.3),
    or None where it is undefined: every resample on one side of the estimate (the bias
    correction is infinite) or no finite acceleration."""
    if not math.isfinite(acceleration):
        return None
    below = float(np.count_nonzero(values < estimate) + np.count_nonzero(values <= estimate))
    share = below / (2.0 * values.size)
    if share <= 0.0 or share >= 1.0:
        return None
    z0 = float(special.ndtri(share))
    tail = (1.0 - confidence) / 2.0
    fractions = []
    for z in (float(special.ndtri(tail)), -float(special.ndtri(tail))):
        shifted = z0 + z
        stretch = 1.0 - acceleration * shifted
        if stretch <= 0.0:
            return None
        fractions.append(float(special.ndtr(z0 + shifted / stretch)))
    low, high = _quantiles(values, *fractions)
    return low, high

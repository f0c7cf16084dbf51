"""Reference values for the divergence family: scipy, closed forms and hand-derived numbers.

Nothing here is computed by the kernels under test: every expected value comes from scipy
(``rel_entr``, ``entr``, ``stats.entropy``, ``power_divergence``, ``chisquare``,
``wasserstein_distance``, ``spatial.distance``), from a closed form, or from a plain
``math.fsum`` of the defining formula.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats
from scipy.spatial import distance

from app import infotheory as it

RTOL = 1e-12
BASES = {"bits": 2.0, "nats": math.e, "bans": 10.0}


def _pair(n: int, seed: int, zeros_in_p: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p, q = rng.random(n) + 0.01, rng.random(n) + 0.01
    if zeros_in_p and n > 3:
        p[::3] = 0.0
    return p / p.sum(), q / q.sum()


def _bernoulli(s: float) -> np.ndarray:
    return np.array([s, 1.0 - s])


# -- Rényi ----------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.25, 0.5, 0.9, 2.0, 3.0, 7.5])
@pytest.mark.parametrize("n", [2, 10, 1000])
def test_renyi_and_tsallis_divergence_match_cressie_read(alpha: float, n: int) -> None:
    # scipy's Cressie-Read statistic with lambda = alpha - 1 is
    # 2 / (alpha (alpha - 1)) * (sum p^alpha q^(1-alpha) - 1), so
    # Tsallis D_alpha = stat * alpha / 2 and Rényi D_alpha = log1p((alpha - 1) Tsallis) / (alpha - 1).
    p, q = _pair(n, seed=n)
    stat = stats.power_divergence(p, q, lambda_=alpha - 1.0).statistic
    tsallis = stat * alpha / 2.0
    assert it.tsallis_divergence(p, q, alpha) == pytest.approx(tsallis, rel=1e-11)
    renyi = math.log1p((alpha - 1.0) * tsallis) / (alpha - 1.0)
    assert it.renyi_divergence(p, q, alpha) == pytest.approx(renyi, rel=1e-11)


@pytest.mark.parametrize(("s", "t"), [(0.5, 0.25), (0.1, 0.9), (0.3, 0.31), (1e-6, 0.5)])
@pytest.mark.parametrize("alpha", [0.5, 2.0, 4.0])
@pytest.mark.parametrize("unit", ["bits", "nats", "bans"])
def test_renyi_divergence_of_bernoullis(s: float, t: float, alpha: float, unit: str) -> None:
    power_sum = s**alpha * t ** (1 - alpha) + (1 - s) ** alpha * (1 - t) ** (1 - alpha)
    expected = math.log(power_sum, BASES[unit]) / (alpha - 1)
    got = it.renyi_divergence(_bernoulli(s), _bernoulli(t), alpha, unit)
    assert got == pytest.approx(expected, rel=RTOL)


def test_renyi_divergence_special_orders_by_hand() -> None:
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.25, 0.25, 0.5])
    assert it.renyi_divergence(p, q, 0.0) == pytest.approx(-math.log(0.5), rel=RTOL)
    assert it.renyi_divergence(p, q, math.inf) == pytest.approx(math.log(2.0), rel=RTOL)
    assert it.renyi_divergence(p, q, 1.0) == pytest.approx(special.rel_entr(p, q).sum(), rel=RTOL)
    # sum p^2 / q = 0.25 / 0.25 * 2 = 2
    assert it.renyi_divergence(p, q, 2.0, "bits") == pytest.approx(1.0, rel=RTOL)
    # alpha = 1/2 is -2 log BC: BC = 2 sqrt(0.125)
    assert it.renyi_divergence(p, q, 0.5) == pytest.approx(-2 * math.log(2 * math.sqrt(0.125)))


@pytest.mark.parametrize("alpha", [0.0, 0.5, 2.0, 3.0, math.inf])
def test_renyi_entropy_of_uniform_is_log_n(alpha: float) -> None:
    for n in (1, 2, 7, 1000):
        assert it.renyi_entropy(np.full(n, 1.0 / n), alpha) == pytest.approx(math.log(n), rel=RTOL)


@pytest.mark.parametrize("alpha", [0.3, 0.5, 0.8, 1.5, 2.0, 5.0, 40.0])
@pytest.mark.parametrize("n", [3, 100, 10_000])
def test_renyi_entropy_matches_defining_sum(alpha: float, n: int) -> None:
    p, _ = _pair(n, seed=7 * n, zeros_in_p=True)
    expected = math.log(math.fsum(float(x) ** alpha for x in p if x > 0)) / (1 - alpha)
    assert it.renyi_entropy(p, alpha) == pytest.approx(expected, rel=RTOL)


def test_renyi_entropy_named_cases_by_hand() -> None:
    p = np.array([0.5, 0.25, 0.25, 0.0])
    assert it.renyi_entropy(p, 0.0, "bits") == pytest.approx(math.log2(3), rel=RTOL)  # Hartley
    assert it.renyi_entropy(p, 1.0, "bits") == pytest.approx(1.5, rel=RTOL)  # Shannon
    assert it.renyi_entropy(p, 2.0) == pytest.approx(-math.log(0.375), rel=RTOL)  # collision
    assert it.renyi_entropy(p, math.inf, "bits") == pytest.approx(1.0, rel=RTOL)  # min-entropy
    assert it.renyi_entropy(p, 1.0) == pytest.approx(stats.entropy(p), rel=RTOL)


# -- Tsallis --------------------------------------------------------------------------------


@pytest.mark.parametrize("q", [0.5, 2.0, 3.0])
def test_tsallis_entropy_by_hand(q: float) -> None:
    p = np.array([0.5, 0.25, 0.25, 0.0])
    expected = (1 - (0.5**q + 2 * 0.25**q)) / (q - 1)
    assert it.tsallis_entropy(p, q) == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize("q", [0.2, 0.5, 2.0, 4.0])
@pytest.mark.parametrize("n", [2, 5, 1000])
def test_tsallis_entropy_of_uniform_is_q_logarithm(q: float, n: int) -> None:
    expected = (n ** (1 - q) - 1) / (1 - q)
    assert it.tsallis_entropy(np.full(n, 1.0 / n), q) == pytest.approx(expected, rel=RTOL)


def test_tsallis_at_one_is_shannon_and_kl() -> None:
    p, q = _pair(50, seed=3, zeros_in_p=True)
    assert it.tsallis_entropy(p, 1.0) == pytest.approx(stats.entropy(p), rel=RTOL)
    assert it.tsallis_divergence(p, q, 1.0) == pytest.approx(stats.entropy(p, q), rel=RTOL)


def test_tsallis_divergence_of_order_two_is_pearson() -> None:
    p, q = _pair(100, seed=11, zeros_in_p=True)
    expected = stats.chisquare(p, q).statistic
    assert it.tsallis_divergence(p, q, 2.0) == pytest.approx(expected, rel=RTOL)


# -- Hellinger, Bhattacharyya, total variation ----------------------------------------------


@pytest.mark.parametrize(("s", "t"), [(0.5, 0.25), (0.1, 0.9), (0.0, 1.0), (0.3, 0.3001)])
def test_hellinger_and_bhattacharyya_of_bernoullis(s: float, t: float) -> None:
    bc = math.sqrt(s * t) + math.sqrt((1 - s) * (1 - t))
    p, q = _bernoulli(s), _bernoulli(t)
    assert it.bhattacharyya_coefficient(p, q) == pytest.approx(bc, rel=RTOL, abs=1e-15)
    hellinger = math.sqrt(
        0.5 * ((math.sqrt(s) - math.sqrt(t)) ** 2 + (math.sqrt(1 - s) - math.sqrt(1 - t)) ** 2)
    )
    assert it.hellinger_distance(p, q) == pytest.approx(hellinger, rel=RTOL)
    expected = -math.log(bc) if bc > 0 else math.inf
    assert it.bhattacharyya_distance(p, q) == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize("n", [2, 10, 1000, 100_000])
def test_hellinger_matches_scipy_euclidean_of_roots(n: int) -> None:
    p, q = _pair(n, seed=n + 5, zeros_in_p=True)
    expected = distance.euclidean(np.sqrt(p), np.sqrt(q)) / math.sqrt(2.0)
    assert it.hellinger_distance(p, q) == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize("unit", ["bits", "nats", "bans"])
def test_bhattacharyya_distance_in_units(unit: str) -> None:
    p, q = _pair(200, seed=13)
    bc = math.fsum(math.sqrt(a * b) for a, b in zip(p, q, strict=True))
    assert it.bhattacharyya_distance(p, q, unit) == pytest.approx(
        -math.log(bc, BASES[unit]), rel=1e-11
    )


@pytest.mark.parametrize("n", [2, 10, 1000, 100_000])
def test_total_variation_matches_scipy(n: int) -> None:
    p, q = _pair(n, seed=n + 6, zeros_in_p=True)
    assert it.total_variation(p, q) == pytest.approx(distance.braycurtis(p, q), rel=RTOL)
    assert it.total_variation(p, q) == pytest.approx(distance.cityblock(p, q) / 2, rel=RTOL)


# -- chi-square, Jeffreys, PSI ---------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 10, 1000, 100_000])
def test_chi_squares_match_scipy(n: int) -> None:
    p, q = _pair(n, seed=n + 8)
    assert it.pearson_chi_square(p, q) == pytest.approx(stats.chisquare(p, q).statistic, rel=RTOL)
    neyman = stats.power_divergence(p, q, lambda_="neyman").statistic
    assert it.neyman_chi_square(p, q) == pytest.approx(neyman, rel=RTOL)


def test_chi_squares_by_hand() -> None:
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.25, 0.25, 0.5])
    # Pearson: 2 * 0.0625 / 0.25 + 0.25 / 0.5 = 1.0; Neyman: 2 * 0.0625 / 0.5 + inf
    assert it.pearson_chi_square(p, q) == pytest.approx(1.0, rel=RTOL)
    assert it.neyman_chi_square(p, q) == math.inf
    assert it.neyman_chi_square(q, p) == pytest.approx(1.0, rel=RTOL)


@pytest.mark.parametrize("n", [2, 10, 1000, 100_000])
@pytest.mark.parametrize("unit", ["bits", "nats", "bans"])
def test_jeffreys_matches_scipy(n: int, unit: str) -> None:
    p, q = _pair(n, seed=n + 9)
    expected = stats.entropy(p, q, base=BASES[unit]) + stats.entropy(q, p, base=BASES[unit])
    assert it.jeffreys_divergence(p, q, unit) == pytest.approx(expected, rel=RTOL)


def test_psi_by_hand_and_bands() -> None:
    baseline = np.array([0.25, 0.25, 0.25, 0.25])
    current = np.array([0.4, 0.3, 0.2, 0.1])
    expected = math.fsum((c - b) * math.log(c / b) for c, b in zip(current, baseline, strict=True))
    assert it.population_stability_index(current, baseline) == pytest.approx(expected, rel=RTOL)
    rel = special.rel_entr(current, baseline).sum() + special.rel_entr(baseline, current).sum()
    assert it.population_stability_index(current, baseline) == pytest.approx(rel, rel=RTOL)
    assert it.psi_band(0.0) == "no significant change"
    assert it.psi_band(0.0999) == "no significant change"
    assert it.psi_band(0.1) == "moderate"
    assert it.psi_band(0.2499) == "moderate"
    assert it.psi_band(0.25) == "significant"
    assert it.psi_band(math.inf) == "significant"
    assert it.psi_band(expected) == "moderate"  # about 0.228


# -- weighted Jensen-Shannon -----------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 3, 10])
@pytest.mark.parametrize("unit", ["bits", "nats", "bans"])
def test_weighted_js_matches_entropy_form(k: int, unit: str) -> None:
    rng = np.random.default_rng(k)
    dists = rng.random((k, 300))
    dists[:, ::4] = 0.0
    dists /= dists.sum(axis=1, keepdims=True)
    w = rng.random(k)
    w /= w.sum()
    nats = special.entr(w @ dists).sum() - w @ special.entr(dists).sum(axis=1)
    expected = nats / math.log(BASES[unit])
    assert it.weighted_js_divergence(dists, w, unit) == pytest.approx(expected, rel=1e-11)


@pytest.mark.parametrize("n", [2, 10, 1000, 100_000])
def test_pair_js_is_the_two_way_equal_weight_case(n: int) -> None:
    p, q = _pair(n, seed=n + 10, zeros_in_p=True)
    two_way = it.weighted_js_divergence(np.stack([p, q]))
    assert two_way == pytest.approx(distance.jensenshannon(p, q) ** 2, rel=RTOL)
    assert abs(two_way - it.js_divergence(p, q)) <= 1e-12
    assert two_way == pytest.approx(it.js_divergence(p, q), rel=1e-12)


# -- perplexity, Wasserstein -----------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 10, 1000, 100_000])
def test_perplexities_match_scipy(n: int) -> None:
    p, q = _pair(n, seed=n + 12, zeros_in_p=True)
    assert it.perplexity(p) == pytest.approx(math.exp(stats.entropy(p)), rel=RTOL)
    cross = stats.entropy(p) + stats.entropy(p, q)
    assert it.cross_perplexity(p, q) == pytest.approx(math.exp(cross), rel=RTOL)


def test_perplexity_by_hand() -> None:
    assert it.perplexity([0.25] * 4) == pytest.approx(4.0, rel=RTOL)
    assert it.perplexity([1.0, 0.0]) == 1.0
    assert it.cross_perplexity([1.0, 0.0], [0.5, 0.5]) == pytest.approx(2.0, rel=RTOL)


@pytest.mark.parametrize("n", [2, 10, 1000, 10_000])
def test_wasserstein_matches_scipy(n: int) -> None:
    p, q = _pair(n, seed=n + 14, zeros_in_p=True)
    default = np.arange(n, dtype=np.float64)
    expected = stats.wasserstein_distance(default, default, p, q)
    assert it.wasserstein_distance(p, q) == pytest.approx(expected, rel=RTOL)
    positions = np.cumsum(np.random.default_rng(n).random(n) + 0.1) - 3.0
    expected = stats.wasserstein_distance(positions, positions, p, q)
    assert it.wasserstein_distance(p, q, positions) == pytest.approx(expected, rel=RTOL)


def test_wasserstein_by_hand() -> None:
    # move all mass from 0 to 2: distance 2; half the mass from 0 to 10 over [0, 1, 10]: 5
    assert it.wasserstein_distance([1.0, 0.0, 0.0], [0.0, 0.0, 1.0]) == 2.0
    assert it.wasserstein_distance([1.0, 0, 0], [0.5, 0, 0.5], [0.0, 1.0, 10.0]) == 5.0

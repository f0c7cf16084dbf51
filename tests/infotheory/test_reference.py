"""Reference values: every kernel against scipy to 1e-12 relative."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats
from scipy.spatial import distance

from app import infotheory as it

RTOL = 1e-12
BASES = {"bits": 2.0, "nats": math.e, "bans": 10.0}


def _pair(n: int, seed: int, zeros_in_p: bool = True) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p, q = rng.random(n), rng.random(n)
    if zeros_in_p and n > 3:
        p[::3] = 0.0
    return p / p.sum(), q / q.sum()


@pytest.mark.parametrize("n", [2, 10, 1000, 100_000])
@pytest.mark.parametrize("unit", ["bits", "nats", "bans"])
def test_entropy_matches_scipy(n: int, unit: str) -> None:
    p, _ = _pair(n, seed=n)
    assert it.entropy(p, unit) == pytest.approx(stats.entropy(p, base=BASES[unit]), rel=RTOL)


@pytest.mark.parametrize("n", [2, 10, 1000, 100_000])
@pytest.mark.parametrize("unit", ["bits", "nats", "bans"])
def test_kl_matches_scipy(n: int, unit: str) -> None:
    p, q = _pair(n, seed=n + 1)
    expected = stats.entropy(p, q, base=BASES[unit])
    assert it.kl_divergence(p, q, unit) == pytest.approx(expected, rel=RTOL)
    assert it.kl_divergence(p, q) == pytest.approx(special.rel_entr(p, q).sum(), rel=RTOL)


@pytest.mark.parametrize("n", [2, 10, 1000, 100_000])
def test_cross_entropy_matches_scipy(n: int) -> None:
    p, q = _pair(n, seed=n + 2)
    expected = stats.entropy(p) + stats.entropy(p, q)
    assert it.cross_entropy(p, q) == pytest.approx(expected, rel=RTOL)
    assert it.cross_entropy(p, q) == pytest.approx(-special.xlogy(p, q).sum(), rel=RTOL)


@pytest.mark.parametrize("n", [2, 10, 1000, 100_000])
@pytest.mark.parametrize("unit", ["bits", "nats", "bans"])
def test_js_matches_scipy(n: int, unit: str) -> None:
    p, q = _pair(n, seed=n + 3)
    expected = distance.jensenshannon(p, q, base=BASES[unit])
    assert it.js_distance(p, q, unit) == pytest.approx(expected, rel=RTOL)
    assert it.js_divergence(p, q, unit) == pytest.approx(expected**2, rel=RTOL)


def test_self_information_matches_log() -> None:
    p = np.array([0.5, 0.25, 0.125, 0.125, 0.0])
    np.testing.assert_array_equal(it.self_information(p, "bits"), [1.0, 2.0, 3.0, 3.0, np.inf])
    np.testing.assert_allclose(it.self_information(p[:4], "nats"), -np.log(p[:4]), rtol=RTOL)


def test_batch_matches_scipy_along_rows() -> None:
    rng = np.random.default_rng(7)
    p, q = rng.random((50, 40)), rng.random((50, 40))
    p[:, ::4] = 0.0
    p /= p.sum(axis=1, keepdims=True)
    q /= q.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(it.kl_divergence(p, q), stats.entropy(p, q, axis=1), rtol=RTOL)
    np.testing.assert_allclose(it.entropy(p, "bits"), stats.entropy(p, base=2, axis=1), rtol=RTOL)
    np.testing.assert_allclose(
        it.js_distance(p, q), distance.jensenshannon(p, q, axis=1), rtol=RTOL
    )


def test_article_worms_uniform_wins() -> None:
    """The article's story: the uniform model loses less information than the binomial."""
    observed = np.array([0.02, 0.03, 0.05, 0.14, 0.16, 0.15, 0.12, 0.08, 0.1, 0.08, 0.07])
    uniform = np.full(11, 1 / 11)
    mean = float(np.dot(np.arange(11), observed))
    binomial = stats.binom.pmf(np.arange(11), 10, mean / 10)
    by_hand_uniform = sum(o * math.log2(o * 11) for o in observed)
    by_hand_binomial = sum(o * math.log2(o / b) for o, b in zip(observed, binomial, strict=True))
    uniform_bits = it.kl_divergence(observed, uniform, "bits")
    binomial_bits = it.kl_divergence(observed, binomial, "bits")
    assert uniform_bits == pytest.approx(by_hand_uniform, rel=RTOL)
    assert binomial_bits == pytest.approx(by_hand_binomial, rel=RTOL)
    assert uniform_bits < binomial_bits

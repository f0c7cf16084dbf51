"""Model families against scipy.stats, and the model fit's properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from app.fitting.families import FAMILIES, binomial_pmf, geometric_pmf, poisson_pmf
from app.schemas.modelfit import ModelFitRequest
from app.services.modelfit import fit

K = np.arange(31)


@pytest.mark.parametrize("p", [0.0, 0.013, 0.37, 0.5, 0.92, 1.0])
@pytest.mark.parametrize("n", [1, 10, 30])
def test_binomial_pmf_matches_scipy(n: int, p: float) -> None:
    np.testing.assert_allclose(
        binomial_pmf(n, np.array(p)), stats.binom.pmf(K[: n + 1], n, p), rtol=1e-10, atol=1e-300
    )


@pytest.mark.parametrize("rate", [0.0, 0.4, 3.2, 17.5])
def test_poisson_pmf_matches_scipy(rate: float) -> None:
    np.testing.assert_allclose(
        poisson_pmf(30, np.array(rate)), stats.poisson.pmf(K, rate), rtol=1e-10, atol=1e-300
    )


@pytest.mark.parametrize("p", [0.05, 0.3, 0.9, 1.0])
def test_geometric_pmf_matches_scipy_shifted_to_zero(p: float) -> None:
    # scipy's geom counts trials (1, 2, ...); ours counts failures before success (0, 1, ...)
    np.testing.assert_allclose(
        geometric_pmf(30, np.array(p)), stats.geom.pmf(K, p, loc=-1), rtol=1e-10, atol=1e-300
    )


def test_maximum_likelihood_parameters() -> None:
    counts = np.array([[2.0, 3, 5, 14, 16, 15, 12, 8, 10, 8, 7]])
    mean = float(np.arange(11) @ counts[0] / counts.sum())
    assert FAMILIES["binomial"](counts).parameters["p"][0] == pytest.approx(mean / 10)
    assert FAMILIES["poisson"](counts).parameters["rate"][0] == pytest.approx(mean)
    assert FAMILIES["geometric"](counts).parameters["p"][0] == pytest.approx(1 / (1 + mean))
    # each estimate maximises the likelihood over a grid around it
    for family, key, grid in [("binomial", "p", np.linspace(0.3, 0.8, 501))]:
        fitted = FAMILIES[family](counts).parameters[key][0]
        loglik = [float(counts[0] @ np.log(binomial_pmf(10, np.array(g)))) for g in grid]
        assert grid[int(np.argmax(loglik))] == pytest.approx(fitted, abs=1e-3)


def test_worms_entropies_against_scipy() -> None:
    counts = [2, 3, 5, 14, 16, 15, 12, 8, 10, 8, 7]
    result = fit(ModelFitRequest(counts=counts, unit="bits", bootstrap={"resamples": 0}), 10**7)
    p = np.array(counts) / sum(counts)
    assert result.observed.entropy == pytest.approx(stats.entropy(p, base=2), rel=1e-12)
    # Miller-Madow: plus (bins seen - 1) / 2N nats
    assert result.observed.entropy_miller_madow == pytest.approx(
        stats.entropy(p, base=2) + 10 / (2 * 100) / math.log(2), rel=1e-12
    )
    by_family = {m.family: m for m in result.models}
    for m in result.models:
        # against the model's own pmf on 0..10, not renormalised (scipy's entropy would)
        by_hand = special.rel_entr(p, m.probabilities).sum() / math.log(2)
        assert m.divergence == pytest.approx(by_hand, rel=1e-9)
    # the article's comparison: the uniform model loses less than the binomial one
    assert by_family["uniform"].divergence < by_family["binomial"].divergence
    assert by_family["poisson"].tail_mass == pytest.approx(1 - stats.poisson.cdf(10, 5.44))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 50), min_size=2, max_size=12).filter(lambda c: sum(c) > 0))
def test_best_model_has_the_smallest_divergence(counts: list[int]) -> None:
    result = fit(ModelFitRequest(counts=counts, bootstrap={"resamples": 0}), 10**7)
    divergences = [m.divergence for m in result.models]
    assert result.best == result.models[0].family
    assert result.models[0].divergence == min(divergences)
    assert divergences == sorted(divergences)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(st.floats(0.15, 0.85), st.integers(0, 2**31))
def test_large_binomial_sample_is_fitted_as_binomial(p: float, seed: int) -> None:
    samples = np.random.default_rng(seed).binomial(10, p, size=20000)
    samples[0] = 10  # the support reaches n = 10, as in the article's worms
    result = fit(ModelFitRequest(samples=samples.tolist(), bootstrap={"resamples": 0}), 10**7)
    assert result.best == "binomial"
    fitted_p = next(m for m in result.models if m.family == "binomial").parameters["p"]
    assert fitted_p == pytest.approx(p, abs=0.02)

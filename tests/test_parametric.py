"""/v1/parametric: entropy, cross-entropy and KL divergence of laws given by parameters.

References are independent of the kernels: formulas derived by hand here, numerical
integration (scipy.integrate.quad) of -p log q, brute-force sums of scipy's pmfs, scipy.stats
entropies, and seeded Monte Carlo with scipy's log-densities."""

from __future__ import annotations

import asyncio
import io
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from app.config import Settings
from app.infotheory import parametric as pm
from app.main import create_app
from app.schemas.parametric import ParametricEntropyRequest, ParametricPairRequest
from app.services import parametric as service
from divergence_client import AsyncDivergenceClient, DivergenceClient, cli

LN2 = math.log(2.0)


def post(client: TestClient, path: str, body: dict[str, Any]) -> Any:
    return client.post(f"/v1/parametric/{path}", json=body)


def value(client: TestClient, path: str, body: dict[str, Any]) -> Any:
    answer = post(client, path, body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def normal(mean: float, std: float) -> dict[str, Any]:
    return {"family": "normal", "mean": mean, "std": std}


# -- hand-derived closed forms --------------------------------------------------------------


def test_kl_of_two_normals_by_hand(client: TestClient) -> None:
    # KL(N(m1, s1^2) || N(m2, s2^2)) = ln(s2/s1) + (s1^2 + (m1-m2)^2) / (2 s2^2) - 1/2;
    # N(0, 1) against N(1, 2^2): ln 2 + (1 + 1)/8 - 1/2 = ln 2 - 1/4
    body = {"p": normal(0, 1), "q": normal(1, 2)}
    answer = value(client, "kl-divergence", body)
    assert answer["value"] == pytest.approx(LN2 - 0.25, abs=1e-15)
    assert answer["method"] == "closed form" and answer["unit"] == "nats"
    assert answer["differential"] is True and answer["standard_error"] is None
    bits = value(client, "kl-divergence", {**body, "unit": "bits"})["value"]
    assert bits == pytest.approx((LN2 - 0.25) / LN2, abs=1e-15)
    # H(P, Q) = H(P) + D(P || Q), H(N(0, 1)) = ln(2 pi e) / 2
    cross = value(client, "cross-entropy", body)["value"]
    assert cross == pytest.approx(0.5 * math.log(2 * math.pi * math.e) + LN2 - 0.25, abs=1e-14)


def test_exponential_and_poisson_by_hand(client: TestClient) -> None:
    # KL(Exp(a) || Exp(b)) = ln(a/b) + b/a - 1; KL(Poi(a) || Poi(b)) = a ln(a/b) - a + b
    exp = value(
        client,
        "kl-divergence",
        {
            "p": {"family": "exponential", "rate": 2.0},
            "q": {"family": "exponential", "scale": 1 / 0.5},
        },
    )
    assert exp["value"] == pytest.approx(math.log(4) + 0.25 - 1, abs=1e-15)
    poisson = value(
        client,
        "kl-divergence",
        {"p": {"family": "poisson", "rate": 3.0}, "q": {"family": "poisson", "rate": 5.0}},
    )
    assert poisson["value"] == pytest.approx(3 * math.log(3 / 5) - 3 + 5, abs=1e-15)
    assert poisson["differential"] is False  # fmt: skip


def test_differential_entropy_can_be_negative(client: TestClient) -> None:
    answer = value(client, "entropy", {"p": {"family": "uniform", "low": 0, "high": 0.5}})
    assert answer["value"] == pytest.approx(-LN2, abs=1e-15) and answer["differential"]
    bans = value(client, "entropy", {"p": normal(0, 0.01), "unit": "bans"})["value"]
    assert bans == pytest.approx(stats.norm(0, 0.01).entropy() / math.log(10), abs=1e-15)
    assert bans < 0


# -- continuous laws against numerical integration -------------------------------------------


def _log_density(law: dict[str, Any]) -> Callable[[float], float]:
    """log p(x), written out by hand from each law's textbook density."""
    f, half_log_2pi = law["family"], 0.5 * math.log(2 * math.pi)
    if f == "normal":
        m, s = law["mean"], law["std"]
        return lambda x: -0.5 * ((x - m) / s) ** 2 - math.log(s) - half_log_2pi
    if f == "laplace":
        m, b = law["loc"], law["scale"]
        return lambda x: -abs(x - m) / b - math.log(2 * b)
    if f == "uniform":
        a, b = law["low"], law["high"]
        return lambda x: -math.log(b - a) if a <= x <= b else -math.inf
    if f == "beta":
        a, b = law["alpha"], law["beta"]
        log_b = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
        return lambda x: (
            (a - 1) * math.log(x) + (b - 1) * math.log1p(-x) - log_b if 0 < x < 1 else -math.inf
        )
    if f == "log_normal":
        mu, sg = law["mu"], law["sigma"]
        return lambda x: (
            -math.log(x) - math.log(sg) - half_log_2pi - 0.5 * ((math.log(x) - mu) / sg) ** 2
            if x > 0
            else -math.inf
        )
    rate = law.get("rate") or 1 / law["scale"]
    k = law.get("shape", 1.0)
    return lambda x: (
        k * math.log(rate) + (k - 1) * math.log(x) - rate * x - math.lgamma(k)
        if x > 0
        else -math.inf
    )


# (law for the service, scipy's frozen law for its support, quantiles and entropy)
CONTINUOUS: dict[str, tuple[dict[str, Any], Any]] = {
    "normal": (normal(0.3, 1.7), stats.norm(0.3, 1.7)),
    "log_normal": ({"family": "log_normal", "mu": 0.2, "sigma": 0.6},
                   stats.lognorm(0.6, scale=math.exp(0.2))),
    "exponential": ({"family": "exponential", "rate": 1.5}, stats.expon(scale=1 / 1.5)),
    "gamma": ({"family": "gamma", "shape": 2.5, "rate": 0.7}, stats.gamma(2.5, scale=1 / 0.7)),
    "gamma_spiky": ({"family": "gamma", "shape": 0.6, "scale": 0.5}, stats.gamma(0.6, scale=0.5)),
    "beta": ({"family": "beta", "alpha": 2.0, "beta": 3.5}, stats.beta(2.0, 3.5)),
    "beta_u": ({"family": "beta", "alpha": 0.7, "beta": 0.9}, stats.beta(0.7, 0.9)),
    "laplace": ({"family": "laplace", "loc": -0.4, "scale": 0.8}, stats.laplace(-0.4, 0.8)),
    "uniform_unit": ({"family": "uniform", "low": 0.1, "high": 0.9}, stats.uniform(0.1, 0.8)),
    "uniform_far": ({"family": "uniform", "low": 5.0, "high": 5.5}, stats.uniform(5.0, 0.5)),
    "uniform_wide": ({"family": "uniform", "low": -2, "high": 3}, stats.uniform(-2, 5)),
}  # fmt: skip


def _integral(frozen: Any, integrand: Callable[[float], float]) -> float:
    """The integral over P's support: the middle split at P's quantiles, a finite end
    reached through x = end -+ e^t, so log-singularities there become smooth."""
    lo, hi = frozen.support()
    left, middle, right = frozen.ppf([0.01, 0.5, 0.99])

    def quad(f: Callable[[float], float], a: float, b: float) -> float:
        return float(integrate.quad(f, a, b, epsabs=1e-13, epsrel=1e-12, limit=200)[0])

    def from_end(end: float, sign: float) -> Callable[[float], float]:
        def g(t: float) -> float:
            x = end + sign * math.exp(t)
            return 0.0 if x == end else integrand(x) * math.exp(t)

        return g

    total = quad(integrand, left, middle) + quad(integrand, middle, right)
    total += (
        quad(integrand, lo, left)
        if math.isinf(lo)
        else quad(from_end(lo, 1.0), -math.inf, math.log(left - lo))
    )
    total += (
        quad(integrand, right, hi)
        if math.isinf(hi)
        else quad(from_end(hi, -1.0), -math.inf, math.log(hi - right))
    )
    return total


@pytest.mark.parametrize("p_name", sorted(CONTINUOUS))
@pytest.mark.parametrize("q_name", sorted(CONTINUOUS))
def test_continuous_pairs_against_quad(client: TestClient, p_name: str, q_name: str) -> None:
    (p_law, p_frozen), (q_law, q_frozen) = CONTINUOUS[p_name], CONTINUOUS[q_name]
    p_log, q_log = _log_density(p_law), _log_density(q_law)
    body = {"p": p_law, "q": q_law}
    cross = value(client, "cross-entropy", body)
    kl = value(client, "kl-divergence", body)
    (p_lo, p_hi), (q_lo, q_hi) = p_frozen.support(), q_frozen.support()
    if p_lo < q_lo or p_hi > q_hi:  # P has mass where q = 0
        assert cross["value"] == kl["value"] == "Infinity"
        assert "outside Q's support" in kl["infinite_reason"]
        return

    def minus_p_log_q(x: float) -> float:
        density = math.exp(p_log(x))
        return 0.0 if density == 0 else -density * q_log(x)

    reference = _integral(p_frozen, minus_p_log_q)
    assert cross["value"] == pytest.approx(reference, rel=1e-9, abs=1e-9)
    assert kl["value"] == pytest.approx(reference - p_frozen.entropy(), rel=1e-8, abs=1e-9)
    assert kl["method"] == cross["method"] == "closed form" and kl["infinite_reason"] is None


ENTROPIES = [
    ({"family": "bernoulli", "p": 0.3}, stats.bernoulli(0.3)),
    ({"family": "binomial", "n": 40, "p": 0.35}, stats.binom(40, 0.35)),
    ({"family": "binomial", "n": 100_000, "p": 0.2}, stats.binom(100_000, 0.2)),
    ({"family": "poisson", "rate": 7.5}, stats.poisson(7.5)),
    ({"family": "poisson", "rate": 0.001}, stats.poisson(0.001)),
    ({"family": "geometric", "p": 0.2}, stats.geom(0.2)),  # scipy counts trials: same entropy
    ({"family": "dirichlet", "alpha": [1.0, 2.0, 3.5]}, stats.dirichlet([1.0, 2.0, 3.5])),
    ({"family": "multivariate_normal", "mean": [0, 1], "covariance": [[2, 0.3], [0.3, 0.5]]},
     stats.multivariate_normal([0, 1], [[2, 0.3], [0.3, 0.5]])),
    *CONTINUOUS.values(),
]  # fmt: skip


@pytest.mark.parametrize(
    "law,frozen", ENTROPIES, ids=lambda x: x.get("family", "") if isinstance(x, dict) else ""
)
def test_entropy_against_scipy(client: TestClient, law: dict[str, Any], frozen: Any) -> None:
    answer = value(client, "entropy", {"p": law})
    assert answer["value"] == pytest.approx(float(frozen.entropy()), rel=1e-12, abs=1e-12)
    discrete = law["family"] in ("bernoulli", "binomial", "poisson", "geometric")
    assert answer["differential"] is not discrete


def test_poisson_entropy_of_a_large_rate_against_its_asymptotic_series(
    client: TestClient,
) -> None:
    # H(Poi(l)) = ln(2 pi e l)/2 - 1/(12 l) - 1/(24 l^2) - 19/(360 l^3) + O(l^-4)
    # (scipy's own entropy does not converge here)
    rate = 1e6
    series = 0.5 * math.log(2 * math.pi * math.e * rate) - 1 / (12 * rate)
    series -= 1 / (24 * rate**2) + 19 / (360 * rate**3)
    answer = value(client, "entropy", {"p": {"family": "poisson", "rate": rate}})
    assert answer["value"] == pytest.approx(series, abs=1e-12)
    assert answer["method"] == "exact sum" and 0 < answer["terms"] < 100_000


@pytest.mark.parametrize("rate", [1e34, 1e40, 1e100])
def test_a_huge_poisson_rate_is_refused_not_summed_over_one_term(
    client: TestClient, rate: float
) -> None:
    # the window mean +- (20 sd + 30) has about 40 sqrt(rate) terms (4e21 at 1e40), far
    # beyond the cap; in floats it used to collapse to one term (H = 1.9e-19, not ~47.5)
    width = 40 * math.sqrt(rate)
    assert pm.cost(pm.Poisson(rate), None, "entropy", 0).terms == pytest.approx(width, rel=1e-6)
    for path, body in [
        ("entropy", {"p": {"family": "poisson", "rate": rate}}),
        ("kl-divergence", {"p": {"family": "poisson", "rate": rate}, "q": GEOMETRIC_HALF}),
    ]:
        answer = post(client, path, body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["loc"] == ["body", "p", "rate"]


def test_the_terms_cap_keeps_every_k_exact_in_float64(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="parametric_max_terms"):
        Settings(data_dir=tmp_path, parametric_max_terms=10**9 + 1)


# -- integer laws against brute-force sums ----------------------------------------------------

GEOMETRIC_HALF = {"family": "geometric", "p": 0.5}
INTEGER: dict[str, tuple[dict[str, Any], Any]] = {
    "bernoulli": ({"family": "bernoulli", "p": 0.3}, stats.bernoulli(0.3)),
    "binomial12": ({"family": "binomial", "n": 12, "p": 0.4}, stats.binom(12, 0.4)),
    "binomial15": ({"family": "binomial", "n": 15, "p": 0.35}, stats.binom(15, 0.35)),
    "poisson": ({"family": "poisson", "rate": 3.2}, stats.poisson(3.2)),
    "geometric": ({"family": "geometric", "p": 0.3}, stats.geom(0.3, loc=-1)),
}


@pytest.mark.parametrize("p_name", sorted(INTEGER))
@pytest.mark.parametrize("q_name", sorted(INTEGER))
def test_integer_pairs_against_sums(client: TestClient, p_name: str, q_name: str) -> None:
    (p_law, p_frozen), (q_law, q_frozen) = INTEGER[p_name], INTEGER[q_name]
    k = np.arange(400)
    pk, log_qk = p_frozen.pmf(k), q_frozen.logpmf(k)
    body = {"p": p_law, "q": q_law}
    cross, kl = value(client, "cross-entropy", body), value(client, "kl-divergence", body)
    if np.any((pk > 0) & np.isneginf(log_qk)):
        assert cross["value"] == kl["value"] == "Infinity"
        assert "Q only to" in kl["infinite_reason"]
        return
    inside = pk > 0
    reference = -float(np.sum(pk[inside] * log_qk[inside]))
    assert cross["value"] == pytest.approx(reference, rel=1e-12, abs=1e-13)
    entropy = -float(np.sum(pk[inside] * p_frozen.logpmf(k[inside])))
    assert kl["value"] == pytest.approx(reference - entropy, rel=1e-10, abs=1e-12)


def test_binomials_with_different_n(client: TestClient) -> None:
    small, large = (
        {"family": "binomial", "n": 8, "p": 0.3},
        {"family": "binomial", "n": 10, "p": 0.3},
    )
    answer = value(client, "kl-divergence", {"p": small, "q": large})
    k = np.arange(9)
    p, q = stats.binom.pmf(k, 8, 0.3), stats.binom.pmf(k, 10, 0.3)
    assert answer["value"] == pytest.approx(float(np.sum(p * np.log(p / q))), rel=1e-12)
    assert answer["method"] == "exact sum" and answer["terms"] == 9
    reverse = value(client, "kl-divergence", {"p": large, "q": small})
    assert reverse["value"] == "Infinity" and "9..10" not in reverse["infinite_reason"]
    assert reverse["infinite_reason"] == "P gives probability to k in 0..10; Q only to k in 0..8"


def test_bernoulli_against_a_certain_event_is_infinite(client: TestClient) -> None:
    body = {"p": {"family": "bernoulli", "p": 0.5}, "q": {"family": "bernoulli", "p": 0.0}}
    answer = value(client, "kl-divergence", body)
    assert answer["value"] == "Infinity" and answer["infinite_reason"]
    reverse = value(client, "kl-divergence", {"p": body["q"], "q": body["p"]})
    assert reverse["value"] == pytest.approx(LN2, abs=1e-15)  # ln(1 / 0.5)


def test_categorical(client: TestClient) -> None:
    p, q = [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]
    body = {"p": {"family": "categorical", "p": p}, "q": {"family": "categorical", "p": q}}
    assert value(client, "kl-divergence", body)["value"] == pytest.approx(
        stats.entropy(p, q), rel=1e-14
    )
    zero = {"p": body["p"], "q": {"family": "categorical", "p": [0.5, 0.5, 0.0]}}
    answer = value(client, "cross-entropy", zero)
    assert answer["value"] == "Infinity" and "categories 2" in answer["infinite_reason"]


# -- multivariate laws --------------------------------------------------------------------------


def _mvn(mean: list[float], covariance: list[list[float]]) -> dict[str, Any]:
    return {"family": "multivariate_normal", "mean": mean, "covariance": covariance}


def test_multivariate_normal_with_diagonal_covariance_is_the_product(client: TestClient) -> None:
    means, stds = [(0.0, 1.0), (1.5, -2.0)], [(1.0, 2.0), (0.5, 0.8)]
    product = sum(
        value(client, "kl-divergence", {"p": normal(m1, s1), "q": normal(m2, s2)})["value"]
        for (m1, m2), (s1, s2) in zip(
            zip(*means, strict=True), zip(*stds, strict=True), strict=True
        )
    )
    p = _mvn(list(means[0]), np.diag(np.square(stds[0])).tolist())
    q = _mvn(list(means[1]), np.diag(np.square(stds[1])).tolist())
    assert value(client, "kl-divergence", {"p": p, "q": q})["value"] == pytest.approx(
        product, rel=1e-13
    )


def test_multivariate_normal_kl_against_monte_carlo(client: TestClient) -> None:
    p_mean, p_cov = (
        np.array([0.0, 1.0, -1.0]),
        np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]]),
    )
    q_mean, q_cov = (
        np.array([0.5, 0.0, 0.0]),
        np.array([[1.0, -0.4, 0.0], [-0.4, 2.0, 0.3], [0.0, 0.3, 1.5]]),
    )
    answer = value(
        client,
        "kl-divergence",
        {"p": _mvn(p_mean.tolist(), p_cov.tolist()), "q": _mvn(q_mean.tolist(), q_cov.tolist())},
    )
    x = np.random.default_rng(1).multivariate_normal(p_mean, p_cov, size=200_000)
    ratio = stats.multivariate_normal(p_mean, p_cov).logpdf(x) - stats.multivariate_normal(
        q_mean, q_cov
    ).logpdf(x)
    error = ratio.std(ddof=1) / math.sqrt(ratio.size)
    assert abs(answer["value"] - ratio.mean()) < 4 * error  # fmt: skip


def test_dirichlet_of_two_is_the_beta(client: TestClient) -> None:
    dirichlets = {
        "p": {"family": "dirichlet", "alpha": [2.0, 3.5]},
        "q": {"family": "dirichlet", "alpha": [1.5, 0.7]},
    }
    betas = {"p": {"family": "beta", "alpha": 2.0, "beta": 3.5},
             "q": {"family": "beta", "alpha": 1.5, "beta": 0.7}}  # fmt: skip
    for path in ("kl-divergence", "cross-entropy"):
        expected = value(client, path, betas)["value"]  # checked against quad above
        assert value(client, path, dirichlets)["value"] == pytest.approx(expected, rel=1e-13)
        mixed = {"p": betas["p"], "q": dirichlets["q"]}
        assert value(client, path, mixed)["value"] == pytest.approx(expected, rel=1e-13)


def test_dirichlet_kl_against_monte_carlo(client: TestClient) -> None:
    a, b = np.array([1.0, 2.0, 3.5]), np.array([2.0, 2.0, 1.0])
    answer = value(
        client,
        "kl-divergence",
        {
            "p": {"family": "dirichlet", "alpha": a.tolist()},
            "q": {"family": "dirichlet", "alpha": b.tolist()},
        },
    )
    x = np.random.default_rng(2).dirichlet(a, size=100_000)
    ratio = stats.dirichlet(a).logpdf(x.T) - stats.dirichlet(b).logpdf(x.T)
    assert abs(answer["value"] - ratio.mean()) < 4 * ratio.std(ddof=1) / math.sqrt(ratio.size)  # fmt: skip


# -- mixtures: Monte Carlo ---------------------------------------------------------------------

P_MIX = {
    "family": "normal_mixture",
    "weights": [0.3, 0.7],
    "means": [-1.0, 2.0],
    "stds": [0.5, 1.0],
}
Q_MIX = {"family": "normal_mixture", "weights": [0.5, 0.5], "means": [0.0, 1.5], "stds": [1.0, 2.0]}


def _mixture_pdf(law: dict[str, Any]) -> Callable[[float], float]:
    parts = list(zip(law["weights"], law["means"], law["stds"], strict=True))
    root = math.sqrt(2 * math.pi)
    return lambda x: sum(w * math.exp(-0.5 * ((x - m) / s) ** 2) / (s * root) for w, m, s in parts)


def test_mixture_kl_within_four_standard_errors_of_quad(client: TestClient) -> None:
    p, q = _mixture_pdf(P_MIX), _mixture_pdf(Q_MIX)
    reference = integrate.quad(lambda x: p(x) * math.log(p(x) / q(x)), -25, 25,
                               points=[-1, 2], limit=200, epsabs=1e-12)[0]  # fmt: skip
    body = {"p": P_MIX, "q": Q_MIX, "draws": 50_000, "seed": 11}
    answer = value(client, "kl-divergence", body)
    assert answer["method"] == "monte carlo" and answer["draws"] == 50_000 and answer["seed"] == 11
    assert 0 < answer["standard_error"] < 0.01
    assert abs(answer["value"] - reference) < 4 * answer["standard_error"]
    assert value(client, "kl-divergence", body) == answer  # the same seed, the same answer
    assert value(client, "kl-divergence", {**body, "seed": 12})["value"] != answer["value"]
    entropy = value(client, "entropy", {"p": P_MIX, "draws": 50_000})
    exact = integrate.quad(lambda x: -p(x) * math.log(p(x)), -25, 25, points=[-1, 2], limit=200)[0]
    assert abs(entropy["value"] - exact) < 4 * entropy["standard_error"]
    bits = value(client, "kl-divergence", {**body, "unit": "bits"})
    assert bits["standard_error"] == pytest.approx(answer["standard_error"] / LN2, rel=1e-12)


def test_mixture_against_a_normal_and_in_two_dimensions(client: TestClient) -> None:
    q = normal(1.0, 2.0)
    pdf_p = _mixture_pdf(P_MIX)
    pdf_q = _mixture_pdf({"weights": [1.0], "means": [1.0], "stds": [2.0]})
    reference = integrate.quad(lambda x: -pdf_p(x) * math.log(pdf_q(x)), -25, 25, points=[-1, 2])[0]
    answer = value(client, "cross-entropy", {"p": P_MIX, "q": q, "draws": 40_000})
    assert abs(answer["value"] - reference) < 4 * answer["standard_error"]
    # d = 2: against the integral on a fine grid
    mix = {
        "family": "multivariate_normal_mixture",
        "weights": [0.4, 0.6],
        "means": [[0.0, 0.0], [2.0, 1.0]],
        "covariances": [[[1.0, 0.3], [0.3, 0.5]], [[0.6, 0.0], [0.0, 1.2]]],
    }
    other = _mvn([1.0, 0.5], [[2.0, 0.2], [0.2, 1.5]])  # fmt: skip
    grid = np.linspace(-9, 11, 801)
    xy = np.stack(np.meshgrid(grid, grid, indexing="ij"), axis=-1)
    dens_p = sum(
        w * stats.multivariate_normal(m, c).pdf(xy)
        for w, m, c in zip(mix["weights"], mix["means"], mix["covariances"], strict=True)
    )
    log_q = stats.multivariate_normal(other["mean"], other["covariance"]).logpdf(xy)  # fmt: skip
    cell = (grid[1] - grid[0]) ** 2
    exact = float(
        np.sum(dens_p * (np.log(dens_p, where=dens_p > 0, out=np.zeros_like(dens_p)) - log_q))
        * cell
    )
    answer = value(client, "kl-divergence", {"p": mix, "q": other, "draws": 40_000, "seed": 3})
    assert abs(answer["value"] - exact) < 4 * answer["standard_error"]


def test_a_mixture_of_one_component_is_a_closed_form(client: TestClient) -> None:
    single = {
        "family": "normal_mixture",
        "weights": [0.0, 1.0],
        "means": [5.0, 0.0],
        "stds": [1.0, 1.0],
    }
    answer = value(client, "kl-divergence", {"p": single, "q": normal(1, 2)})
    assert answer["method"] == "closed form" and answer["value"] == pytest.approx(LN2 - 0.25, abs=1e-15)  # fmt: skip


# -- bad input, caps ---------------------------------------------------------------------------

BAD = [
    ({"p": normal(0, 0), "q": normal(0, 1)}, ["body", "p", "normal", "std"]),
    ({"p": {"family": "beta", "alpha": -1, "beta": 1}}, ["body", "p", "beta", "alpha"]),
    ({"p": {"family": "bernoulli", "p": 1.5}}, ["body", "p", "bernoulli", "p"]),
    ({"p": {"family": "dirichlet", "alpha": [1, 0]}}, ["body", "p", "dirichlet", "alpha", 1]),
    ({"p": {"family": "poisson", "rate": -1}}, ["body", "p", "poisson", "rate"]),
    ({"p": {"family": "geometric", "p": 0}}, ["body", "p", "geometric", "p"]),
    ({"p": {"family": "uniform", "low": 1, "high": 1}}, ["body", "p", "uniform"]),
    ({"p": {"family": "gamma", "shape": 1, "rate": 1, "scale": 1}}, ["body", "p", "gamma"]),
    ({"p": {"family": "weibull", "shape": 1}}, ["body", "p"]),
    ({"p": _mvn([0, 0], [[1, 1], [1, 1]])}, ["body", "p", "covariance"]),  # singular
    ({"p": _mvn([0, 0], [[1, 0.5], [0.4, 1]])}, ["body", "p", "covariance"]),  # not symmetric
    ({"p": _mvn([0, 0], [[1, 2], [2, 1]])}, ["body", "p", "covariance"]),  # indefinite
    ({"p": _mvn([0, 0], [[1, 0]])}, ["body", "p", "multivariate_normal"]),  # not square
    ({"p": {"family": "categorical", "p": [0.5, 0.6]}}, ["body", "p", "p"]),
    ({"p": {**P_MIX, "weights": [0.3, 0.3]}}, ["body", "p", "weights"]),
    ({"p": {**P_MIX, "stds": [1.0]}}, ["body", "p", "normal_mixture"]),
]


@pytest.mark.parametrize("body,loc", BAD)
def test_bad_parameters_are_refused_naming_the_field(
    client: TestClient, body: dict[str, Any], loc: list[Any]
) -> None:
    answer = post(client, "entropy", {"p": body["p"]})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["loc"][: len(loc)] == loc


@pytest.mark.parametrize(
    "p,q,loc",
    [
        (normal(0, 1), {"family": "poisson", "rate": 1}, ["body", "q", "family"]),
        ({"family": "categorical", "p": [0.5, 0.5]}, {"family": "categorical", "p": [1, 0, 0]},
         ["body", "q", "p"]),
        (_mvn([0, 0], [[1, 0], [0, 1]]), _mvn([0], [[1]]), ["body", "q", "mean"]),
        ({"family": "dirichlet", "alpha": [1, 2, 3]}, {"family": "beta", "alpha": 1, "beta": 2},
         ["body", "q", "alpha"]),
        (P_MIX, _mvn([0, 0], [[1, 0], [0, 1]]), ["body", "q", "mean"]),
    ],
)  # fmt: skip
def test_unrelated_or_mismatched_pairs_are_refused(
    client: TestClient, p: dict[str, Any], q: dict[str, Any], loc: list[Any]
) -> None:
    answer = post(client, "kl-divergence", {"p": p, "q": q})
    assert answer.status_code == 422 and answer.json()["errors"][0]["loc"] == loc


def test_a_normal_and_a_one_dimensional_multivariate_normal_are_related(
    client: TestClient,
) -> None:
    body = {"p": normal(0, 1), "q": _mvn([1.0], [[4.0]])}
    assert value(client, "kl-divergence", body)["value"] == pytest.approx(LN2 - 0.25, abs=1e-15)


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp = tmp_path_factory.mktemp("tight")
    limits = Settings(
        data_dir=tmp / "data",
        keras_home=tmp / "keras",
        parametric_max_draws=5000,
        parametric_max_work=80_000,
        parametric_max_terms=1000,
        parametric_max_dimension=3,
        max_document_bytes=2048,
    )
    return TestClient(create_app(limits))


@pytest.mark.parametrize(
    "path,body,loc",
    [
        ("entropy", {"p": P_MIX, "draws": 5001}, ["body", "draws"]),
        ("kl-divergence", {"p": P_MIX, "q": Q_MIX, "draws": 5000}, ["body", "draws"]),
        ("entropy", {"p": {"family": "poisson", "rate": 1e4}}, ["body", "p", "rate"]),
        ("kl-divergence", {"p": {"family": "binomial", "n": 10**6, "p": 0.5},
                           "q": {"family": "poisson", "rate": 3}}, ["body", "p", "n"]),
        ("entropy", {"p": {"family": "dirichlet", "alpha": [1, 1, 1, 1]}}, ["body", "p", "alpha"]),
        ("entropy", {"p": _mvn([0] * 4, np.eye(4).tolist())}, ["body", "p", "mean"]),
    ],
)  # fmt: skip
def test_caps_are_checked_before_the_work(
    tight: TestClient, path: str, body: dict[str, Any], loc: list[Any]
) -> None:
    answer = post(tight, path, body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["errors"][0]
    assert error["loc"] == loc and "DIVERGENCE_PARAMETRIC_MAX_" in error["msg"]


def test_within_the_caps_and_a_large_body(tight: TestClient) -> None:
    assert post(tight, "entropy", {"p": P_MIX, "draws": 5000}).status_code == 200
    # a closed form needs no sum, whatever the rate
    body = {"p": {"family": "poisson", "rate": 1e4}, "q": {"family": "poisson", "rate": 2e4}}
    assert post(tight, "kl-divergence", body).status_code == 200
    big = {"p": {"family": "categorical", "p": [0.001] * 1000}}
    answer = post(tight, "entropy", big)
    assert (
        answer.status_code == 413 and answer.headers["content-type"] == "application/problem+json"
    )


# -- properties --------------------------------------------------------------------------------

scale = st.floats(0.05, 20.0)
real = st.floats(-10.0, 10.0)
probability = st.floats(0.01, 0.99)


def _laws() -> st.SearchStrategy[pm.Law]:
    return st.one_of(
        st.builds(pm.Normal, real, scale),
        st.builds(pm.LogNormal, real, st.floats(0.05, 3.0)),
        st.builds(pm.Exponential, scale),
        st.builds(pm.Gamma, scale, scale),
        st.builds(pm.Beta, scale, scale),
        st.builds(pm.Laplace, real, scale),
        st.builds(lambda a, w: pm.Uniform(a, a + w), real, scale),
    )


def _counting() -> st.SearchStrategy[pm.Law]:
    return st.one_of(
        st.builds(pm.Bernoulli, st.floats(0.0, 1.0)),
        st.builds(pm.Binomial, st.integers(0, 60), st.floats(0.0, 1.0)),
        st.builds(pm.Poisson, st.floats(0.0, 50.0)),
        st.builds(pm.Geometric, st.floats(0.02, 1.0)),
    )


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.tuples(_laws(), _laws()), st.tuples(_counting(), _counting())))
def test_kl_is_non_negative_and_zero_for_a_law_and_itself(pair: tuple[pm.Law, pm.Law]) -> None:
    p, q = pair
    kl = pm.kl_divergence(p, q)
    assert kl.value >= 0 and not math.isnan(kl.value)
    assert pm.kl_divergence(p, p).value == pytest.approx(0.0, abs=1e-9)
    cross, entropy = pm.cross_entropy(p, q).value, pm.entropy(p).value
    if math.isinf(kl.value):
        assert cross == math.inf and kl.infinite_reason
    else:  # H(P, Q) = H(P) + D(P || Q)
        assert cross == pytest.approx(entropy + kl.value, rel=1e-8, abs=1e-8)


# -- client and CLI ----------------------------------------------------------------------------


def test_clients_call_the_endpoints(client: TestClient) -> None:
    app = client.app
    transport = httpx.MockTransport(
        lambda request: httpx.Response(
            (answer := client.request(request.method, request.url.path, content=request.content,
                                      headers=request.headers)).status_code,
            headers=answer.headers, content=answer.content)
    )  # fmt: skip
    with DivergenceClient("http://test", transport=transport) as sync:
        kl = sync.parametric_kl(normal(0, 1), normal(1, 2), unit="bits")
        assert kl.value == pytest.approx((LN2 - 0.25) / LN2) and kl.unit == "bits"
        cross = sync.parametric_cross_entropy({"family": "uniform", "low": 0, "high": 2},
                                              {"family": "uniform", "low": 0, "high": 1})  # fmt: skip
        assert cross.value == math.inf and cross.infinite_reason
        assert sync.parametric_entropy(normal(0, 1)).value == pytest.approx(stats.norm.entropy())

    async def asynchronous() -> Any:
        async with AsyncDivergenceClient(
            "http://test", transport=httpx.ASGITransport(app=app)
        ) as c:
            return await c.parametric_entropy(P_MIX, draws=1000, seed=5)

    answer = asyncio.run(asynchronous())
    assert answer.method == "monte carlo" and answer.draws == 1000 and answer.seed == 5


def test_cli_parametric_kl(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[tuple[Any, ...]] = []

    def kl(self: Any, p: Any, q: Any, **options: Any) -> Any:
        calls.append((p, q, options))
        request = ParametricPairRequest.model_validate({"p": p, "q": q, "unit": options["unit"]})
        return service.kl_divergence(request, Settings())

    monkeypatch.setattr(DivergenceClient, "parametric_kl", kl)
    files = []
    for name, law in (("p", normal(0, 1)), ("q", normal(1, 2))):
        (tmp_path / f"{name}.json").write_text(json.dumps(law))
        files.append(str(tmp_path / f"{name}.json"))
    out = io.StringIO()
    assert cli.main(["parametric", "kl", *files, "--unit", "bits", "--json"], out=out) == 0
    assert calls == [(normal(0, 1), normal(1, 2), {"unit": "bits", "draws": None, "seed": None})]
    assert json.loads(out.getvalue())["value"] == pytest.approx((LN2 - 0.25) / LN2)


def test_service_entropy_in_process() -> None:
    request = ParametricEntropyRequest.model_validate({"p": {"family": "geometric", "p": 0.5}})
    # geometric(1/2) on 0, 1, ...: sum 2^-(k+1) (k+1) ln 2 = 2 ln 2
    assert service.entropy(request, Settings()).value == pytest.approx(2 * LN2, abs=1e-15)

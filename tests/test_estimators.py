"""Estimators from data (issue 14): entropy of counts, plug-in KL/JS/MI with bootstrap
intervals, k-NN estimators; kernels against hand formulas, scipy and brute-force integrals,
then the endpoints, the clients and the CLI."""

from __future__ import annotations

import asyncio
import io
import json
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scipy import integrate, optimize, special, stats
from scipy.spatial import cKDTree

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.config import Settings
from app.infotheory import estimators as est
from app.infotheory import knn
from app.main import create_app
from app.schemas.estimators import EntropyMethod, KnnEntropyRequest
from divergence_client import AsyncDivergenceClient, DivergenceClient, cli

EULER = 0.5772156649015329
LN2 = math.log(2.0)


def plugin_by_hand(counts: list[int]) -> float:
    n = sum(counts)
    return -sum(c / n * math.log(c / n) for c in counts if c)


# -- entropy estimators ----------------------------------------------------------------------


def test_plugin_and_miller_madow_by_hand() -> None:
    counts = [5, 3, 0, 2, 1]
    plugin = plugin_by_hand(counts)
    assert est.plugin_entropy(counts) == pytest.approx(plugin, abs=1e-14)
    assert est.plugin_entropy(counts) == pytest.approx(stats.entropy(counts), abs=1e-14)
    # four categories seen, eleven observations
    assert est.miller_madow_entropy(counts) == pytest.approx(plugin + 3 / 22, abs=1e-14)
    assert est.miller_madow_entropy(counts, "bits") == pytest.approx((plugin + 3 / 22) / LN2)


def grassberger_g_by_recursion(top: int) -> dict[int, float]:
    """Grassberger (2003): G_1 = -gamma - ln 2, G_2 = 2 + G_1, G_2n+1 = G_2n,
    G_2n+2 = G_2n + 2 / (2n + 1)."""
    g = {1: -EULER - LN2, 2: 2.0 - EULER - LN2}
    for m in range(3, top + 1):
        g[m] = g[m - 1] if m % 2 else g[m - 2] + 2.0 / (m - 1)
    return g


def test_grassberger_g_follows_the_papers_recursion() -> None:
    g = grassberger_g_by_recursion(60)
    ours = est.grassberger_g(np.arange(1, 61))
    assert ours == pytest.approx([g[m] for m in range(1, 61)], abs=1e-13)


def test_grassberger_entropy_by_hand() -> None:
    counts = [4, 1, 1, 7, 2, 0, 3]
    g = grassberger_g_by_recursion(10)
    n = sum(counts)
    by_hand = math.log(n) - sum(c * g[c] for c in counts if c) / n
    assert est.grassberger_entropy(counts) == pytest.approx(by_hand, abs=1e-13)


def chao_shen_by_hand(counts: list[int]) -> float:
    n = sum(counts)
    f1 = sum(1 for c in counts if c == 1)
    f1 = n - 1 if f1 == n else f1
    coverage = 1 - f1 / n
    total = 0.0
    for c in counts:
        if c:
            pa = coverage * c / n
            total -= pa * math.log(pa) / (1 - (1 - pa) ** n)
    return total


@pytest.mark.parametrize("counts", [[4, 2, 1, 1, 0, 3], [1, 1, 1], [10, 1], [2, 2, 2, 2]])
def test_chao_shen_by_hand(counts: list[int]) -> None:
    assert est.chao_shen_entropy(counts) == pytest.approx(chao_shen_by_hand(counts), rel=1e-13)


def nsb_by_quadrature_in_xi(counts: list[int], k: int) -> float:
    """NSB the paper's way, independently: a flat prior on xi in (0, ln K), beta(xi) by root
    finding, the Dirichlet-multinomial likelihood over all K categories, quad over xi."""
    n = np.zeros(k)
    n[: len(counts)] = counts
    total = n.sum()

    def beta_of(xi: float) -> float:
        def gap(log_beta: float) -> float:
            b = math.exp(log_beta)
            return float(special.digamma(k * b + 1) - special.digamma(b + 1) - xi)

        return math.exp(optimize.brentq(gap, -60, 60, xtol=1e-15))

    def parts(xi: float) -> tuple[float, float]:
        b = beta_of(xi)
        a = n + b
        like = special.gammaln(k * b) - special.gammaln(total + k * b)
        like += float(np.sum(special.gammaln(a) - special.gammaln(b)))
        mean = special.digamma(a.sum() + 1) - float(np.sum(a / a.sum() * special.digamma(a + 1)))
        return float(like), float(mean)

    top = max(parts(x)[0] for x in np.linspace(1e-6, math.log(k) - 1e-6, 200))
    ends = (0.0, math.log(k))
    z = integrate.quad(lambda x: math.exp(parts(x)[0] - top), *ends, epsabs=0, epsrel=1e-11)[0]
    h = integrate.quad(
        lambda x: math.exp(parts(x)[0] - top) * parts(x)[1], *ends, epsabs=0, epsrel=1e-11
    )[0]
    return float(h / z)


@pytest.mark.parametrize(
    ("counts", "k"),
    [([3, 1, 2, 5, 1, 1], 10), ([1, 1, 1], 5), ([1, 1, 1, 1, 2], 20), ([10, 20, 30, 5], 4)],
)
def test_nsb_matches_an_independent_integral_over_xi(counts: list[int], k: int) -> None:
    ours = est.nsb_entropy(counts, k)
    assert ours.categories == k
    assert ours.value == pytest.approx(nsb_by_quadrature_in_xi(counts, k), abs=1e-9)


def test_nsb_deviation_is_the_delta_methods_when_well_sampled() -> None:
    p = np.array([0.4, 0.3, 0.2, 0.1])
    counts = (p * 4000).astype(int)
    h = -(p @ np.log(p))
    delta = math.sqrt((p @ np.log(p) ** 2 - h * h) / 4000)
    nsb = est.nsb_entropy(counts, 4)
    assert nsb.std == pytest.approx(delta, rel=0.05)
    assert nsb.value == pytest.approx(h, abs=3 * delta)


def test_nsb_edges() -> None:
    assert est.nsb_entropy([9]) == est.NsbEstimate(0.0, 0.0, 1)
    assert est.nsb_entropy([3, 4]).categories == 2  # the categories seen by default
    with pytest.raises(ValueError, match="below the categories seen"):
        est.nsb_entropy([1, 2, 3], categories=2)
    with pytest.raises(ValueError, match="at most"):
        est.nsb_entropy([est.NSB_MAX_TOTAL, 1])
    # huge counts at a small beta: no cancellation of huge log-gammas, a smooth answer
    tiny = est.nsb_entropy([10**9, 3, 1], 3)
    assert 0 < tiny.value < 1e-6


TRUTH_P = np.array([1 / k for k in range(1, 31)]) / sum(1 / k for k in range(1, 31))
TRUTH_H = float(-(TRUTH_P @ np.log(TRUTH_P)))


def test_corrected_estimators_are_less_biased_than_the_plugin_at_small_n() -> None:
    rng = np.random.default_rng(14)
    draws = [rng.multinomial(20, TRUTH_P) for _ in range(60)]

    def bias(estimate: Callable[[Any], float]) -> float:
        return float(np.mean([estimate(c) for c in draws])) - TRUTH_H

    plugin = bias(est.plugin_entropy)
    assert plugin < -0.3  # the plug-in's well-known downward bias
    for estimator in (est.miller_madow_entropy, est.chao_shen_entropy, est.grassberger_entropy):
        assert abs(bias(estimator)) < abs(plugin)
    assert abs(bias(lambda c: est.nsb_entropy(c, 30).value)) < abs(plugin) / 2


def test_estimators_converge_to_the_truth() -> None:
    counts = np.random.default_rng(5).multinomial(200_000, TRUTH_P)
    for name in ("plugin", "miller_madow", "grassberger", "chao_shen"):
        assert getattr(est, f"{name}_entropy")(counts) == pytest.approx(TRUTH_H, abs=0.01)
    assert est.nsb_entropy(counts, 30).value == pytest.approx(TRUTH_H, abs=0.01)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=12).filter(lambda c: sum(c) > 0))
def test_entropy_estimators_are_ordered_and_bounded(counts: list[int]) -> None:
    plugin = est.plugin_entropy(counts)
    seen = sum(1 for c in counts if c)
    assert 0.0 <= plugin <= math.log(seen) + 1e-12
    assert est.miller_madow_entropy(counts) >= plugin
    assert est.chao_shen_entropy(counts) >= 0.0
    assert est.grassberger_entropy(counts) >= 0.0
    nsb = est.nsb_entropy(counts, len(counts))
    assert 0.0 <= nsb.value <= math.log(len(counts)) + 1e-12 and nsb.std >= 0.0
    assert est.chao_shen_entropy(counts, "bits") == pytest.approx(
        est.chao_shen_entropy(counts) / LN2
    )


def test_the_methods_are_one_vocabulary() -> None:
    from typing import get_args

    assert get_args(EntropyMethod) == est.ENTROPY_ESTIMATORS


# -- bootstrap -------------------------------------------------------------------------------


def test_bootstrap_resamples_each_sample_multinomially() -> None:
    counts = np.array([30.0, 50.0, 20.0])

    def share_of_first(batch: np.ndarray) -> np.ndarray:
        return np.asarray(batch[:, 0] / batch.sum(axis=1))

    values = est.bootstrap(share_of_first, [counts], 20_000, seed=3, chunk_cells=999)
    assert values.mean() == pytest.approx(0.3, abs=0.002)
    assert values.std() == pytest.approx(math.sqrt(0.3 * 0.7 / 100), rel=0.03)
    again = est.bootstrap(share_of_first, [counts], 20_000, seed=3, chunk_cells=2**18)
    assert np.array_equal(values, again)  # chunking does not change the draws


def kl_raw(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Plug-in KL of raw category samples 0..3 (vectorised as scipy.stats.bootstrap wants)."""
    px = np.stack([(x == c).mean(axis=axis) for c in range(4)], axis=-1)
    qy = np.stack([(y == c).mean(axis=axis) for c in range(4)], axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(px > 0, px * np.log(px / qy), 0.0)
    return np.asarray(terms.sum(axis=-1))


def test_jackknife_acceleration_equals_the_raw_delete_one_jackknife() -> None:
    rng = np.random.default_rng(8)
    x, y = rng.integers(0, 4, 40), rng.choice(4, 55, p=[0.4, 0.3, 0.2, 0.1])
    counts = [np.bincount(s, minlength=4).astype(float) for s in (x, y)]
    numerator = denominator = 0.0
    for index, sample in enumerate((x, y)):
        size = sample.size
        thetas = []
        for i in range(size):
            kept = np.delete(sample, i)
            pair = (kept, y) if index == 0 else (x, kept)
            thetas.append(float(kl_raw(*pair)))
        influence = (size - 1) * (np.mean(thetas) - np.array(thetas))
        numerator += float(np.sum(influence**3)) / size**3
        denominator += float(np.sum(influence**2)) / size**2
    by_hand = numerator / (6 * denominator**1.5)
    assert est.jackknife_acceleration(est.kl_counts, counts) == pytest.approx(by_hand, rel=1e-10)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # scipy's raw KL of a rare resample: inf
def test_bca_interval_agrees_with_scipy_bootstrap() -> None:
    rng = np.random.default_rng(21)
    x, y = rng.integers(0, 4, 60), rng.choice(4, 80, p=[0.4, 0.3, 0.2, 0.1])
    counts = [np.bincount(s, minlength=4).astype(float) for s in (x, y)]
    theirs = stats.bootstrap(
        (x, y), kl_raw, n_resamples=20_000, method="BCa", confidence_level=0.9,
        random_state=np.random.default_rng(1),
    ).confidence_interval  # fmt: skip
    values = est.bootstrap(est.kl_counts, counts, 20_000, seed=2)
    estimate = float(est.kl_counts(*counts)[0])
    acceleration = est.jackknife_acceleration(est.kl_counts, counts)
    low, high = est.bca_interval(values, estimate, acceleration, 0.9) or (math.nan, math.nan)
    width = theirs.high - theirs.low
    assert low == pytest.approx(theirs.low, abs=0.05 * width)
    assert high == pytest.approx(theirs.high, abs=0.05 * width)


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_bootstrap_intervals_cover_the_true_kl_about_nominally(method: str) -> None:
    p, q = np.array([0.4, 0.3, 0.2, 0.1]), np.array([0.25, 0.25, 0.25, 0.25])
    truth = float(p @ np.log(p / q))
    rng = np.random.default_rng(99)
    covered = 0
    for run in range(100):
        counts = [rng.multinomial(300, p).astype(float), rng.multinomial(300, q).astype(float)]
        values = est.bootstrap(est.kl_counts, counts, 400, seed=run)
        if method == "percentile":
            low, high = est.percentile_interval(values, 0.9)
        else:
            estimate = float(est.kl_counts(*counts)[0])
            a = est.jackknife_acceleration(est.kl_counts, counts)
            low, high = est.bca_interval(values, estimate, a, 0.9) or (0.0, math.inf)
        covered += low <= truth <= high
    assert 80 <= covered <= 97


def test_percentile_interval_with_infinite_resamples() -> None:
    values = np.array([0.1, 0.2, 0.3, np.inf, np.inf])
    assert est.percentile_interval(values, 0.5) == (0.2, math.inf)
    assert est.percentile_interval(np.array([0.1, 0.2, 0.3, 0.4, np.inf]), 0.5)[1] == 0.4
    assert est.bca_interval(np.array([1.0, 2.0]), 0.5, 0.0, 0.9) is None  # all above


def test_mi_counts_is_the_entropy_identity() -> None:
    table = np.array([[30.0, 5.0, 1.0], [4.0, 21.0, 0.0]])
    p = table / table.sum()
    by_hand = stats.entropy(p.sum(1)) + stats.entropy(p.sum(0)) - stats.entropy(p.ravel())
    assert est.mi_counts(table.ravel(), (2, 3))[0] == pytest.approx(by_hand, abs=1e-14)
    assert est.js_counts(table[0], table[1])[0] == pytest.approx(
        0.5 * stats.entropy(table[0] / 36, (table[0] / 36 + table[1] / 25) / 2)
        + 0.5 * stats.entropy(table[1] / 25, (table[0] / 36 + table[1] / 25) / 2),
        abs=1e-14,
    )


# -- k-NN ------------------------------------------------------------------------------------


def kl_entropy_brute(x: np.ndarray, k: int) -> float:
    """Kozachenko-Leonenko with a full distance matrix, for small samples."""
    points = x.reshape(len(x), -1)
    n, d = points.shape
    dist = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))
    radius = np.sort(dist, axis=1)[:, k]  # column 0 is the point itself
    log_ball = d / 2 * math.log(math.pi) - math.lgamma(d / 2 + 1)
    return float(special.digamma(n) - special.digamma(k) + log_ball + d * np.log(radius).mean())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-20, 20), min_size=3, max_size=40, unique=True),
    st.integers(1, 3),
    st.integers(1, 3),
)
def test_knn_entropy_equals_the_brute_force_formula(values: list[int], k: int, d: int) -> None:
    rng = np.random.default_rng(len(values))
    x = np.array(values, dtype=float)[:, None] * 0.37 + rng.normal(size=(len(values), d)) * (d > 1)
    k = min(k, len(values) - 1)
    assert knn.knn_entropy(x, k) == pytest.approx(kl_entropy_brute(x, k), abs=1e-10)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 12), min_size=2, max_size=30),
    st.lists(st.integers(0, 12), min_size=1, max_size=30),
    st.integers(1, 4),
)
def test_one_dimensional_neighbours_equal_the_kd_trees(
    xs: list[int], ys: list[int], k: int
) -> None:
    """Ties included: the sorted 1-D path must find the same k-th distances as cKDTree."""
    x, y = np.array(xs, float)[:, None], np.array(ys, float)[:, None]
    k_self, k_cross = min(k, len(xs) - 1), min(k, len(ys))
    ordered = np.sort(x[:, 0])
    tree_self = cKDTree(x).query(ordered[:, None], k=[k_self + 1])[0][:, 0]
    assert np.array_equal(knn._self_kth_1d(ordered, k_self), tree_self)
    tree_cross = cKDTree(y).query(ordered[:, None], k=[k_cross])[0][:, 0]
    assert np.array_equal(knn._cross_kth_1d(np.sort(y[:, 0]), ordered, k_cross), tree_cross)


def test_knn_entropy_of_gaussians_is_the_closed_form() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 2.0, 20_000)
    truth = 0.5 * math.log(2 * math.pi * math.e * 4.0)
    assert knn.knn_entropy(x, 3) == pytest.approx(truth, abs=0.02)
    assert knn.knn_entropy(x, 3) == pytest.approx(stats.differential_entropy(x), abs=0.02)
    cov = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, 0.3], [0.0, 0.3, 0.5]])
    points = rng.multivariate_normal(np.zeros(3), cov, 20_000)
    truth_3d = 0.5 * math.log((2 * math.pi * math.e) ** 3 * np.linalg.det(cov))
    assert knn.knn_entropy(points, 4) == pytest.approx(truth_3d, abs=0.05)
    assert knn.knn_entropy(x, 3, "bits") == pytest.approx(knn.knn_entropy(x, 3) / LN2)


def test_knn_kl_between_gaussians_is_near_the_closed_form() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(0.0, 1.0, 10_000), rng.normal(1.0, 2.0, 10_000)
    # KL(N(0,1) || N(1,4)) = ln 2 + (1 + 1) / 8 - 1/2
    assert knn.knn_kl_divergence(x, y, 3).value == pytest.approx(LN2 - 0.25, abs=0.03)
    mean, cov = np.array([0.5, -0.5]), np.array([[1.0, 0.4], [0.4, 2.0]])
    xs = rng.multivariate_normal([0.0, 0.0], np.eye(2), 10_000)
    ys = rng.multivariate_normal(mean, cov, 10_000)
    inv = np.linalg.inv(cov)
    truth = 0.5 * (np.trace(inv) + mean @ inv @ mean - 2 + math.log(np.linalg.det(cov)))
    assert knn.knn_kl_divergence(xs, ys, 3).value == pytest.approx(truth, abs=0.05)


def test_knn_refuses_coincident_points_by_index() -> None:
    with pytest.raises(knn.CoincidentPointsError) as caught:
        knn.knn_entropy([3.0, 1.0, 2.0, 1.0], 1)
    assert caught.value.index == 1  # the first of the two 1.0, as given
    assert knn.knn_entropy([3.0, 1.0, 2.0, 1.0], 2) == pytest.approx(
        kl_entropy_brute(np.array([3.0, 1.0, 2.0, 1.0]), 2)
    )
    with pytest.raises(knn.CoincidentPointsError) as caught:
        knn.knn_kl_divergence([[0.0, 1.0], [2.0, 2.0], [5.0, 5.0]], [[2.0, 2.0], [9.0, 9.0]])
    assert caught.value.index == 1


# huge coordinates: distances overflowed float64 (the answer was null); now rescaled
def test_knn_entropy_of_huge_coordinates_by_hand(client: TestClient) -> None:
    one = client.post("/v1/estimates/knn-entropy", json={"x": [-1e308, 1e308, 0.0]})
    assert one.status_code == 200, one.text
    # every nearest-neighbour distance is 1e308: psi(3) - psi(1) + ln 2 + ln 1e308
    assert one.json()["value"] == pytest.approx(1.5 + math.log(2) + 308 * math.log(10), rel=1e-14)
    points = [[1e200, 1e200], [0.0, 0.0], [-1e200, 5.0]]
    two = client.post("/v1/estimates/knn-entropy", json={"x": points})
    assert two.status_code == 200, two.text
    # distances in units of 1e200: sqrt 2 (point 0), 1 (points 1 and 2); ln V_2 = ln pi
    mean_log = (0.5 * math.log(2) + 0 + 0) / 3 + 200 * math.log(10)
    expected = 1.5 + math.log(math.pi) + 2 * mean_log
    assert two.json()["value"] == pytest.approx(expected, rel=1e-14)


def test_knn_divergence_of_huge_coordinates_is_scale_invariant(client: TestClient) -> None:
    body = {"x": [-1e308, 1e308], "y": [0.0, 1.0]}
    answer = client.post("/v1/estimates/knn-divergence", json=body)
    assert answer.status_code == 200, answer.text
    # rho = 2e308 for both points, nu = 1e308 (to 1 less than 1e-300 relative): ln(1/2) + ln 2
    assert answer.json()["raw"] == pytest.approx(0.0, abs=1e-12)
    small = knn.knn_kl_divergence([-1.0, 1.0], [0.0, 1e-308])
    assert answer.json()["raw"] == pytest.approx(small.raw, abs=1e-12)


# -- the endpoints ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """An app with small caps."""
    tmp = tmp_path_factory.mktemp("caps")
    limits = Settings(
        data_dir=tmp / "data", keras_home=tmp / "keras", max_estimator_work=10_000,
        max_knn_values=1000, max_knn_k=5, max_document_bytes=20_000, max_nsb_distinct=4,
    )  # fmt: skip
    return TestClient(create_app(limits))


def test_entropy_endpoint_every_method(client: TestClient) -> None:
    counts = [7, 5, 4, 2, 1, 1]
    answer = client.post("/v1/estimates/entropy", json={"counts": counts, "unit": "bits"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["n"] == 20 and body["observed_categories"] == 6 and body["singletons"] == 2
    assert body["coverage"] == pytest.approx(0.9) and body["categories"] == 6
    values = body["value"]
    assert list(values) == list(est.ENTROPY_ESTIMATORS)
    assert values["plugin"] == pytest.approx(plugin_by_hand(counts) / LN2, abs=1e-14)
    assert values["miller_madow"] == pytest.approx((plugin_by_hand(counts) + 5 / 40) / LN2)
    assert values["chao_shen"] == pytest.approx(chao_shen_by_hand(counts) / LN2)
    assert values["nsb"] == pytest.approx(nsb_by_quadrature_in_xi(counts, 6) / LN2, abs=1e-9)
    assert body["nsb_std"] > 0
    assert [w["code"] for w in body["warnings"]] == ["categories_assumed"]


def test_entropy_endpoint_label_map_one_method_and_warnings(client: TestClient) -> None:
    body = {"counts": {"a": 1, "b": 1, "c": 1}, "method": "nsb", "categories": 50}
    answer = client.post("/v1/estimates/entropy", json=body).json()
    assert list(answer["value"]) == ["nsb"]
    assert answer["categories"] == 50
    assert answer["value"]["nsb"] == pytest.approx(nsb_by_quadrature_in_xi([1, 1, 1], 50), abs=1e-9)
    assert {w["code"] for w in answer["warnings"]} == {"no_coincidences", "few_samples"}
    low = client.post("/v1/estimates/entropy", json={"counts": [1, 1, 1, 1, 2], "method": "plugin"})
    assert [w["code"] for w in low.json()["warnings"]] == ["low_coverage"]


def test_nsb_beyond_its_range_is_refused_or_skipped(client: TestClient) -> None:
    huge = [est.NSB_MAX_TOTAL, 5]
    alone = client.post("/v1/estimates/entropy", json={"counts": huge, "method": "nsb"})
    assert alone.status_code == 422 and alone.json()["errors"][0]["loc"] == ["body", "counts"]
    every = client.post("/v1/estimates/entropy", json={"counts": huge}).json()
    assert list(every["value"]) == list(est.ENTROPY_ESTIMATORS[:-1]) and every["nsb_std"] is None
    assert "nsb_skipped" in [w["code"] for w in every["warnings"]] and every["categories"] is None


def test_nsb_beyond_the_distinct_counts_cap_is_refused_or_skipped(small: TestClient) -> None:
    # 5 distinct count values (1, 2, 3, 4, 9; zeros and repeats do not count) against a cap of 4
    over = [1, 2, 3, 4, 9, 9, 1, 0]
    alone = small.post("/v1/estimates/entropy", json={"counts": over, "method": "nsb"})
    assert alone.status_code == 422
    error = alone.json()["errors"][0]
    assert error["loc"] == ["body", "counts"]
    assert "DIVERGENCE_MAX_NSB_DISTINCT" in alone.json()["detail"]
    every = small.post("/v1/estimates/entropy", json={"counts": over}).json()
    assert list(every["value"]) == list(est.ENTROPY_ESTIMATORS[:-1]) and every["nsb_std"] is None
    assert "nsb_skipped" in [w["code"] for w in every["warnings"]]
    assert every["value"]["plugin"] == pytest.approx(plugin_by_hand(over))
    at_cap = [1, 2, 3, 9, 9, 1, 0]  # 4 distinct: NSB runs
    done = small.post("/v1/estimates/entropy", json={"counts": at_cap, "method": "nsb"})
    assert done.status_code == 200
    assert done.json()["value"]["nsb"] == pytest.approx(
        nsb_by_quadrature_in_xi([c for c in at_cap if c], 6), abs=1e-9
    )


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("entropy", {"counts": [3, -1]}, ["body", "counts", 1]),
        ("entropy", {"counts": {"a": 2, "b": -4}}, ["body", "counts", "b"]),
        ("entropy", {"counts": [1.5]}, ["body", "counts", 0]),
        ("entropy", {"counts": [0, 0]}, ["body", "counts"]),
        ("entropy", {"counts": []}, ["body", "counts"]),
        ("entropy", {"counts": [2**53, 1]}, ["body", "counts"]),
        ("entropy", {"counts": [1, 2, 3], "categories": 2}, ["body", "categories"]),
        ("divergence", {"p": [1, 2], "q": [1, 2, 3]}, ["body", "q"]),
        ("divergence", {"p": [1, 2], "q": {"a": 1}}, ["body", "q"]),
        ("divergence", {"p": [1, 2], "q": [0, 0]}, ["body", "q"]),
        ("divergence", {"p": [1, 2], "q": [1, 2], "measure": "tv"}, ["body", "measure"]),
        ("divergence", {"p": [1], "q": [1], "bootstrap": {"confidence": 1.0}},
         ["body", "bootstrap", "confidence"]),
        ("mutual-information", {"table": [[1, 2], [3]]}, ["body", "table", 1]),
        ("mutual-information", {"table": [[1, -2]]}, ["body", "table", 0, 1]),
        ("knn-entropy", {"x": [1.5]}, ["body", "x"]),
        ("knn-entropy", {"x": [1.0, 2.0, 3.0], "k": 3}, ["body", "k"]),
        ("knn-entropy", {"x": [[1.0, 2.0], [3.0]]}, ["body", "x", 1]),
        ("knn-entropy", {"x": [1.0, 2.0, 2.0, 5.0]}, ["body", "x", 1]),
        ("knn-divergence", {"x": [[0.0, 1.0], [1.0, 2.0]], "y": [1.0, 2.0]}, ["body", "y"]),
        ("knn-divergence", {"x": [0.0, 1.0], "y": [1.5]}, ["body", "y"]),
        ("knn-divergence", {"x": [0.0, 1.0, 4.0], "y": [1.5, 3.0], "k": 3}, ["body", "k"]),
        ("knn-divergence", {"x": [0.0, 1.0, 4.0], "y": [1.0, 3.0]}, ["body", "x", 1]),
    ],
)  # fmt: skip
def test_bad_input_is_422_naming_the_field(
    client: TestClient, path: str, body: dict[str, Any], loc: list[Any]
) -> None:
    answer = client.post(f"/v1/estimates/{path}", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["errors"][0]["loc"] == loc


def test_nan_samples_are_refused(client: TestClient) -> None:
    answer = client.post("/v1/estimates/knn-entropy", content='{"x": [1.0, NaN, 3.0]}')
    assert answer.status_code == 422  # the body is not JSON (as on every endpoint)
    with pytest.raises(ValidationError) as caught:
        KnnEntropyRequest.model_validate({"x": [1.0, math.nan, 3.0]})
    error = caught.value.errors()[0]
    assert error["loc"] == ("x",) and error["ctx"]["index"] == 1 and error["type"] == "not_finite"


def test_caps_are_checked_before_the_work(small: TestClient) -> None:
    work = {"p": [5] * 20, "q": [5] * 20, "bootstrap": {"resamples": 251}}
    answer = small.post("/v1/estimates/divergence", json=work)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["body", "bootstrap", "resamples"]
    assert "use at most 250 resamples" in answer.json()["detail"]
    bca = {**work, "bootstrap": {"resamples": 240, "method": "bca"}}
    assert small.post("/v1/estimates/divergence", json=bca).status_code == 422  # + jackknife
    table = {"table": [[3] * 10] * 10, "bootstrap": {"resamples": 101}}
    assert small.post("/v1/estimates/mutual-information", json=table).status_code == 422
    big = {"x": list(range(600)), "y": list(range(1000, 1600))}
    answer = small.post("/v1/estimates/knn-divergence", json=big)
    assert answer.status_code == 422 and answer.json()["errors"][0]["loc"] == ["body", "x"]
    answer = small.post("/v1/estimates/knn-entropy", json={"x": list(range(50)), "k": 6})
    assert answer.status_code == 422 and "DIVERGENCE_MAX_KNN_K" in answer.json()["detail"]
    huge = small.post("/v1/estimates/entropy", json={"counts": [1] * 10_000})
    assert huge.status_code == 413


def test_divergence_endpoint_values_interval_and_bias(client: TestClient) -> None:
    p, q = [30, 12, 8], [25, 15, 10]
    options = {"resamples": 500, "confidence": 0.9, "seed": 7}
    body: dict[str, Any] = {"p": p, "q": q, "bootstrap": options}
    answer = client.post("/v1/estimates/divergence", json=body).json()
    fp, fq = np.array(p) / 50, np.array(q) / 50
    assert answer["value"] == pytest.approx(stats.entropy(fp, fq), abs=1e-14)
    assert answer["bias"]["first_order"] == pytest.approx(
        2 / 100 + (float(np.sum(fp / fq)) - 1) / 100
    )
    interval = answer["interval"]
    assert interval["method"] == "percentile" and interval["resamples"] == 500
    assert interval["low"] <= answer["value"] <= interval["high"]
    assert client.post("/v1/estimates/divergence", json=body).json() == answer  # seeded
    other = {**body, "bootstrap": {**options, "seed": 8}}
    assert client.post("/v1/estimates/divergence", json=other).json()["interval"] != interval
    bits = client.post("/v1/estimates/divergence", json={**body, "unit": "bits"}).json()
    assert bits["value"] == pytest.approx(answer["value"] / LN2)
    assert bits["interval"]["high"] == pytest.approx(interval["high"] / LN2)
    assert answer["warnings"] == []


def test_js_of_label_maps_on_the_union_of_labels(client: TestClient) -> None:
    body = {
        "p": {"rain": 30, "sun": 12},
        "q": {"sun": 20, "snow": 3, "rain": 10},
        "measure": "js",
        "bootstrap": {"method": "bca", "resamples": 300},
    }
    answer = client.post("/v1/estimates/divergence", json=body).json()
    assert answer["labels"] == ["rain", "sun", "snow"] and answer["support"] == 3
    fp, fq = np.array([30, 12, 0]) / 42, np.array([10, 20, 3]) / 33
    assert answer["value"] == pytest.approx(
        special.rel_entr(fp, (fp + fq) / 2).sum() / 2
        + special.rel_entr(fq, (fp + fq) / 2).sum() / 2
    )
    assert answer["interval"]["method"] == "bca" and answer["bias"]["first_order"] is None


def test_kl_warnings_few_samples_infinite_estimate_and_resamples(client: TestClient) -> None:
    body = {"p": {"a": 3, "b": 1, "c": 1}, "q": {"a": 2, "b": 2}, "bootstrap": {"method": "bca"}}
    answer = client.post("/v1/estimates/divergence", json=body).json()
    assert answer["value"] == "Infinity" and answer["infinite_events"] == ["c"]
    codes = [w["code"] for w in answer["warnings"]]
    assert codes == ["infinite_estimate", "bca_undefined", "infinite_resamples"]
    assert answer["interval"]["high"] == "Infinity" and answer["interval"]["method"] == "percentile"
    assert 0.3 < answer["interval"]["infinite_share"] < 1.0  # p's resample may miss "c"
    few = {"p": [3, 2, 1, 0, 0, 0, 0, 0], "q": [1] * 8, "bootstrap": {"resamples": 200}}
    answer = client.post("/v1/estimates/divergence", json=few).json()
    messages = {w["code"]: w["message"] for w in answer["warnings"]}
    assert (
        "biased upward" in messages["few_samples"]
        and "6 observations for 8" in messages["few_samples"]
    )
    rare = {"p": [40, 40, 3], "q": [40, 40, 5], "bootstrap": {"resamples": 1000, "seed": 1}}
    answer = client.post("/v1/estimates/divergence", json=rare).json()
    share = answer["interval"]["infinite_share"]
    assert 0 < share < 0.025 and answer["interval"]["high"] != "Infinity"
    assert "infinite_resamples" in [w["code"] for w in answer["warnings"]]
    assert answer["bias"]["bootstrap"] is None


def test_mutual_information_endpoint(client: TestClient) -> None:
    table = [[30, 5], [4, 21]]
    answer = client.post("/v1/estimates/mutual-information", json={"table": table}).json()
    p = np.array(table) / 60
    by_hand = stats.entropy(p.sum(1)) + stats.entropy(p.sum(0)) - stats.entropy(p.ravel())
    assert answer["value"] == pytest.approx(by_hand, abs=1e-14)
    assert answer["bias"]["first_order"] == pytest.approx(1 / 120)
    assert answer["rows"] == 2 and answer["columns"] == 2 and answer["n"] == 60
    assert answer["interval"]["low"] <= answer["value"] <= answer["interval"]["high"]
    sparse = client.post("/v1/estimates/mutual-information", json={"table": [[1, 0, 2], [0, 1, 0]]})
    assert [w["code"] for w in sparse.json()["warnings"]] == ["few_samples"]


def test_knn_endpoints(client: TestClient) -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 2))
    answer = client.post("/v1/estimates/knn-entropy", json={"x": x.tolist(), "k": 2}).json()
    assert answer["value"] == pytest.approx(kl_entropy_brute(x, 2), abs=1e-10)
    assert (answer["n"], answer["dimension"], answer["k"]) == (300, 2, 2)
    body = {"x": [0.1, 1.3, -0.4, 2.2, 0.7], "y": [1.5, 2.4, 0.9, 3.1, 1.8, 2.6]}
    answer = client.post("/v1/estimates/knn-divergence", json=body).json()
    assert answer["raw"] < 0 and answer["value"] == 0.0
    assert [w["code"] for w in answer["warnings"]] == ["below_zero"]


# -- the clients and the CLI -----------------------------------------------------------------


def _forward(app: TestClient) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        answer = app.request(request.method, request.url.path, content=request.content,
                             headers={"content-type": "application/json"})  # fmt: skip
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return httpx.MockTransport(handle)


def test_both_clients(client: TestClient) -> None:
    with DivergenceClient("http://svc", transport=_forward(client)) as sync:
        result = sync.estimate_entropy(np.array([5, 3, 2]), method="miller_madow")
        assert result.value == {"miller_madow": pytest.approx(plugin_by_hand([5, 3, 2]) + 0.1)}
        kl = sync.estimate_divergence([5, 3, 2], [4, 4, 2], bootstrap={"resamples": 50})
        assert kl.interval is not None and kl.interval.resamples == 50
        assert sync.estimate_knn_entropy(np.arange(10.0), k=2).k == 2

    async def run() -> None:
        async with AsyncDivergenceClient("http://svc", transport=_forward(client)) as aclient:
            mi = await aclient.estimate_mutual_information([[3, 1], [1, 3]])
            assert mi.rows == 2
            knn_kl = await aclient.estimate_knn_divergence([0.0, 1.0, 2.5], [0.5, 2.0])
            assert knn_kl.m == 2

    asyncio.run(run())


def test_cli_estimate_entropy_and_divergence(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        cli, "DivergenceClient",
        lambda url, api_key=None: DivergenceClient(url, transport=_forward(client)),
    )  # fmt: skip
    (tmp_path / "c.json").write_text("[7, 5, 4, 2, 1, 1]")
    (tmp_path / "q.json").write_text("[6, 6, 4, 3, 3, 3]")
    out = io.StringIO()
    assert cli.main(["estimate", "entropy", str(tmp_path / "c.json"), "--method", "all"], out) == 0
    text = out.getvalue()
    assert "nsb" in text and "+-" in text and "warning" in text and "chao_shen" in text
    out = io.StringIO()
    args = ["estimate", "divergence", str(tmp_path / "c.json"), str(tmp_path / "q.json"),
            "--resamples", "100", "--interval", "bca", "--json"]  # fmt: skip
    assert cli.main(args, out) == 0
    answer = json.loads(out.getvalue())
    assert answer["interval"]["resamples"] == 100 and answer["interval"]["method"] == "bca"


def test_neighbours_in_chunks_equal_the_kd_trees(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(knn, "_QUERY_CELLS", 7)  # chunks of one to three points
    rng = np.random.default_rng(2)
    x, y = np.sort(rng.integers(0, 30, 101).astype(float)), rng.normal(10, 5, (50, 1))
    for k in (1, 3):
        tree = cKDTree(x[:, None]).query(x[:, None], k=[k + 1])[0][:, 0]
        assert np.array_equal(knn._self_kth_1d(x, k), tree)
        tree = cKDTree(y).query(x[:, None], k=[k])[0][:, 0]
        assert np.array_equal(knn._cross_kth_1d(np.sort(y[:, 0]), x, k), tree)
    points = rng.normal(size=(40, 2))
    assert knn.knn_entropy(points, 3) == pytest.approx(kl_entropy_brute(points, 3), abs=1e-12)

"""Edge cases of the divergence family: special orders, zeros, infinities, bad parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from app import infotheory as it

DISJOINT = (np.array([0.5, 0.5, 0.0, 0.0]), np.array([0.0, 0.0, 0.25, 0.75]))
PARTIAL = (np.array([0.5, 0.25, 0.25, 0.0]), np.array([0.5, 0.25, 0.0, 0.25]))  # p > 0 = q at 2


def _positive(sign: float) -> bool:
    return math.copysign(1.0, sign) == 1.0


# Every pair kernel at its default parameters, for the tables below.
PAIR_KERNELS = {
    "renyi 0.5": lambda p, q: it.renyi_divergence(p, q, 0.5),
    "renyi 2": lambda p, q: it.renyi_divergence(p, q, 2.0),
    "renyi 0": lambda p, q: it.renyi_divergence(p, q, 0.0),
    "renyi inf": lambda p, q: it.renyi_divergence(p, q, math.inf),
    "tsallis 0.5": lambda p, q: it.tsallis_divergence(p, q, 0.5),
    "tsallis 2": lambda p, q: it.tsallis_divergence(p, q, 2.0),
    "hellinger": it.hellinger_distance,
    "bhattacharyya": it.bhattacharyya_distance,
    "tv": it.total_variation,
    "pearson": it.pearson_chi_square,
    "neyman": it.neyman_chi_square,
    "jeffreys": it.jeffreys_divergence,
    "psi": it.population_stability_index,
    "wasserstein": it.wasserstein_distance,
    "js 2-way": lambda p, q: it.weighted_js_divergence(
        np.stack(np.broadcast_arrays(p, q), axis=-2)
    ),
}


@pytest.mark.parametrize("name", PAIR_KERNELS)
def test_identical_inputs_give_positive_zero(name: str) -> None:
    kernel = PAIR_KERNELS[name]
    for p in ([1.0], [0.5, 0.5, 0.0], [0.1, 0.2, 0.3, 0.4], [0.0, 1.0, 0.0]):
        value = kernel(np.array(p), np.array(p))
        assert value == 0.0 and _positive(value), (name, p)


def test_one_hot_rows() -> None:
    hot, other = np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0])
    for alpha in (0.0, 0.5, 2.0, math.inf):
        assert it.renyi_entropy(hot, alpha) == 0.0
    assert it.tsallis_entropy(hot, 2.0) == 0.0
    assert it.perplexity(hot) == 1.0
    assert it.total_variation(hot, other) == 1.0
    assert it.hellinger_distance(hot, other) == 1.0
    assert it.bhattacharyya_coefficient(hot, other) == 0.0
    assert it.wasserstein_distance(hot, other) == 1.0
    assert it.weighted_js_divergence(np.stack([hot, other]), unit="bits") == 1.0


def test_disjoint_supports() -> None:
    p, q = DISJOINT
    for alpha in (0.0, 0.3, 0.5, 1.0, 2.0, math.inf):
        assert it.renyi_divergence(p, q, alpha) == math.inf, alpha
    assert it.tsallis_divergence(p, q, 0.5) == pytest.approx(2.0)  # the bound 1 / (1 - q)
    assert it.tsallis_divergence(p, q, 0.25) == pytest.approx(1 / 0.75)
    assert it.tsallis_divergence(p, q, 2.0) == math.inf
    assert it.bhattacharyya_coefficient(p, q) == 0.0
    assert it.bhattacharyya_distance(p, q) == math.inf
    assert it.hellinger_distance(p, q) == 1.0
    assert it.total_variation(p, q) == 1.0
    assert it.pearson_chi_square(p, q) == math.inf
    assert it.jeffreys_divergence(p, q) == math.inf
    assert it.population_stability_index(p, q) == math.inf
    assert it.weighted_js_divergence(np.stack([p, q])) == pytest.approx(math.log(2.0), rel=1e-15)
    assert it.cross_perplexity(p, q) == math.inf


def test_partial_support_orders_below_one_are_finite() -> None:
    p, q = PARTIAL  # Q(supp p) = 3/4
    assert it.renyi_divergence(p, q, 0.0) == pytest.approx(math.log(4 / 3), rel=1e-15)
    # alpha = 1/2: -2 log(sqrt(0.5 * 0.5) + sqrt(0.25 * 0.25)) = -2 log(3/4)
    expected = -2 * math.log(0.75)
    assert it.renyi_divergence(p, q, 0.5) == pytest.approx(expected, rel=1e-14)
    for alpha in (1.0, 1.5, 2.0, math.inf):
        assert it.renyi_divergence(p, q, alpha) == math.inf, alpha
    assert math.isfinite(it.tsallis_divergence(p, q, 0.9))
    assert it.tsallis_divergence(p, q, 1.1) == math.inf


@pytest.mark.parametrize("delta", [1e-6, 1e-9, 1e-12])
def test_order_one_is_continuous(delta: float) -> None:
    rng = np.random.default_rng(3)
    p, q = rng.random(30), rng.random(30)
    p[::5] = 0.0
    p, q = p / p.sum(), q / q.sum()
    kl, h = stats.entropy(p, q), stats.entropy(p)
    for order in (1 - delta, 1 + delta):
        assert abs(it.renyi_divergence(p, q, order) - kl) <= 10 * delta * kl + 1e-13
        assert abs(it.tsallis_divergence(p, q, order) - kl) <= 10 * delta * kl + 1e-13
        assert abs(it.renyi_entropy(p, order) - h) <= 10 * delta * h + 1e-13
        assert abs(it.tsallis_entropy(p, order) - h) <= 10 * delta * h + 1e-13
    # |S_{1 + 1e-9} - H| small, as the issue asks
    assert abs(it.tsallis_entropy(p, 1 + 1e-9) - h) < 1e-8


def test_extreme_orders_stay_finite_and_ordered() -> None:
    p, q = np.array([0.7, 0.2, 0.1]), np.array([0.2, 0.3, 0.5])
    d_inf = math.log(0.7 / 0.2)
    assert it.renyi_divergence(p, q, 1e6) == pytest.approx(d_inf, rel=1e-5)
    assert it.renyi_divergence(p, q, 1e300) == pytest.approx(d_inf, rel=1e-12)
    assert it.renyi_divergence(p, q, 1e300) <= d_inf + 1e-15
    assert it.renyi_entropy(p, 1e300) == pytest.approx(-math.log(0.7), rel=1e-12)
    assert it.renyi_divergence(p, q, 1e-300) == pytest.approx(0.0, abs=1e-290)


def test_subnormal_q_is_large_but_finite() -> None:
    # p / q overflows float64 although q > 0: the values are large, not infinite
    p, q = np.array([1.0 - 1e-300, 1e-300]), np.array([1e-310, 1.0 - 1e-310])
    assert math.isfinite(it.jeffreys_divergence(p, q))
    # (1 - 1e-310)(0 - ln 1e-310) + (1 - 1e-300)(0 - ln 1e-300), to double precision
    assert it.jeffreys_divergence(p, q) == pytest.approx(
        310 * math.log(10) + 300 * math.log(10), rel=1e-12
    )
    assert it.renyi_divergence(p, q, math.inf) == pytest.approx(310 * math.log(10), rel=1e-12)
    assert it.renyi_divergence(p, q, 2.0) == pytest.approx(310 * math.log(10), rel=1e-12)


def test_batches_mark_only_their_infinite_rows() -> None:
    p = np.array([[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]])
    q = np.array([[1.0, 0.0], [0.5, 0.5], [1.0, 0.0]])
    np.testing.assert_array_equal(it.renyi_divergence(p, q, 2.0), [np.inf, 0.0, 0.0])
    np.testing.assert_array_equal(it.pearson_chi_square(p, q), [np.inf, 0.0, 0.0])
    np.testing.assert_array_equal(it.jeffreys_divergence(p, q), [np.inf, 0.0, 0.0])
    np.testing.assert_array_equal(it.total_variation(p, q), [0.5, 0.0, 0.0])


def test_one_distribution_broadcasts_against_rows() -> None:
    rows = np.array([[0.5, 0.5], [0.9, 0.1]])
    base = np.array([0.5, 0.5])
    for kernel in PAIR_KERNELS.values():
        together = kernel(rows, base)
        assert np.shape(together) == (2,)
        assert together[1] == pytest.approx(kernel(rows[1], base), rel=1e-14)


def test_types_returned() -> None:
    p, q = np.array([0.3, 0.7]), np.array([0.6, 0.4])
    for kernel in PAIR_KERNELS.values():
        assert type(kernel(p, q)) is float
        assert isinstance(kernel(np.stack([p, q]), np.stack([q, p])), np.ndarray)
    for value in (it.perplexity(p), it.cross_perplexity(p, q), it.renyi_entropy(p, 2.0)):
        assert type(value) is float


def test_weights_zero_members_take_no_part() -> None:
    p, q, r = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0])
    value = it.weighted_js_divergence(np.stack([p, q, r]), [0.5, 0.5, 0.0])
    assert value == pytest.approx(math.log(2.0), rel=1e-15)
    assert it.weighted_js_divergence(np.stack([p, q]), [1.0, 0.0]) == 0.0


def test_weighted_js_batch_of_sets() -> None:
    sets = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.5, 0.5], [0.5, 0.5]]])
    np.testing.assert_allclose(it.weighted_js_divergence(sets), [math.log(2.0), 0.0], rtol=1e-15)


# -- bad parameters: ValueError naming the parameter ----------------------------------------


@pytest.mark.parametrize("alpha", [-1e-12, -1.0, math.nan, -math.inf])
def test_bad_alpha_is_named(alpha: float) -> None:
    with pytest.raises(ValueError, match="alpha"):
        it.renyi_divergence([0.5, 0.5], [0.5, 0.5], alpha)
    with pytest.raises(ValueError, match="alpha"):
        it.renyi_entropy([0.5, 0.5], alpha)


@pytest.mark.parametrize("q", [0.0, -0.5, math.nan, math.inf])
def test_bad_q_is_named(q: float) -> None:
    with pytest.raises(ValueError, match="q must"):
        it.tsallis_entropy([0.5, 0.5], q)
    with pytest.raises(ValueError, match="q must"):
        it.tsallis_divergence([0.5, 0.5], [0.5, 0.5], q)


@pytest.mark.parametrize(
    "weights",
    [[0.5, 0.6], [1.5, -0.5], [1.0], [0.25, 0.25, 0.5], [[0.5, 0.5]], [math.nan, 1.0], [0.4, 0.5]],
)
def test_bad_weights_are_named(weights: list[float]) -> None:
    with pytest.raises(ValueError, match="weights"):
        it.weighted_js_divergence([[0.5, 0.5], [1.0, 0.0]], weights)


def test_weights_within_tolerance_are_accepted() -> None:
    third = 0.333333333  # as a client types it: sums to 1 - 1e-9
    value = it.weighted_js_divergence(np.eye(3), [third, third, third])
    assert value == pytest.approx(math.log(3.0), rel=1e-8)


@pytest.mark.parametrize(
    "positions",
    [
        [0.0, 1.0],
        [0.0, 1.0, 1.0],
        [0.0, 2.0, 1.0],
        [0.0, 1.0, math.inf],
        [0.0, math.nan, 2.0],
        [[0.0, 1.0, 2.0]],
        [-1e308, 0.0, 1e308],
    ],
)
def test_bad_positions_are_named(positions: list[float]) -> None:
    with pytest.raises(ValueError, match="positions"):
        it.wasserstein_distance([0.2, 0.3, 0.5], [0.5, 0.3, 0.2], positions)


def test_psi_band_refuses_negative_and_nan() -> None:
    for bad in (-0.1, math.nan):
        with pytest.raises(ValueError, match="psi"):
            it.psi_band(bad)


def test_unknown_unit_is_named() -> None:
    with pytest.raises(ValueError, match="unit"):
        it.renyi_divergence([0.5, 0.5], [0.5, 0.5], 2.0, "decibels")
    with pytest.raises(ValueError, match="unit"):
        it.weighted_js_divergence([[0.5, 0.5], [0.5, 0.5]], unit="decibels")


def test_inputs_are_never_modified() -> None:
    p = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    q = np.array([[0.0, 0.5, 0.5], [0.0, 0.0, 1.0]])
    p_copy, q_copy = p.copy(), q.copy()
    for kernel in PAIR_KERNELS.values():
        kernel(p, q)
    it.perplexity(p)
    it.cross_perplexity(p, q)
    it.renyi_entropy(p, 3.0)
    it.tsallis_entropy(p, 0.5)
    it.weighted_js_divergence(np.stack([p, q], axis=-2))
    np.testing.assert_array_equal(p, p_copy)
    np.testing.assert_array_equal(q, q_copy)


def test_long_rows_are_summed_in_blocks_exactly() -> None:
    # rows longer than 10,000 events take the blocked sums; compare with math.fsum
    rng = np.random.default_rng(5)
    p, q = rng.random(3 * 8192 + 17), rng.random(3 * 8192 + 17)
    p, q = p / p.sum(), q / q.sum()
    expected = math.fsum((a - b) ** 2 / b for a, b in zip(p, q, strict=True))
    assert it.pearson_chi_square(p, q) == pytest.approx(expected, rel=1e-12)
    batch = it.pearson_chi_square(np.stack([p, q]), np.stack([q, p]))
    assert batch[0] == pytest.approx(expected, rel=1e-12)


def test_renyi_near_one_with_a_subnormal_q() -> None:
    # p / q overflows to inf for q = 2.2e-311, yet log(p / q) is about 715: D_a must stay
    # below KL for a < 1 (found by hypothesis; the overflow once gave 69314)
    p, q = [0.5, 0.5, 0.0], [1.0, 2.225073858507e-311, 0.0]
    kl = it.kl_divergence(p, q)
    value = it.renyi_divergence(p, q, 0.99999)
    expected = math.log(0.5**0.99999 + 0.5**0.99999 * (2.225073858507e-311) ** 1e-5) / -1e-5
    assert value == pytest.approx(expected, rel=1e-6) and value < kl


def test_mass_where_q_is_zero_is_infinite_even_when_its_square_underflows() -> None:
    p, q = [1.3378140551267885e-191, 1.0 - 1.3378140551267885e-191], [0.0, 1.0]
    assert it.renyi_divergence(p, q, 2.0) == math.inf
    assert it.pearson_chi_square(p, q) == math.inf
    assert it.kl_divergence(p, q) == math.inf

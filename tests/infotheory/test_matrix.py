"""Pairwise matrices against per-pair evaluation: the pair kernels, scipy and hand formulas."""

from __future__ import annotations

import math
import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest
from scipy.spatial import distance

from app import infotheory as it
from app.infotheory._blocks import smallest, tiles
from app.infotheory.matrix import MATRIX_MEASURES, nearest, pairwise

RTOL = 1e-12
BASES = {"bits": 2.0, "nats": math.e, "bans": 10.0}
SYMMETRIC = [name for name, info in MATRIX_MEASURES.items() if info.symmetric]
WITH_UNIT = [name for name, info in MATRIX_MEASURES.items() if info.has_unit]
UNITLESS = [name for name, info in MATRIX_MEASURES.items() if not info.has_unit]


def _rows(m: int, n: int, seed: int, zeros: float = 0.2) -> np.ndarray:
    """Dirichlet rows with about ``zeros`` of the events set to 0 (every row keeps one)."""
    rng = np.random.default_rng(seed)
    rows = rng.dirichlet(np.full(n, 0.7), size=m)
    rows[rng.random(rows.shape) < zeros] = 0.0
    rows[np.arange(m), rng.integers(0, n, m)] += 0.1
    return rows / rows.sum(axis=1, keepdims=True)


def _chi_square(p: np.ndarray, q: np.ndarray) -> float:
    if ((p > 0) & (q == 0)).any():
        return math.inf
    keep = q > 0
    return float(np.sum((p[keep] - q[keep]) ** 2 / q[keep]))


def _hellinger(p: np.ndarray, q: np.ndarray) -> float:
    # 1 - sum sqrt(pq) written as sum (sqrt p - sqrt q)^2 / 2, equal for distributions and
    # free of cancellation, so that a reference pair of close rows is itself accurate.
    return math.sqrt(0.5 * float(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)))


PER_PAIR: dict[str, Callable[[np.ndarray, np.ndarray, str], float]] = {
    "cross_entropy": lambda p, q, unit: float(it.cross_entropy(p, q, unit)),
    "kl_divergence": lambda p, q, unit: float(it.kl_divergence(p, q, unit)),
    "js_divergence": lambda p, q, unit: float(it.js_divergence(p, q, unit)),
    "js_distance": lambda p, q, unit: float(distance.jensenshannon(p, q, base=BASES[unit])),
    "hellinger_distance": lambda p, q, _: _hellinger(p, q),
    "bhattacharyya_coefficient": lambda p, q, _: float(np.sum(np.sqrt(p * q))),
    "total_variation": lambda p, q, _: 0.5 * float(np.abs(p - q).sum()),
    "pearson_chi_square": lambda p, q, _: _chi_square(p, q),
}


def _expected(measure: str, p: np.ndarray, q: np.ndarray, unit: str = "nats") -> np.ndarray:
    return np.array([[PER_PAIR[measure](a, b, unit) for b in q] for a in p])


def _assert_matches(got: np.ndarray, expected: np.ndarray) -> None:
    assert not np.isnan(got).any()
    np.testing.assert_array_equal(np.isinf(got), np.isinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=RTOL, atol=0.0)
    assert not np.signbit(got).any()  # +0.0, never -0.0


def test_the_table_names_every_measure() -> None:
    assert set(MATRIX_MEASURES) == set(PER_PAIR)
    assert SYMMETRIC == [
        "js_divergence",
        "js_distance",
        "hellinger_distance",
        "bhattacharyya_coefficient",
        "total_variation",
    ]
    assert WITH_UNIT == ["cross_entropy", "kl_divergence", "js_divergence", "js_distance"]


@pytest.mark.parametrize("measure", list(MATRIX_MEASURES))
def test_matrix_equals_per_pair_evaluation(measure: str) -> None:
    p, q = _rows(23, 17, seed=1), _rows(19, 17, seed=2)
    got = pairwise(measure, p, q)
    assert got.shape == (23, 19) and got.dtype == np.float64
    _assert_matches(got, _expected(measure, p, q))


@pytest.mark.parametrize("measure", list(MATRIX_MEASURES))
def test_self_matrix_equals_per_pair_off_the_diagonal(measure: str) -> None:
    p = _rows(31, 12, seed=3)
    got, expected = pairwise(measure, p), _expected(measure, p, p)
    off = ~np.eye(31, dtype=bool)
    _assert_matches(got[off], expected[off])


@pytest.mark.parametrize("measure", WITH_UNIT)
@pytest.mark.parametrize("unit", ["bits", "bans"])
def test_units(measure: str, unit: str) -> None:
    p, q = _rows(9, 14, seed=4), _rows(7, 14, seed=5)
    _assert_matches(pairwise(measure, p, q, unit=unit), _expected(measure, p, q, unit))


def test_infinities_where_mass_meets_an_impossible_event() -> None:
    p = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [1e-300, 1.0 - 1e-300, 0.0]])
    q = np.array([[1.0, 0.0, 0.0], [0.25, 0.25, 0.5], [0.0, 0.5, 0.5]])
    for measure in ("cross_entropy", "kl_divergence", "pearson_chi_square"):
        got = pairwise(measure, p, q)
        np.testing.assert_array_equal(
            np.isinf(got), [[True, False, True], [True, False, False], [True, False, True]]
        )
        _assert_matches(got, _expected(measure, p, q))


def test_chi_square_with_subnormal_q() -> None:
    """1 / q overflows for a subnormal q: those events are summed pair by pair, exactly."""
    q = np.array([[0.5, 0.5 - 1e-310, 1e-310], [0.25, 0.75, 0.0]])
    p = np.array([[0.5, 0.5, 0.0], [0.4, 0.5, 0.1], [0.25, 0.25, 0.5], [0.25, 0.75, 0.0]])
    with np.errstate(over="ignore"):
        expected = _expected("pearson_chi_square", p, q)
    assert math.isfinite(expected[1, 0]) and expected[1, 0] > 1e307
    assert expected[2, 0] == math.inf  # 0.25 / 1e-310 overflows: honestly infinite
    _assert_matches(pairwise("pearson_chi_square", p, q), expected)


def test_disjoint_supports_reach_the_bounds() -> None:
    p, q = np.array([[1.0, 0.0, 0.0, 0.0]]), np.array([[0.0, 0.5, 0.5, 0.0]])
    assert pairwise("js_divergence", p, q)[0, 0] == pytest.approx(math.log(2.0), rel=1e-15)
    assert pairwise("js_divergence", p, q, unit="bits")[0, 0] == 1.0
    assert pairwise("js_distance", p, q, unit="bits")[0, 0] == 1.0
    assert pairwise("total_variation", p, q)[0, 0] == 1.0
    assert pairwise("hellinger_distance", p, q)[0, 0] == 1.0
    assert pairwise("bhattacharyya_coefficient", p, q)[0, 0] == 0.0
    assert pairwise("kl_divergence", p, q)[0, 0] == math.inf


@pytest.mark.parametrize("measure", list(MATRIX_MEASURES))
def test_self_matrix_diagonal_is_exact(measure: str) -> None:
    p = _rows(40, 9, seed=6)
    got = pairwise(measure, p)
    diagonal = MATRIX_MEASURES[measure].diagonal
    if diagonal is None:  # cross-entropy of a row with itself is its entropy
        np.testing.assert_allclose(np.diag(got), it.entropy(p), rtol=RTOL)
    else:
        np.testing.assert_array_equal(np.diag(got), diagonal)


@pytest.mark.parametrize("measure", SYMMETRIC)
def test_symmetric_self_matrix_is_exactly_symmetric(measure: str) -> None:
    p = _rows(45, 11, seed=7)
    got = pairwise(measure, p, block_bytes=4000)  # several row blocks: a real triangle
    np.testing.assert_array_equal(got, got.T)
    np.testing.assert_allclose(got, pairwise(measure, p, p.copy()), rtol=RTOL, atol=1e-15)


@pytest.mark.parametrize("measure", list(MATRIX_MEASURES))
@pytest.mark.parametrize("block_bytes", [1, 3000, 70_000])
def test_blocks_do_not_change_the_matrix(measure: str, block_bytes: int) -> None:
    p, q = _rows(37, 21, seed=8), _rows(29, 21, seed=9)
    whole = pairwise(measure, p, q, block_bytes=1 << 30)
    blocked = pairwise(measure, p, q, block_bytes=block_bytes)
    np.testing.assert_array_equal(np.isinf(blocked), np.isinf(whole))
    np.testing.assert_allclose(blocked, whole, rtol=1e-13, atol=1e-15)
    self_whole = pairwise(measure, p, block_bytes=1 << 30)
    self_blocked = pairwise(measure, p, block_bytes=block_bytes)
    np.testing.assert_allclose(self_blocked, self_whole, rtol=1e-13, atol=1e-15)


def test_tiles_stay_within_the_budget() -> None:
    for rows, cols, n, budget in [(500, 300, 256, 1 << 20), (5, 3, 10, 1 << 20), (9, 9, 1000, 1)]:
        bi, bj = tiles(rows, cols, n, budget)
        assert 1 <= bi <= rows and 1 <= bj <= cols
        assert bi * bj * n * 8 <= max(budget, n * 8)


@pytest.mark.parametrize("measure", ["kl_divergence", "js_divergence", "pearson_chi_square"])
def test_close_rows_are_computed_from_their_events(measure: str) -> None:
    # KL of rows 1e-9 apart is about 1e-18: the difference H(p, q) - H(p) of two numbers near
    # 3 holds no digit of it, so such pairs must come from the pair formula.
    p = _rows(6, 30, seed=10, zeros=0.0)
    q = p * (1.0 + 1e-9 * np.random.default_rng(11).standard_normal(p.shape))
    q /= q.sum(axis=1, keepdims=True)
    got, expected = pairwise(measure, p, q), _expected(measure, p, q)
    np.testing.assert_allclose(np.diag(got), np.diag(expected), rtol=1e-6)
    _assert_matches(got[~np.eye(6, dtype=bool)], expected[~np.eye(6, dtype=bool)])


def test_identical_rows_of_two_sets_are_at_distance_zero() -> None:
    p = _rows(8, 25, seed=12)
    for measure in ("kl_divergence", "js_divergence", "js_distance", "hellinger_distance"):
        assert np.diag(pairwise(measure, p, p.copy())).tolist() == [0.0] * 8, measure
    assert (np.diag(pairwise("total_variation", p, p.copy())) == 0.0).all()


def test_hellinger_squared_is_one_minus_bhattacharyya() -> None:
    p, q = _rows(20, 16, seed=13), _rows(15, 16, seed=14)
    hellinger = pairwise("hellinger_distance", p, q)
    bc = pairwise("bhattacharyya_coefficient", p, q)
    np.testing.assert_allclose(hellinger**2, 1.0 - bc, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hellinger, np.sqrt(1.0 - np.sqrt(p) @ np.sqrt(q).T), rtol=1e-12)


def test_one_hot_rows() -> None:
    eye = np.eye(4)
    np.testing.assert_array_equal(pairwise("total_variation", eye), 1.0 - eye)
    np.testing.assert_array_equal(pairwise("bhattacharyya_coefficient", eye), eye)
    np.testing.assert_array_equal(pairwise("js_divergence", eye, unit="bits"), 1.0 - eye)
    kl = pairwise("kl_divergence", eye)
    np.testing.assert_array_equal(kl, np.where(eye == 1.0, 0.0, np.inf))
    np.testing.assert_array_equal(pairwise("cross_entropy", eye, eye.copy()), kl)


def test_empty_sets_give_empty_matrices() -> None:
    p = _rows(3, 4, seed=15)
    assert pairwise("js_divergence", np.empty((0, 4)), p).shape == (0, 3)
    assert pairwise("kl_divergence", p, np.empty((0, 4))).shape == (3, 0)


@pytest.mark.parametrize("measure", list(MATRIX_MEASURES))
def test_nearest_is_the_head_of_each_sorted_row(measure: str) -> None:
    # Repeated rows of q make exact ties (broken by index); zeros make infinities (last).
    p = _rows(13, 10, seed=16)
    q = _rows(11, 10, seed=17, zeros=0.4)[[0, 1, 2, 2, 3, 4, 5, 5, 5, 6, 7, 8, 9, 10, 3]]
    full = pairwise(measure, p, q)
    keys = -full if MATRIX_MEASURES[measure].largest_nearest else full
    order = np.argsort(keys, axis=1, kind="stable")
    for k in (1, 4, 15):
        indices, values = nearest(measure, p, q, k=k, block_bytes=5000)
        np.testing.assert_array_equal(indices, order[:, :k])
        np.testing.assert_allclose(values, np.take_along_axis(full, order[:, :k], 1), rtol=1e-13)


@pytest.mark.parametrize("measure", ["kl_divergence", "js_distance", "bhattacharyya_coefficient"])
def test_nearest_in_one_set_finds_each_row_first(measure: str) -> None:
    p = _rows(30, 8, seed=18, zeros=0.0)
    indices, values = nearest(measure, p, k=3)
    np.testing.assert_array_equal(indices[:, 0], np.arange(30))
    np.testing.assert_array_equal(values[:, 0], MATRIX_MEASURES[measure].diagonal)
    full = pairwise(measure, p)
    np.testing.assert_allclose(values, np.take_along_axis(full, indices, 1), rtol=1e-13)


def test_smallest_orders_ties_by_index_and_infinity_last() -> None:
    rng = np.random.default_rng(19)
    keys = rng.integers(0, 4, size=(50, 30)).astype(float)
    keys[rng.random(keys.shape) < 0.2] = np.inf
    order = np.argsort(keys, axis=1, kind="stable")
    for k in (1, 2, 7, 29, 30):
        np.testing.assert_array_equal(smallest(keys, k), order[:, :k])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: pairwise("kl_divergence", [0.5, 0.5]), "p must be 2-D"),
        (lambda: pairwise("kl_divergence", np.ones((2, 2, 2))), "p must be 2-D"),
        (lambda: pairwise("kl_divergence", np.ones((2, 0))), "p must have at least one event"),
        (lambda: pairwise("kl_divergence", np.ones((2, 2)) / 2, [0.5, 0.5]), "q must be 2-D"),
        (
            lambda: pairwise("kl_divergence", np.ones((2, 2)) / 2, np.ones((2, 3)) / 3),
            "q must have as many events as p: 3 != 2",
        ),
        (lambda: pairwise("kl", np.ones((2, 2)) / 2), "unknown measure 'kl'"),
        (
            lambda: pairwise("kl_divergence", np.ones((2, 2)) / 2, unit="dits"),
            "unknown unit 'dits'",
        ),
        (
            lambda: pairwise("total_variation", np.ones((2, 2)) / 2, unit="nats"),
            "total_variation has no unit",
        ),
        (
            lambda: pairwise("js_divergence", np.ones((2, 2)) / 2, block_bytes=0),
            "block_bytes must be a positive integer",
        ),
        (
            lambda: nearest("js_divergence", np.ones((2, 2)) / 2, k=0),
            r"k must be an integer in \[1, 2\]",
        ),
        (
            lambda: nearest("js_divergence", np.ones((2, 2)) / 2, k=3),
            r"k must be an integer in \[1, 2\]",
        ),
        (lambda: nearest("js_divergence", np.ones((2, 2)) / 2, k=True), "k must be an integer"),
        (lambda: nearest("js_divergence", np.ones((2, 2)) / 2, k=1.0), "k must be an integer"),  # type: ignore[arg-type]
        (
            lambda: nearest("js_divergence", np.ones((2, 2)) / 2, np.ones((3, 3)) / 3, k=1),
            "q must have as many events",
        ),
    ],
)
def test_bad_arguments_are_named(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("measure", ["js_divergence", "total_variation", "kl_divergence"])
def test_memory_is_bounded_by_blocks(measure: str) -> None:
    """400 x 400 pairs of 64 events: an m x k x n temporary would be 82 MB."""
    p, q = _rows(400, 64, seed=20), _rows(400, 64, seed=21)
    tracemalloc.start()
    try:
        nearest(measure, p, q, k=3, block_bytes=1 << 16)
        _, nearest_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        pairwise(measure, p, q, block_bytes=1 << 16)
        _, matrix_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    inputs = p.nbytes  # transforms of q (log q and the like) are the size of an input
    assert nearest_peak < 3 * inputs + (1 << 20)
    assert matrix_peak < 400 * 400 * 8 + 3 * inputs + (1 << 20)

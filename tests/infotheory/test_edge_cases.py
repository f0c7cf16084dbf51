"""Zeros, infinities, rounding and shapes: the places where libraries are sloppy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial import distance

from app import infotheory as it


def test_zero_log_zero_is_zero() -> None:
    assert it.entropy([1.0, 0.0]) == 0.0
    assert math.copysign(1.0, it.entropy([1.0, 0.0])) == 1.0  # +0.0, never -0.0
    assert it.entropy([0.5, 0.5, 0.0], "bits") == 1.0
    assert it.kl_divergence([0.5, 0.5, 0.0], [0.25, 0.25, 0.5], "bits") == 1.0
    assert it.kl_divergence([0.5, 0.5, 0.0], [0.5, 0.5, 0.0]) == 0.0


def test_mass_on_impossible_event_is_infinite_and_named() -> None:
    p, q = [0.5, 0.25, 0.25, 0.0], [0.5, 0.5, 0.0, 0.0]
    assert it.kl_divergence(p, q) == math.inf
    assert it.cross_entropy(p, q) == math.inf
    assert it.kl_divergence(q, p) == pytest.approx(0.5 * math.log(2.0), rel=1e-15)
    assert it.infinite_events(p, q) == [[2]]
    assert it.infinite_events(q, p) == [[]]


def test_batch_marks_only_the_infinite_rows() -> None:
    p = np.array([[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]])
    q = np.array([[1.0, 0.0], [0.5, 0.5], [1.0, 0.0]])
    np.testing.assert_array_equal(it.kl_divergence(p, q), [np.inf, 0.0, 0.0])
    assert it.infinite_events(p, q) == [[1], [], []]


def test_ratio_overflow_is_not_mistaken_for_infinity() -> None:
    # p / q overflows float64 although q > 0: the value is large but finite.
    p = np.array([1.0 - 1e-300, 1e-300])
    q = np.array([1e-310, 1.0 - 1e-310])
    expected = p[0] * (math.log(p[0]) - math.log(q[0])) + p[1] * (math.log(p[1]) - math.log(q[1]))
    value = it.kl_divergence(p, q)
    assert math.isfinite(value)
    assert value == pytest.approx(expected, rel=1e-12)


def test_js_distance_never_nan_where_scipy_is() -> None:
    # Two distributions one ulp apart: scipy's sum of rel_entr rounds to a tiny negative
    # number and its square root is NaN. Ours clamps at 0 before the root.
    p = np.array([0.6159624742092721, 0.38403752579072786])
    q = np.array([0.6159624742092722, 0.38403752579072786])
    with np.errstate(invalid="ignore"):
        assert np.isnan(distance.jensenshannon(p, q))
    assert it.js_distance(p, q) == 0.0
    assert it.js_divergence(p, q) == 0.0


def test_js_bounds_and_units() -> None:
    assert it.js_divergence([1.0, 0.0], [0.0, 1.0], "bits") == 1.0
    assert it.js_divergence([1.0, 0.0], [0.0, 1.0]) == pytest.approx(math.log(2.0), rel=1e-15)
    assert it.js_distance([1.0, 0.0], [0.0, 1.0], "bits") == 1.0


def test_kl_never_negative_from_rounding() -> None:
    rng = np.random.default_rng(3)
    p = rng.random((200, 7))
    p /= p.sum(axis=1, keepdims=True)
    assert (it.kl_divergence(p, p.copy()) >= 0.0).all()
    assert (it.kl_divergence(p, p * (1 + 1e-16)) >= 0.0).all()


def test_one_distribution_against_a_batch() -> None:
    p = np.array([[0.5, 0.5], [0.9, 0.1]])
    q = np.array([0.5, 0.5])
    np.testing.assert_allclose(it.kl_divergence(p, q), [0.0, it.kl_divergence(p[1], q)])
    np.testing.assert_allclose(it.kl_divergence(q, p), [0.0, it.kl_divergence(q, p[1])])


def test_shape_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        it.kl_divergence([0.5, 0.5], [1.0])
    with pytest.raises(ValueError, match="p must not be empty"):
        it.entropy([])
    with pytest.raises(ValueError, match="unknown unit 'dits'"):
        it.entropy([1.0], "dits")
    with pytest.raises(ValueError, match="differ in rows"):
        it.js_divergence(np.ones((2, 2)) / 2, np.ones((3, 2)) / 2)


@pytest.mark.parametrize("n", [2, 3, 7, 10, 64, 999, 2048, 2049, 10**5])
def test_entropy_never_exceeds_log_n(n: int) -> None:
    # a uniform distribution's float sum can round above log n; the bound is the measure's
    p = np.full(n, 1.0 / n)
    assert it.entropy(p) <= math.log(n)
    assert it.entropy(p, "bits") <= math.log(n) / math.log(2)
    assert (it.entropy(np.tile(p, (3, 1))) <= math.log(n)).all()
    assert it.renyi_entropy(p, 1.0) <= math.log(n)

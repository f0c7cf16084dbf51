"""Properties of the pairwise matrices for any sets of distributions (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from app import infotheory as it
from app.infotheory.matrix import MATRIX_MEASURES, nearest, pairwise

CHECKS = settings(max_examples=80, deadline=None, derandomize=True)

# Weights with exact zeros and a wide range, so that rows share zeros, differ by orders of
# magnitude and sometimes repeat.
weights = st.one_of(st.just(0.0), st.floats(1e-9, 1e3), st.sampled_from([1.0, 2.0]))


@st.composite
def two_sets(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 12))
    m, k = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    rows = draw(arrays(np.float64, (m + k, n), elements=weights))
    rows[rows.sum(axis=1) == 0.0, 0] = 1.0
    rows /= rows.sum(axis=1, keepdims=True)
    return rows[:m], rows[m:]


@CHECKS
@given(two_sets())
def test_rows_equal_the_pair_kernels(sets: tuple[np.ndarray, np.ndarray]) -> None:
    """Row i of the matrix is the batch kernel of p[i] against every row of q."""
    p, q = sets
    for measure, kernel in [
        ("cross_entropy", it.cross_entropy),
        ("kl_divergence", it.kl_divergence),
        ("js_divergence", it.js_divergence),
        ("js_distance", it.js_distance),
    ]:
        got = pairwise(measure, p, q, unit="bits")
        expected = np.array([kernel(row, q, "bits") for row in p])
        np.testing.assert_array_equal(np.isinf(got), np.isinf(expected))
        finite = np.isfinite(expected)
        np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-9, atol=1e-12)


@CHECKS
@given(two_sets())
def test_bounds_and_never_nan(sets: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = sets
    for measure in MATRIX_MEASURES:
        got = pairwise(measure, p, q)
        assert not np.isnan(got).any() and (got >= 0.0).all() and not np.signbit(got).any()
    assert (pairwise("js_divergence", p, q) <= math.log(2.0)).all()
    for measure in ("hellinger_distance", "bhattacharyya_coefficient", "total_variation"):
        assert (pairwise(measure, p, q) <= 1.0).all()


@CHECKS
@given(two_sets())
def test_identities_and_inequalities(sets: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = sets
    hellinger = pairwise("hellinger_distance", p, q)
    bc = pairwise("bhattacharyya_coefficient", p, q)
    np.testing.assert_allclose(hellinger**2, 1.0 - bc, atol=1e-12)
    tv, kl = pairwise("total_variation", p, q), pairwise("kl_divergence", p, q)
    assert (tv <= np.sqrt(kl / 2.0) + 1e-12).all()  # Pinsker
    assert (hellinger**2 <= tv + 1e-12).all() and (tv <= math.sqrt(2.0) * hellinger + 1e-12).all()
    js = pairwise("js_divergence", p, q)
    np.testing.assert_allclose(pairwise("js_distance", p, q), np.sqrt(js), rtol=1e-15)
    ce = pairwise("cross_entropy", p, q)
    entropy = np.asarray(it.entropy(p))[:, None]
    np.testing.assert_allclose(ce, entropy + kl, rtol=1e-9, atol=1e-12)


@CHECKS
@given(two_sets())
def test_symmetric_measures_are_symmetric(sets: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = sets
    for measure, info in MATRIX_MEASURES.items():
        if info.symmetric:
            forward, backward = pairwise(measure, p, q), pairwise(measure, q, p)
            np.testing.assert_allclose(forward, backward.T, rtol=1e-12, atol=1e-12)
            both = np.vstack([p, q])
            assert (pairwise(measure, both) == pairwise(measure, both).T).all()


@CHECKS
@given(two_sets(), st.integers(1, 7))
def test_nearest_values_are_sorted_matrix_entries(
    sets: tuple[np.ndarray, np.ndarray], k: int
) -> None:
    p, q = sets
    k = min(k, len(q))
    for measure in ("kl_divergence", "js_distance", "bhattacharyya_coefficient"):
        indices, values = nearest(measure, p, q, k=k)
        full = pairwise(measure, p, q)
        np.testing.assert_allclose(values, np.take_along_axis(full, indices, 1), rtol=1e-12)
        ranked = -values if MATRIX_MEASURES[measure].largest_nearest else values
        assert (ranked[:, 1:] >= ranked[:, :-1]).all()
        assert all(len(set(row)) == k for row in indices.tolist())

"""The drift kernel: values against scipy and hand sums, one pass equal to feature by
feature, smoothing by hand, infinities named, a reproducible and calibrated bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon

from app.infotheory.drift import DRIFT_MEASURES, DriftFeature, drift, padded_slots


def _feature(
    window: list[int],
    reference: list[int],
    positions: list[float] | None = None,
    active: list[bool] | None = None,
) -> DriftFeature:
    w, r = np.array(window, np.int64), np.array(reference, np.int64)
    a = np.ones(w.size, bool) if active is None else np.array(active)
    return DriftFeature(w, r, a, None if positions is None else np.array(positions, float))


def test_values_against_scipy_and_hand_sums() -> None:
    w, r = [30, 50, 20], [40, 40, 20]
    p, q = np.array(w) / 100, np.array(r) / 100
    positions = [1.0, 2.5, 4.0]
    found = drift([_feature(w, r, positions)], list(DRIFT_MEASURES))
    psi = sum((pi - qi) * math.log(pi / qi) for pi, qi in zip(p, q, strict=True))
    assert found["population_stability_index"].value[0] == pytest.approx(psi, rel=1e-12)
    assert found["kl_divergence"].value[0] == pytest.approx(scipy.stats.entropy(p, q), 1e-12)
    assert found["js_divergence"].value[0] == pytest.approx(jensenshannon(p, q) ** 2, 1e-12)
    assert found["js_distance"].value[0] == pytest.approx(jensenshannon(p, q), 1e-12)
    hellinger = math.sqrt(
        sum((math.sqrt(a) - math.sqrt(b)) ** 2 for a, b in zip(p, q, strict=True)) / 2
    )
    assert found["hellinger_distance"].value[0] == pytest.approx(hellinger, 1e-12)
    assert found["total_variation"].value[0] == pytest.approx(0.1, 1e-12)
    w1 = scipy.stats.wasserstein_distance(positions, positions, p, q)
    assert found["wasserstein_distance"].value[0] == pytest.approx(w1, 1e-12)
    assert found["population_stability_index"].low is None  # no bootstrap asked


def test_one_pass_equals_feature_by_feature_with_mixed_sizes() -> None:
    rng = np.random.default_rng(5)
    features = []
    for size in (3, 5, 8, 12, 13, 40):
        r = rng.integers(1, 50, size)
        w = rng.integers(0, 50, size)
        w[0] = max(w[0], 1)
        features.append(_feature(w.tolist(), r.tolist(), np.cumsum(rng.random(size)).tolist()))
    measures = [
        "population_stability_index",
        "js_divergence",
        "wasserstein_distance",
        "kl_divergence",
    ]
    together = drift(features, measures)
    for i, f in enumerate(features):
        alone = drift([f], measures)
        p, q = f.window / f.window.sum(), f.reference / f.reference.sum()
        assert together["js_divergence"].value[i] == pytest.approx(jensenshannon(p, q) ** 2, 1e-12)
        w1 = scipy.stats.wasserstein_distance(f.positions, f.positions, p, q)
        assert together["wasserstein_distance"].value[i] == pytest.approx(w1, rel=1e-12)
        for m in measures:
            assert together[m].value[i] == alone[m].value[0]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 30), min_size=1, max_size=8), st.integers(0, 2**31))
def test_padding_never_changes_a_value(sizes: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    features = [
        _feature(rng.integers(1, 9, s).tolist(), rng.integers(1, 9, s).tolist()) for s in sizes
    ]
    found = drift(features, ["population_stability_index", "hellinger_distance"])
    for i, f in enumerate(features):
        p, q = f.window / f.window.sum(), f.reference / f.reference.sum()
        psi = float(np.sum((p - q) * np.log(p / q)))
        assert found["population_stability_index"].value[i] == pytest.approx(
            psi, rel=1e-9, abs=1e-15
        )
        assert padded_slots(len(p)) % 4 == 0 and padded_slots(len(p)) >= len(p)


def test_smoothing_by_hand_over_active_slots_only() -> None:
    # an open-ended numeric feature: the outer slots are never active
    f = _feature([0, 10, 0, 0], [0, 5, 5, 0], active=[False, True, True, False])
    alpha = 0.01
    p = np.array([10 / 10 + alpha, 0 + alpha]) / (1 + 2 * alpha)
    q = np.array([0.5 + alpha, 0.5 + alpha]) / (1 + 2 * alpha)
    found = drift([f], ["population_stability_index"], alpha=alpha)
    assert found["population_stability_index"].value[0] == pytest.approx(
        float(np.sum((p - q) * np.log(p / q))), rel=1e-12
    )
    assert found["population_stability_index"].infinite == [[]]


def test_infinite_values_name_their_slots() -> None:
    # window mass where the reference has none (slot 2), and the other way round (slot 0)
    found = drift(
        [_feature([0, 5, 5], [5, 5, 0])],
        ["population_stability_index", "kl_divergence", "js_divergence"],
    )
    assert found["population_stability_index"].value[0] == math.inf
    assert found["population_stability_index"].infinite == [[0, 2]]
    assert found["kl_divergence"].infinite == [[2]]  # D(window || reference)
    assert math.isfinite(found["js_divergence"].value[0])


def test_bootstrap_is_reproducible_and_brackets_the_value() -> None:
    f = _feature([120, 80, 100], [100, 100, 100])
    one = drift([f], ["js_divergence"], resamples=300, seed=11)["js_divergence"]
    two = drift([f], ["js_divergence"], resamples=300, seed=11)["js_divergence"]
    other = drift([f], ["js_divergence"], resamples=300, seed=12)["js_divergence"]
    assert one.low is not None and one.high is not None and one.p_value is not None
    assert one.low[0] == two.low[0] and one.p_value[0] == two.p_value[0]  # type: ignore[index]
    assert other.low is not None and other.low[0] != one.low[0]
    assert one.low[0] <= one.value[0] <= one.high[0]
    assert 1 / 301 <= one.p_value[0] <= 1


def test_p_values_are_about_uniform_under_no_drift() -> None:
    """500 features drawn from one law on both sides: about 5% reach p <= 0.05."""
    rng = np.random.default_rng(2024)
    law = np.full(10, 0.1)
    features = [
        _feature(rng.multinomial(400, law).tolist(), rng.multinomial(1500, law).tolist())
        for _ in range(500)
    ]
    p = drift(features, ["population_stability_index"], resamples=199, seed=1)[
        "population_stability_index"
    ].p_value
    assert p is not None
    share = float(np.mean(p <= 0.05))
    # binomial(500, 0.05): sd about 0.01; allow for the discreteness of the statistic
    assert 0.015 <= share <= 0.09
    shifted = [
        _feature(
            rng.multinomial(400, np.linspace(0.05, 0.15, 10)).tolist(),
            rng.multinomial(1500, law).tolist(),
        )
    ]
    p_shift = drift(shifted, ["population_stability_index"], resamples=199, seed=1)[
        "population_stability_index"
    ].p_value
    assert p_shift is not None and p_shift[0] == pytest.approx(1 / 200)


def test_bad_features_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        drift([_feature([1], [1])], ["cross_entropy"])
    with pytest.raises(ValueError, match="empty"):
        drift([_feature([0, 0], [1, 1])], ["js_divergence"])
    with pytest.raises(ValueError, match="differ"):
        drift([_feature([1, 0], [1, 1, 1])], ["js_divergence"])

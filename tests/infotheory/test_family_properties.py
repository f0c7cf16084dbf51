"""Properties of the divergence family that hold for every distribution (hypothesis)."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from app import infotheory as it

PROPERTY = settings(max_examples=150, deadline=None, derandomize=True)

weights = st.floats(min_value=0.0, max_value=1e3, allow_nan=False, allow_infinity=False)
orders = st.one_of(
    st.sampled_from([0.0, 0.5, 1.0, 2.0, math.inf]),
    st.floats(min_value=0.0, max_value=50.0, allow_nan=False),
)


@st.composite
def distributions(draw: st.DrawFn, n: int | None = None, positive: bool = False) -> np.ndarray:
    size = n if n is not None else draw(st.integers(1, 30))
    elements = st.floats(1e-6, 1e3) if positive else weights
    raw = draw(arrays(np.float64, size, elements=elements))
    if raw.sum() == 0.0:
        raw[0] = 1.0
    return raw / raw.sum()


@st.composite
def pairs(draw: st.DrawFn, positive_q: bool = False) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 30))
    return draw(distributions(n)), draw(distributions(n, positive=positive_q))


def _close(a: float, b: float, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    return a == b or math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


@PROPERTY
@given(pairs(), st.lists(orders, min_size=2, max_size=6))
def test_renyi_divergence_non_decreasing_in_alpha(
    pq: tuple[np.ndarray, np.ndarray], alphas: list[float]
) -> None:
    p, q = pq
    values = [it.renyi_divergence(p, q, a) for a in sorted(alphas)]
    for low, high in itertools.pairwise(values):
        assert low <= high or _close(low, high), values
    assert all(v >= 0.0 and not math.isnan(v) for v in values)


@PROPERTY
@given(distributions(), st.lists(orders, min_size=2, max_size=6))
def test_renyi_entropy_non_increasing_and_bounded(p: np.ndarray, alphas: list[float]) -> None:
    values = [it.renyi_entropy(p, a) for a in sorted(alphas)]
    for low, high in itertools.pairwise(values):
        assert low >= high or _close(low, high), values
    assert all(0.0 <= v <= math.log(len(p)) for v in values)


@PROPERTY
@given(pairs())
def test_renyi_of_order_one_is_kl(pq: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pq
    assert it.renyi_divergence(p, q, 1.0) == it.kl_divergence(p, q)
    assert it.renyi_entropy(p, 1.0, "bits") == it.entropy(p, "bits")


@PROPERTY
@given(pairs(positive_q=True), st.sampled_from([1e-7, -1e-7, 1e-10, -1e-10]))
def test_orders_near_one_follow_their_expansions(
    pq: tuple[np.ndarray, np.ndarray], delta: float
) -> None:
    # First order in delta = a - 1 (Taylor expansion of p exp(delta log r), by hand), with
    # moments of l = log(p / q) and of log p over p > 0 computed here from the definition:
    #   Rényi D = KL + delta/2 Var[l]     Tsallis D = KL + delta/2 E[l^2]
    #   Rényi H = H - delta/2 Var[log p]  Tsallis S = H - delta/2 E[(log p)^2]
    # A formula dividing by a - 1 naively would be off by about 1e-16 / |delta|.
    p, q = pq
    mass = p > 0
    w, log_ratio, log_p = p[mass], np.log(p[mass] / q[mass]), np.log(p[mass])
    kl, h = float(w @ log_ratio), -float(w @ log_p)
    m2_ratio, m2_p = float(w @ log_ratio**2), float(w @ log_p**2)
    cases = [
        (it.renyi_divergence(p, q, 1 + delta), kl + delta / 2 * (m2_ratio - kl**2)),
        (it.tsallis_divergence(p, q, 1 + delta), kl + delta / 2 * m2_ratio),
        (it.renyi_entropy(p, 1 + delta), h - delta / 2 * (m2_p - h**2)),
        (it.tsallis_entropy(p, 1 + delta), h - delta / 2 * m2_p),
    ]
    for got, expected in cases:
        tol = 1e-11 * (1 + abs(expected)) + 1e5 * delta**2
        assert abs(got - max(expected, 0.0)) <= tol, (got, expected)


@PROPERTY
@given(pairs())
def test_hellinger_squared_is_one_minus_bc(pq: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pq
    hellinger, bc = it.hellinger_distance(p, q), it.bhattacharyya_coefficient(p, q)
    assert 0.0 <= hellinger <= 1.0 and 0.0 <= bc <= 1.0
    assert math.isclose(hellinger**2, 1.0 - bc, abs_tol=1e-12)
    # and the Bhattacharyya distance is -ln BC; Rényi of order 1/2 is twice it
    d_b = it.bhattacharyya_distance(p, q)
    assert d_b == math.inf if bc == 0.0 else _close(d_b, -math.log(bc))
    assert _close(it.renyi_divergence(p, q, 0.5), 2 * d_b)


@PROPERTY
@given(pairs())
def test_pinsker_and_tv_bounds(pq: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pq
    tv = it.total_variation(p, q)
    assert 0.0 <= tv <= 1.0
    assert tv <= math.sqrt(it.kl_divergence(p, q) / 2) + 1e-12
    hellinger = it.hellinger_distance(p, q)
    assert hellinger**2 <= tv + 1e-12  # and TV <= sqrt(2) H
    assert tv <= math.sqrt(2) * hellinger + 1e-12


@PROPERTY
@given(st.integers(1, 5).flatmap(lambda k: st.tuples(st.just(k), st.integers(1, 20))), st.data())
def test_weighted_js_between_zero_and_entropy_of_weights(
    shape: tuple[int, int], data: st.DataObject
) -> None:
    k, n = shape
    dists = np.stack([data.draw(distributions(n)) for _ in range(k)])
    w = data.draw(distributions(k))
    value = it.weighted_js_divergence(dists, w)
    bound = -sum(x * math.log(x) for x in w if x > 0)
    assert 0.0 <= value <= bound
    # permuting the members with their weights changes nothing
    order = np.arange(k)[::-1]
    assert _close(it.weighted_js_divergence(dists[order], w[order]), value, abs_=1e-14)


@PROPERTY
@given(pairs())
def test_symmetric_measures(pq: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pq
    for kernel in (
        it.hellinger_distance,
        it.bhattacharyya_coefficient,
        it.total_variation,
        it.jeffreys_divergence,
        it.population_stability_index,
        it.wasserstein_distance,
    ):
        assert _close(kernel(p, q), kernel(q, p), rel=1e-12, abs_=1e-15), kernel
    js_pq = it.weighted_js_divergence(np.stack([p, q]))
    assert _close(js_pq, it.weighted_js_divergence(np.stack([q, p])), rel=1e-12, abs_=1e-15)
    assert _close(js_pq, it.js_divergence(p, q), rel=1e-9, abs_=1e-12)
    assert _close(it.neyman_chi_square(p, q), it.pearson_chi_square(q, p), rel=1e-12)


@PROPERTY
@given(pairs())
def test_jeffreys_is_both_kl_directions(pq: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pq
    both = it.kl_divergence(p, q) + it.kl_divergence(q, p)
    assert _close(it.jeffreys_divergence(p, q), both)
    assert it.population_stability_index(p, q) == it.jeffreys_divergence(p, q)


@PROPERTY
@given(pairs())
def test_perplexity_bounds(pq: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pq
    pp = it.perplexity(p)
    assert 1.0 <= pp <= len(p)
    assert it.cross_perplexity(p, q) >= pp * (1 - 1e-12)


def _family(p: np.ndarray, q: np.ndarray) -> dict[str, object]:
    positions = np.cumsum(np.linspace(0.5, 2.0, p.shape[-1]))
    return {
        "renyi 0": it.renyi_divergence(p, q, 0.0),
        "renyi 0.7": it.renyi_divergence(p, q, 0.7),
        "renyi 3": it.renyi_divergence(p, q, 3.0),
        "renyi inf": it.renyi_divergence(p, q, math.inf),
        "renyi entropy 2": it.renyi_entropy(p, 2.0),
        "renyi entropy 0": it.renyi_entropy(p, 0.0),
        "tsallis 0.5": it.tsallis_divergence(p, q, 0.5),
        "tsallis 2": it.tsallis_divergence(p, q, 2.0),
        "tsallis entropy 3": it.tsallis_entropy(p, 3.0),
        "hellinger": it.hellinger_distance(p, q),
        "bc": it.bhattacharyya_coefficient(p, q),
        "bhattacharyya": it.bhattacharyya_distance(p, q, "bits"),
        "tv": it.total_variation(p, q),
        "pearson": it.pearson_chi_square(p, q),
        "neyman": it.neyman_chi_square(p, q),
        "jeffreys": it.jeffreys_divergence(p, q, "bans"),
        "psi": it.population_stability_index(p, q),
        "perplexity": it.perplexity(p),
        "cross perplexity": it.cross_perplexity(p, q),
        "wasserstein": it.wasserstein_distance(p, q, positions),
        "js 2-way": it.weighted_js_divergence(np.stack([p, q], axis=-2), [0.3, 0.7]),
    }


@PROPERTY
@given(st.integers(1, 5).flatmap(lambda rows: st.lists(pairs(), min_size=rows, max_size=rows)))
def test_batch_equals_row_by_row_and_never_nan(rows: list[tuple[np.ndarray, np.ndarray]]) -> None:
    n = len(rows[0][0])
    rows = [(p, q) for p, q in rows if len(p) == n]
    p = np.stack([r[0] for r in rows])
    q = np.stack([r[1] for r in rows])
    batch = _family(p, q)
    singles = [_family(pi, qi) for pi, qi in zip(p, q, strict=True)]
    for name, values in batch.items():
        assert isinstance(values, np.ndarray) and values.shape == (len(rows),), name
        assert not np.isnan(values).any(), name
        assert (values >= 0.0).all(), name
        expected = np.array([single[name] for single in singles])
        np.testing.assert_allclose(values, expected, rtol=1e-12, atol=1e-15, err_msg=name)

"""Properties that hold for every distribution (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from app import infotheory as it

settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True)
settings.load_profile("ci")

weights = st.floats(min_value=0.0, max_value=1e3, allow_nan=False, allow_infinity=False)


@st.composite
def distributions(draw: st.DrawFn, n: int | None = None, positive: bool = False) -> np.ndarray:
    size = n if n is not None else draw(st.integers(1, 40))
    elements = st.floats(1e-6, 1e3) if positive else weights
    raw = draw(arrays(np.float64, size, elements=elements))
    if raw.sum() == 0.0:
        raw[0] = 1.0
    return raw / raw.sum()


@st.composite
def pairs(draw: st.DrawFn, positive_q: bool = True) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 40))
    return draw(distributions(n)), draw(distributions(n, positive=positive_q))


@given(distributions())
def test_divergence_from_itself_is_zero(p: np.ndarray) -> None:
    assert it.kl_divergence(p, p) == 0.0 or abs(it.kl_divergence(p, p)) < 1e-15
    assert it.js_divergence(p, p) < 1e-15


@given(pairs())
def test_cross_entropy_is_entropy_plus_kl(pq: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pq
    lhs = it.cross_entropy(p, q)
    rhs = it.entropy(p) + it.kl_divergence(p, q)
    assert math.isclose(lhs, rhs, rel_tol=1e-9, abs_tol=1e-12)


@given(pairs(positive_q=False))
def test_js_symmetric_and_bounded(pq: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pq
    js = it.js_divergence(p, q)
    assert 0.0 <= js <= math.log(2.0)
    assert math.isclose(js, it.js_divergence(q, p), rel_tol=1e-12, abs_tol=1e-15)
    assert not math.isnan(it.js_distance(p, q))


@given(pairs(positive_q=False))
def test_kl_non_negative_even_with_zeros(pq: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pq
    value = it.kl_divergence(p, q)
    assert value >= 0.0
    assert (value == math.inf) == bool(it.infinite_events(p, q)[0])


@given(pairs())
def test_units_convert_by_log_of_base(pq: tuple[np.ndarray, np.ndarray]) -> None:
    p, q = pq
    nats = it.kl_divergence(p, q, "nats")
    assert math.isclose(it.kl_divergence(p, q, "bits"), nats / math.log(2), rel_tol=1e-12)
    assert math.isclose(it.kl_divergence(p, q, "bans"), nats / math.log(10), rel_tol=1e-12)
    h = it.entropy(p, "nats")
    assert math.isclose(it.entropy(p, "bits") * math.log(2), h, rel_tol=1e-12, abs_tol=1e-300)


@given(st.integers(1, 6).flatmap(lambda rows: st.lists(pairs(), min_size=rows, max_size=rows)))
def test_batch_equals_row_by_row(rows: list[tuple[np.ndarray, np.ndarray]]) -> None:
    n = len(rows[0][0])
    rows = [(p, q) for p, q in rows if len(p) == n]
    p = np.stack([r[0] for r in rows])
    q = np.stack([r[1] for r in rows])
    for kernel in (it.kl_divergence, it.cross_entropy, it.js_divergence, it.js_distance):
        batch = kernel(p, q)
        singles = [kernel(pi, qi) for pi, qi in zip(p, q, strict=True)]
        # single rows take the compensated C loop, batches numpy's pairwise sums
        np.testing.assert_allclose(batch, singles, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(it.entropy(p), [it.entropy(pi) for pi in p], rtol=1e-12)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=80),
    st.sampled_from([0.0, 1e-15, 1e-12, 1e-9, 1e-6, 1e-3, 0.5]),
    st.floats(-1e-3, 1e-3, allow_nan=False),
)
def test_sum_check_decides_as_numpy_on_every_path(
    raw: list[float], tolerance: float, shift: float
) -> None:
    # short distributions may be accepted by an exact-sum shortcut; the decision must be the
    # numpy rule |sum - 1| <= tolerance whichever path ran
    from app.errors import InvalidInputError
    from app.schemas.common import MeasureOptions
    from app.services.distributions import _checked

    values = np.array(raw) / (sum(raw) or 1.0)
    values[0] = max(values[0] + shift, 0.0)
    expected = abs(float(values.sum()) - 1.0) <= tolerance
    try:
        _checked(values, "p", MeasureOptions(tolerance=tolerance))
        accepted = True
    except InvalidInputError:
        accepted = False
    assert accepted == expected

"""The C loops for short inputs and the numpy kernels agree, zeros and infinities included."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app import infotheory as it
from app.infotheory import _native

pytestmark = pytest.mark.skipif(_native.small is None, reason="C extension not built")


def _numpy_path(fn, *args):  # type: ignore[no-untyped-def]
    """Force the numpy path by passing one-row batches."""
    return fn(*[np.asarray(a)[np.newaxis, :] for a in args])[0]


CASES = [
    ([0.1, 0.2, 0.7], [0.3, 0.3, 0.4]),
    ([0.5, 0.5, 0.0], [0.25, 0.25, 0.5]),
    ([0.5, 0.25, 0.25, 0.0], [0.5, 0.5, 0.0, 0.0]),
    ([1.0 - 1e-300, 1e-300], [1e-310, 1.0 - 1e-310]),
    ([1.0, 0.0], [0.0, 1.0]),
]


@pytest.mark.parametrize(("p", "q"), CASES)
def test_pair_kernels_agree(p: list[float], q: list[float]) -> None:
    pa, qa = np.array(p), np.array(q)
    assert _native.small is not None and _native.small.kl(pa, qa, 64) is not None
    for kernel in (it.kl_divergence, it.cross_entropy, it.js_divergence, it.js_distance):
        fast, slow = kernel(pa, qa), _numpy_path(kernel, pa, qa)
        assert fast == pytest.approx(slow, rel=1e-13, abs=1e-300) or fast == slow == math.inf
    assert it.entropy(pa) == pytest.approx(_numpy_path(it.entropy, pa), rel=1e-13)


def test_random_inputs_agree_up_to_the_threshold() -> None:
    rng = np.random.default_rng(11)
    for n in (1, 2, 17, 500, _native.SMALL_MAX_EVENTS):
        p, q = rng.random(n), rng.random(n)
        p[1::5] = 0.0
        p, q = p / p.sum(), q / q.sum()
        assert it.kl_divergence(p, q) == pytest.approx(
            _numpy_path(it.kl_divergence, p, q), rel=1e-12
        )
        assert it.js_divergence(p, q) == pytest.approx(
            _numpy_path(it.js_divergence, p, q), rel=1e-12
        )


def test_other_inputs_fall_through_to_numpy() -> None:
    small = _native.small
    assert small is not None
    assert small.kl([0.5, 0.5], [0.5, 0.5], 64) is None  # lists
    assert small.kl(np.array([0.5, 0.5], dtype=np.float32), np.array([0.5, 0.5]), 64) is None
    assert small.kl(np.ones(10) / 10, np.ones(10) / 10, 5) is None  # above max_n
    assert small.kl(np.ones(2) / 2, np.ones(3) / 3, 64) is None  # lengths differ
    assert small.entropy(np.ones((2, 2)) / 2, 64) is None  # 2-D
    assert small.entropy((np.ones(20) / 10)[::2], 64) is None  # not contiguous
    with pytest.raises(ValueError, match="differ in length"):
        it.kl_divergence(np.ones(2) / 2, np.ones(3) / 3)

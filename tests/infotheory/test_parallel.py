"""Large inputs split across threads give the one-thread answers: entropy, cross-entropy, KL
and JS on wide rows (column chunks, partial sums added) and tall batches (row chunks), with
zeros and infinities where they were; checked against scipy as well."""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from app import infotheory as it
from app.infotheory import _parallel


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Chunks of 64 elements, 3 threads; the sizes of the chunks the kernels were given."""
    seen: list[int] = []
    monkeypatch.setattr(_parallel, "MIN_CHUNK", 64)
    real = _parallel.row_sums_in_chunks

    def spying(kernel: object, *arrays: np.ndarray) -> np.ndarray:
        def counted(*parts: np.ndarray) -> np.ndarray:
            seen.append(parts[0].size)
            return kernel(*parts)  # type: ignore[operator, no-any-return]

        return real(counted, *arrays)

    for module in ("divergence", "entropy", "jensen_shannon"):  # the modules, not the functions
        monkeypatch.setattr(sys.modules[f"app.infotheory.{module}"], "row_sums_in_chunks", spying)
    before = _parallel.threads()
    _parallel.set_threads(3)
    yield seen
    _parallel.set_threads(before)


def _pair(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    p, q = rng.random(shape), rng.random(shape)
    p[..., ::7] = 0.0  # zeros in p: 0 log 0 = 0
    p /= p.sum(axis=-1, keepdims=True)
    q /= q.sum(axis=-1, keepdims=True)
    return p, q


@pytest.mark.parametrize("shape", [(3000,), (2, 900), (50, 40)])
def test_split_answers_equal_scipy(small_chunks: list[int], shape: tuple[int, ...]) -> None:
    p, q = _pair(np.random.default_rng(7), shape)
    rows_p, rows_q = np.atleast_2d(p), np.atleast_2d(q)
    np.testing.assert_allclose(
        np.atleast_1d(it.entropy(p)), stats.entropy(rows_p, axis=-1), rtol=1e-12
    )
    np.testing.assert_allclose(
        np.atleast_1d(it.kl_divergence(p, q)), stats.entropy(rows_p, rows_q, axis=-1), rtol=1e-12
    )
    cross = -(rows_p * np.log(rows_q)).sum(axis=-1)
    np.testing.assert_allclose(np.atleast_1d(it.cross_entropy(p, q)), cross, rtol=1e-12)
    js = [distance.jensenshannon(a, b) ** 2 for a, b in zip(rows_p, rows_q, strict=True)]
    np.testing.assert_allclose(np.atleast_1d(it.js_divergence(p, q)), js, rtol=1e-10)
    assert len(small_chunks) == 4 * 3  # every call split in three
    assert sum(small_chunks) == 4 * p.size


def test_infinities_survive_the_split(small_chunks: list[int]) -> None:
    p, q = _pair(np.random.default_rng(3), (3000,))  # above the C path for short inputs
    q[2999] = 0.0  # mass of p in the last chunk only: the partial sum there is +inf
    p[2999] = 0.01
    assert it.kl_divergence(p, q) == math.inf and it.cross_entropy(p, q) == math.inf
    assert not math.isnan(it.js_divergence(p, q))
    batch_p, batch_q = _pair(np.random.default_rng(4), (50, 40))
    batch_q[17, 3] = 0.0
    batch_p[17, 3] = 0.5
    kl = it.kl_divergence(batch_p, batch_q)
    assert isinstance(kl, np.ndarray) and np.isinf(kl[17]) and np.isfinite(np.delete(kl, 17)).all()
    assert len(small_chunks) == 4 * 3


def test_small_inputs_stay_on_the_calling_thread(small_chunks: list[int]) -> None:
    p, q = _pair(np.random.default_rng(5), (2, 50))
    it.kl_divergence(p, q)  # 100 elements: under two chunks of 64
    assert small_chunks == [100]  # one call, here


def test_threads_must_be_a_positive_integer() -> None:
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="threads must be a positive integer"):
            _parallel.set_threads(bad)  # type: ignore[arg-type]

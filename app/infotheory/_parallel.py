"""Large inputs split across threads (private).

numpy's ufuncs and reductions release the GIL, so the chunks of one large input run on every
core at once. A kernel whose row values are sums over the events (entropy, cross-entropy,
KL, JS) is computed on column chunks and the partial sums added, or on row chunks of a tall
batch and the rows joined. Below ``MIN_CHUNK`` elements per chunk the hand-off costs more than
it saves, and the kernel runs on the calling thread. The threads are one pool per process,
shared by all callers, so concurrent requests queue for the cores instead of
oversubscribing them.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from app.infotheory._arrays import Float64Array

__all__ = ["MIN_CHUNK", "row_sums_in_chunks", "set_threads", "threads"]

MIN_CHUNK = 1 << 18  # elements per chunk: about 2 MiB of float64, a millisecond of log

_threads = os.cpu_count() or 1
_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def threads() -> int:
    """The number of threads a large input is split across."""
    return _threads


def set_threads(count: int) -> None:
    """Split large inputs across ``count`` threads (1: never split); ``ValueError`` if < 1."""
    global _threads, _pool
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"threads must be a positive integer, got {count!r}")
    with _lock:
        if count != _threads and _pool is not None:
            _pool.shutdown(wait=False)
            _pool = None
        _threads = count


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_threads, thread_name_prefix="kernel")
        return _pool


def row_sums_in_chunks(kernel: Callable[..., Float64Array], *arrays: Float64Array) -> Float64Array:
    """``kernel(*arrays)``, the row sums of 2-D ``arrays`` of one shape, split across threads
    when the input is large enough: the same values up to the order of summation."""
    rows, cols = arrays[0].shape
    parts = min(_threads, arrays[0].size // MIN_CHUNK)
    if parts < 2:
        return kernel(*arrays)
    pool = _executor()
    if rows >= parts:  # a tall batch: whole rows per chunk
        cuts = np.linspace(0, rows, parts + 1).astype(int)
        futures = [
            pool.submit(kernel, *(a[lo:hi] for a in arrays))
            for lo, hi in itertools.pairwise(cuts.tolist())
        ]
        return np.concatenate([f.result() for f in futures])
    cuts = np.linspace(0, cols, parts + 1).astype(int)
    futures = [
        pool.submit(kernel, *(a[:, lo:hi] for a in arrays))
        for lo, hi in itertools.pairwise(cuts.tolist())
    ]
    total = futures[0].result()
    for future in futures[1:]:
        total = total + future.result()
    return total

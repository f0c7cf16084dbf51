"""Mutual information of a 1000 x 1000 table against what a user would call instead, interleaved
(part of ``make bench``).

Every contender starts from the same table of counts and returns I(X; Y) in nats:

- ours: ``app.infotheory.joint.mutual_information(C / C.sum())``;
- the numpy one-liner: ``P = C / C.sum()``, then
  ``(P * np.log(P / np.outer(P.sum(1), P.sum(0))))[P > 0].sum()``;
- scikit-learn's ``mutual_info_score(None, None, contingency=C)`` where scikit-learn is
  importable (it is not a dependency of the service: ``pip install scikit-learn`` to include it).

Tables: Poisson(3) counts (about 5% zeros) with a dependent band, and an independent table
of counts (the outer product of two count vectors: its MI is 0, computed to rounding).
Timing as in ``kernels.py``: the
contenders take turns in every repetition (the order rotating), each cell a median. The ratio
is the alternative's time over ours (above 1: ours is faster); the issue's target is 1.0.
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np

from app.infotheory.joint import mutual_information

Fn = Callable[[], Any]
TARGET = 1.0
REPEATS = 11


def _one_liner(c: np.ndarray) -> float:
    p = c / c.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        return float((p * np.log(p / np.outer(p.sum(1), p.sum(0))))[p > 0].sum())


def _tables(n: int = 1000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    counts = rng.poisson(3.0, size=(n, n)).astype(np.float64)
    band = np.abs(np.subtract.outer(np.arange(n), np.arange(n))) < 5
    counts[band] += rng.poisson(20.0, size=int(band.sum()))
    rows, cols = rng.integers(1, 10, size=n), rng.integers(1, 10, size=n)
    return {"counts, banded": counts, "independent": np.outer(rows, cols).astype(np.float64)}


def _alternatives(c: np.ndarray) -> list[tuple[str, Fn]]:
    found: list[tuple[str, Fn]] = [("numpy one-liner", lambda: _one_liner(c))]
    try:
        from sklearn.metrics import mutual_info_score  # type: ignore[import-not-found]
    except ImportError:
        print("scikit-learn is not installed: numpy one-liner only", file=sys.stderr)
        return found
    found.append(
        ("sklearn mutual_info_score", lambda: mutual_info_score(None, None, contingency=c))
    )
    return found


def interleaved(contenders: list[Fn], repeats: int = REPEATS) -> list[float]:
    """Median seconds per call of each contender, timed in turns."""
    times: list[list[float]] = [[] for _ in contenders]
    for r in range(repeats):
        order = list(range(len(contenders)))
        order = order[r % len(order) :] + order[: r % len(order)]
        for i in order:
            start = time.perf_counter()
            contenders[i]()
            times[i].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def main() -> int:
    head = (
        f"# MI of a 1000 x 1000 table, {datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, "
        f"numpy {np.__version__}, interleaved medians of {REPEATS}"
    )
    print(head)
    print(f"{'table':<16} {'alternative':<26} {'ours':>9} {'theirs':>9} {'ratio':>7}  target")
    missed = 0
    for label, c in _tables().items():
        ours: Fn = lambda c=c: mutual_information(c / c.sum())  # noqa: E731
        alternatives = _alternatives(c)
        for _, theirs in alternatives:
            value, expected = ours(), theirs()
            assert abs(value - expected) <= 1e-9 * abs(expected) + 1e-14, (value, expected)
        times = interleaved([ours, *(call for _, call in alternatives)])
        for (name, _), t in zip(alternatives, times[1:], strict=True):
            ratio = t / times[0]
            ok = ratio >= TARGET
            missed += not ok
            print(
                f"{label:<16} {name:<26} {times[0] * 1e3:>7.2f}ms {t * 1e3:>7.2f}ms "
                f"{ratio:>6.2f}x  >={TARGET:g}x {'met' if ok else 'MISSED'}",
                flush=True,
            )
    print("all targets met" if not missed else f"{missed} target(s) missed")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

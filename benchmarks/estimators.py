"""Time the k-NN estimators against what a user would call instead (issue 14).

One command: ``.venv/bin/python benchmarks/estimators.py`` (part of ``make bench``).

- Kozachenko-Leonenko entropy, 1-D, n = 10**4, 10**5 (and 10**6): against the cKDTree script
  a user would write for the same estimator (``tree.query(x, k + 1)``, then the formula), and
  against ``scipy.stats.differential_entropy`` (Vasicek's m-spacing estimator: another
  estimator, but the one library call for a 1-D sample's entropy; not checked to agree).
- Kozachenko-Leonenko entropy, 3-D, n = 10**5, and the Wang-Kulkarni-Verdu KL, 1-D and 3-D,
  against the cKDTree script.

Target: at least as fast (ratio >= 1.0). The script's answer is checked to agree with ours
before timing. Timing: within each repetition the two run back to back in alternating
order, each for a fixed number of calls; the cell is the median over the repetitions; the
ratio is the alternative's time over ours (above 1: ours is faster).
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats
from scipy.spatial import cKDTree

from app.infotheory import knn

REPEATS = 7
K = 3


@dataclass(frozen=True)
class Contest:
    case: str
    ours: Callable[[], Any]
    theirs: Callable[[], Any]
    alternative: str
    same_estimator: bool


def _log_ball(d: int) -> float:
    return d / 2 * math.log(math.pi) - math.lgamma(d / 2 + 1)


def tree_entropy(x: np.ndarray, k: int) -> float:
    """The script: Kozachenko-Leonenko with cKDTree."""
    points = x.reshape(len(x), -1)
    n, d = points.shape
    dist, _ = cKDTree(points).query(points, k=k + 1)
    return float(
        special.digamma(n) - special.digamma(k) + _log_ball(d) + d * np.log(dist[:, k]).mean()
    )


def tree_kl(x: np.ndarray, y: np.ndarray, k: int) -> float:
    """The script: Wang-Kulkarni-Verdu with two cKDTrees."""
    xs, ys = x.reshape(len(x), -1), y.reshape(len(y), -1)
    n, d = xs.shape
    rho, _ = cKDTree(xs).query(xs, k=k + 1)
    nu, _ = cKDTree(ys).query(xs, k=k)
    nu_k = nu if k == 1 else nu[:, k - 1]
    return float(d * np.mean(np.log(nu_k) - np.log(rho[:, k])) + math.log(len(ys) / (n - 1)))


def _contests() -> list[Contest]:
    rng = np.random.default_rng(0)
    out = []
    for n in (10**4, 10**5, 10**6):
        x = rng.normal(size=n)
        label = f"H 1-D n=1e{round(math.log10(n))}"
        if n < 10**6:  # the tree takes many seconds at 10**6 in one dimension
            out.append(Contest(label, lambda x=x: knn.knn_entropy(x, K),
                               lambda x=x: tree_entropy(x, K), "cKDTree script", True))  # fmt: skip
        out.append(Contest(label, lambda x=x: knn.knn_entropy(x, K),
                           lambda x=x: stats.differential_entropy(x),
                           "scipy differential_entropy", False))  # fmt: skip
    points = rng.normal(size=(10**5, 3))
    out.append(Contest("H 3-D n=1e5", lambda: knn.knn_entropy(points, K),
                       lambda: tree_entropy(points, K), "cKDTree script", True))  # fmt: skip
    x, y = rng.normal(size=10**5), rng.normal(0.5, 1.5, size=10**5)
    out.append(Contest("KL 1-D n=m=1e5", lambda: knn.knn_kl_divergence(x, y, K).raw,
                       lambda: tree_kl(x, y, K), "cKDTree script", True))  # fmt: skip
    xs, ys = rng.normal(size=(10**5, 3)), rng.normal(0.5, 1.5, size=(10**5, 3))
    out.append(Contest("KL 3-D n=m=1e5", lambda: knn.knn_kl_divergence(xs, ys, K).raw,
                       lambda: tree_kl(xs, ys, K), "cKDTree script", True))  # fmt: skip
    return out


def _calls_per_timing(fn: Callable[[], Any]) -> int:
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    return max(1, int(0.05 / max(once, 1e-7)))


def _interleaved(ours: Callable[[], Any], theirs: Callable[[], Any]) -> tuple[float, float]:
    """Median seconds per call of each, alternating which runs first in each repetition."""
    number = min(_calls_per_timing(ours), _calls_per_timing(theirs))
    times: dict[int, list[float]] = {0: [], 1: []}
    for rep in range(REPEATS):
        order = (0, 1) if rep % 2 == 0 else (1, 0)
        for which in order:
            fn = ours if which == 0 else theirs
            start = time.perf_counter()
            for _ in range(number):
                fn()
            times[which].append((time.perf_counter() - start) / number)
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> int:
    print(f"{'case':<16} {'alternative':<28} {'ours':>10} {'theirs':>10} {'ratio':>8}  target")
    missed = 0
    for c in _contests():
        if c.same_estimator:
            np.testing.assert_allclose(c.ours(), c.theirs(), rtol=1e-9, err_msg=c.case)
        t_ours, t_theirs = _interleaved(c.ours, c.theirs)
        ratio = t_theirs / t_ours
        ok = ratio >= 1.0
        missed += not ok
        print(
            f"{c.case:<16} {c.alternative:<28} {t_ours * 1e3:>8.2f}ms {t_theirs * 1e3:>8.2f}ms "
            f"{ratio:>7.2f}x  >=1x {'ok' if ok else 'MISSED'}",
            flush=True,
        )
    print("all targets met" if not missed else f"{missed} target(s) missed")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

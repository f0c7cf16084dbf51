"""Time the divergence family against the best alternative a user would write (issue 13).

One command: ``.venv/bin/python benchmarks/family.py``. Cases: n = 10**3, 10**4 and 10**6
events, and a 1000 x 1000 batch (one distribution per row, every row its own pair). The
alternative is scipy's call where scipy has the measure (target: ours at least 3x faster),
else the numpy one-liner a user would write (target: at least 1.0x). The inputs are strictly
positive, so every one-liner is correct (with zeros several would give NaN) and every value
finite; each pair of contenders is checked to agree before it is timed.

Timing: within each repetition the two contenders run back to back, in alternating order,
each for a fixed number of calls; the cell is the median over the repetitions. The ratio is
the alternative's time over ours (above 1: ours is faster).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats
from scipy.spatial import distance

from app import infotheory as it

REPEATS = 21
TARGET = {"scipy": 3.0, "numpy": 1.0}


@dataclass(frozen=True)
class Contest:
    measure: str
    ours: Callable[[], Any]
    theirs: Callable[[], Any]
    kind: str  # "scipy" or "numpy": which target applies
    alternative: str


def _inputs(shape: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p, q = rng.random(shape) + 1e-3, rng.random(shape) + 1e-3
    p /= p.sum(axis=-1, keepdims=True)
    q /= q.sum(axis=-1, keepdims=True)
    return p, q


def _power_sum(p: np.ndarray, q: np.ndarray, a: float) -> Any:
    return np.sum(p**a * q ** (1 - a), axis=-1)


def _contests(p: np.ndarray, q: np.ndarray) -> list[Contest]:
    batch = p.ndim == 2
    x = np.arange(p.shape[-1], dtype=np.float64)
    members = p if batch else np.stack([p, q, 0.5 * (p + q)])  # 1000 members, or 3
    w = np.full(members.shape[0], 1.0 / members.shape[0])
    out: list[Contest] = []

    def add(
        measure: str, ours: Callable[[], Any], theirs: Callable[[], Any], kind: str, alt: str
    ) -> None:
        out.append(Contest(measure, ours, theirs, kind, alt))

    for a in (0.5, 2.0, 3.7):
        add(
            f"renyi D a={a:g}",
            lambda a=a: it.renyi_divergence(p, q, a),
            lambda a=a: np.log(_power_sum(p, q, a)) / (a - 1),
            "numpy",
            "log(sum p**a q**(1-a))/(a-1)",
        )
    for a in (2.0, 3.7):
        add(
            f"renyi H a={a:g}",
            lambda a=a: it.renyi_entropy(p, a),
            lambda a=a: np.log(np.sum(p**a, axis=-1)) / (1 - a),
            "numpy",
            "log(sum p**a)/(1-a)",
        )
    add(
        "tsallis S q=2",
        lambda: it.tsallis_entropy(p, 2.0),
        lambda: 1 - np.sum(p**2, axis=-1),
        "numpy",
        "1 - sum p**2",
    )
    add(
        "tsallis D q=1.5",
        lambda: it.tsallis_divergence(p, q, 1.5),
        lambda: (_power_sum(p, q, 1.5) - 1) / 0.5,
        "numpy",
        "(sum p**q r**(1-q) - 1)/(q-1)",
    )
    add(
        "hellinger",
        lambda: it.hellinger_distance(p, q),
        lambda: np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2, axis=-1)),
        "numpy",
        "sqrt(sum (sqrt p - sqrt q)**2 / 2)",
    )
    add(
        "bhattacharyya BC",
        lambda: it.bhattacharyya_coefficient(p, q),
        lambda: np.sum(np.sqrt(p * q), axis=-1),
        "numpy",
        "sum sqrt(p q)",
    )
    add(
        "bhattacharyya D",
        lambda: it.bhattacharyya_distance(p, q),
        lambda: -np.log(np.sum(np.sqrt(p * q), axis=-1)),
        "numpy",
        "-log sum sqrt(p q)",
    )
    if not batch:
        add(
            "total variation",
            lambda: it.total_variation(p, q),
            lambda: distance.cityblock(p, q) / 2,
            "scipy",
            "distance.cityblock / 2",
        )
        add(
            "total variation",
            lambda: it.total_variation(p, q),
            lambda: distance.braycurtis(p, q),
            "scipy",
            "distance.braycurtis",
        )
    add(
        "total variation",
        lambda: it.total_variation(p, q),
        lambda: 0.5 * np.abs(p - q).sum(axis=-1),
        "numpy",
        "0.5 sum |p - q|",
    )
    add(
        "pearson chi2",
        lambda: it.pearson_chi_square(p, q),
        lambda: stats.chisquare(p, q, axis=-1).statistic,
        "scipy",
        "stats.chisquare",
    )
    add(
        "pearson chi2",
        lambda: it.pearson_chi_square(p, q),
        lambda: np.sum((p - q) ** 2 / q, axis=-1),
        "numpy",
        "sum (p - q)**2 / q",
    )
    add(
        "neyman chi2",
        lambda: it.neyman_chi_square(p, q),
        lambda: stats.power_divergence(p, q, lambda_="neyman", axis=-1).statistic,
        "scipy",
        "stats.power_divergence neyman",
    )
    add(
        "neyman chi2",
        lambda: it.neyman_chi_square(p, q),
        lambda: np.sum((p - q) ** 2 / p, axis=-1),
        "numpy",
        "sum (p - q)**2 / p",
    )
    add(
        "jeffreys",
        lambda: it.jeffreys_divergence(p, q),
        lambda: special.rel_entr(p, q).sum(axis=-1) + special.rel_entr(q, p).sum(axis=-1),
        "scipy",
        "rel_entr(p,q) + rel_entr(q,p)",
    )
    add(
        "jeffreys / psi",
        lambda: it.population_stability_index(p, q),
        lambda: np.sum((p - q) * np.log(p / q), axis=-1),
        "numpy",
        "sum (p - q) log(p / q)",
    )
    add(
        f"weighted JS k={members.shape[0]}",
        lambda: it.weighted_js_divergence(members, w),
        lambda: special.entr(w @ members).sum() - w @ special.entr(members).sum(axis=-1),
        "numpy",
        "entr(w @ P).sum() - w @ entr(P).sum(1)",
    )
    add(
        "perplexity",
        lambda: it.perplexity(p),
        lambda: np.exp(stats.entropy(p, axis=-1)),
        "scipy",
        "exp(stats.entropy(p))",
    )
    add(
        "perplexity",
        lambda: it.perplexity(p),
        lambda: np.exp(-np.sum(p * np.log(p), axis=-1)),
        "numpy",
        "exp(-sum p log p)",
    )
    add(
        "cross-perplexity",
        lambda: it.cross_perplexity(p, q),
        lambda: np.exp(-np.sum(p * np.log(q), axis=-1)),
        "numpy",
        "exp(-sum p log q)",
    )
    if batch:
        add(
            "wasserstein",
            lambda: it.wasserstein_distance(p, q, x),
            lambda: [stats.wasserstein_distance(x, x, pi, qi) for pi, qi in zip(p, q, strict=True)],
            "scipy",
            "stats.wasserstein_distance per row",
        )
    else:
        add(
            "wasserstein",
            lambda: it.wasserstein_distance(p, q, x),
            lambda: stats.wasserstein_distance(x, x, p, q),
            "scipy",
            "stats.wasserstein_distance",
        )
    add(
        "wasserstein",
        lambda: it.wasserstein_distance(p, q, x),
        lambda: np.sum(np.abs(np.cumsum(p - q, axis=-1))[..., :-1] * np.diff(x), axis=-1),
        "numpy",
        "sum |cumsum(p - q)|[:-1] * diff(x)",
    )
    add(
        "wasserstein 0..n-1",
        lambda: it.wasserstein_distance(p, q),
        lambda: np.sum(np.abs(np.cumsum(p - q, axis=-1))[..., :-1], axis=-1),
        "numpy",
        "sum |cumsum(p - q)|[:-1]",
    )
    return out


def _calls_per_timing(fn: Callable[[], Any]) -> int:
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    return max(1, int(5e-3 / max(once, 1e-7)))


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
    cases = [
        ("n=1e3", (1000,)),
        ("n=1e4", (10_000,)),
        ("n=1e6", (10**6,)),
        ("1000x1000", (1000, 1000)),
    ]
    header = f"{'case':<10} {'measure':<18} {'alternative':<38} {'ours':>10} {'theirs':>10} {'ratio':>8}  target"
    print(header)
    missed = 0
    for label, shape in cases:
        p, q = _inputs(shape)
        for c in _contests(p, q):
            np.testing.assert_allclose(c.ours(), c.theirs(), rtol=1e-9, err_msg=c.measure)
            t_ours, t_theirs = _interleaved(c.ours, c.theirs)
            ratio = t_theirs / t_ours
            need = TARGET[c.kind]
            ok = ratio >= need
            missed += not ok
            print(
                f"{label:<10} {c.measure:<18} {c.alternative:<38} {t_ours * 1e6:>8.1f}us "
                f"{t_theirs * 1e6:>8.1f}us {ratio:>7.2f}x  >={need:g}x {'ok' if ok else 'MISSED'}",
                flush=True,
            )
    print("all targets met" if not missed else f"{missed} target(s) missed")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

"""The kernels against what a user would call instead, interleaved (``make bench``).

For each case the contenders run in turns within every repetition (ours, then each
alternative, the order rotating from one repetition to the next), so no contender profits
from pages or caches another left warm; a cell is the median over the repetitions. The ratio
is the alternative's time over ours (above 1: ours is faster). Every tenth event of p is 0,
so zero handling is part of what is timed.

Alternatives: the numpy one-liner a user would write
(``np.where(p > 0, p * np.log(p / q), 0).sum(axis=-1)`` for KL, its like for entropy), and
scipy's same-work call (``scipy.stats.entropy``, ``scipy.special.rel_entr(...).sum``,
``scipy.spatial.distance.jensenshannon``).

Prints the table; ``--write FILE`` also saves it (nothing in the tracked tree is written
unless asked).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy import special, stats
from scipy.spatial import distance

from app import infotheory as it

Fn = Callable[[], Any]


def _inputs(shape: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p, q = rng.random(shape), rng.random(shape)
    p[..., ::10] = 0.0
    p /= p.sum(axis=-1, keepdims=True)
    q /= q.sum(axis=-1, keepdims=True)
    return p, q


def interleaved(contenders: list[Fn], size: int, repeats: int = 9) -> list[float]:
    """Median seconds per call of each contender, timed in turns."""
    number = max(1, 300_000 // size)
    times: list[list[float]] = [[] for _ in contenders]
    for r in range(repeats):
        order = list(range(len(contenders)))
        order = order[r % len(order) :] + order[: r % len(order)]
        for i in order:
            start = time.perf_counter()
            for _ in range(number):
                contenders[i]()
            times[i].append((time.perf_counter() - start) / number)
    return [statistics.median(t) for t in times]


def _numpy_kl(p: np.ndarray, q: np.ndarray) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, p * np.log(p / q), 0.0).sum(axis=-1)


def _numpy_entropy(p: np.ndarray) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(p > 0, p * np.log(p), 0.0).sum(axis=-1)


def _groups(p: np.ndarray, q: np.ndarray) -> list[tuple[str, Fn, list[tuple[str, Fn, float]]]]:
    """(measure, ours, [(alternative, call, target ratio)])."""
    axis = {"axis": -1}
    big = p.size >= 10**6
    long = p.shape[-1] >= 10**6  # the one-liner goal is about n, the length of a distribution
    return [
        (
            "KL",
            lambda: it.kl_divergence(p, q),
            [
                ("numpy one-liner", lambda: _numpy_kl(p, q), 1.8 if long else 1.0),
                ("stats.entropy(p, q)", lambda: stats.entropy(p, q, **axis), 5.0 if big else 1.0),
                ("rel_entr(p, q).sum()", lambda: special.rel_entr(p, q).sum(axis=-1), 1.0),
            ],
        ),
        (
            "entropy",
            lambda: it.entropy(p),
            [
                ("numpy one-liner", lambda: _numpy_entropy(p), 1.8 if long else 1.0),
                ("stats.entropy(p)", lambda: stats.entropy(p, **axis), 1.0),
            ],
        ),
        (
            "JS distance",
            lambda: it.js_distance(p, q),
            [("jensenshannon(p, q)", lambda: distance.jensenshannon(p, q, **axis), 1.0)],
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", type=Path, help="also save the table to this file")
    parser.add_argument("--quick", action="store_true", help="n up to 10**6, fewer repeats")
    args = parser.parse_args(argv)
    sizes = [("n=1e3", (10**3,)), ("n=1e4", (10**4,)), ("n=1e5", (10**5,)), ("n=1e6", (10**6,))]
    if not args.quick:
        sizes += [("n=1e7", (10**7,)), ("1000x1000", (1000, 1000))]
    head = (
        f"# make bench, {datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, "
        f"numpy {np.__version__}, interleaved medians"
    )
    lines = [head, f"{'case':<10} {'measure':<12} {'alternative':<22} {'ours':>10} {'theirs':>10} "
             f"{'ratio':>7}  target"]  # fmt: skip
    print("\n".join(lines), flush=True)
    missed = 0
    for label, shape in sizes:
        p, q = _inputs(shape)
        for measure, ours, alternatives in _groups(p, q):
            for _name, theirs, _ in alternatives:
                np.testing.assert_allclose(ours(), theirs(), rtol=1e-9, atol=1e-12)
            times = interleaved(
                [ours, *(a[1] for a in alternatives)], p.size, 5 if args.quick else 9
            )
            for (name, _, target), t in zip(alternatives, times[1:], strict=True):
                ratio = t / times[0]
                ok = ratio >= target
                missed += not ok
                lines.append(
                    f"{label:<10} {measure:<12} {name:<22} {times[0] * 1e6:>8.1f}us "
                    f"{t * 1e6:>8.1f}us {ratio:>6.2f}x  >={target:g}x {'met' if ok else 'MISSED'}"
                )
                print(lines[-1], flush=True)
    lines.append("all targets met" if not missed else f"{missed} target(s) missed")
    print(lines[-1])
    if args.write:
        args.write.write_text("\n".join(lines) + "\n")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

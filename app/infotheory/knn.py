"""k-nearest-neighbour estimators for continuous samples (Euclidean distance, scipy's cKDTree).

Samples are ``(n, d)`` float64 arrays (a 1-D array is ``n`` points in one dimension).

- Kozachenko-Leonenko entropy (Kozachenko and Leonenko 1987; the form of Kraskov, Stoegbauer
  and Grassberger 2004, eq. 20, with the Euclidean ball):
  ``H = psi(n) - psi(k) + ln V_d + (d/n) sum_i ln r_k(i)``, ``r_k(i)`` the distance from
  ``x_i`` to its k-th nearest other point, ``V_d = pi^(d/2) / Gamma(d/2 + 1)`` the unit ball's
  volume. Differential entropy: any real number.
- Wang, Kulkarni and Verdu (2009), eq. 5: ``D(P || Q) = (d/n) sum_i ln(nu_k(i) / rho_k(i))
  + ln(m / (n - 1))``, ``rho_k(i)`` the distance from ``x_i`` to its k-th nearest other
  point of ``x`` (``n`` points from P), ``nu_k(i)`` to its k-th nearest point of ``y``
  (``m`` points from Q). The estimator can fall below 0 by chance; ``raw`` keeps that value.

Ties at a positive distance are harmless. A zero k-th distance (a point with k others at the
same place) would take ``ln 0``: :class:`CoincidentPointsError` names the point instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special
from scipy.spatial import cKDTree

from app.infotheory._arrays import Float64Array
from app.infotheory.units import nats_per_unit

__all__ = [
    "CoincidentPointsError",
    "KnnDivergence",
    "as_points",
    "knn_entropy",
    "knn_kl_divergence",
    "kth_distances",
    "log_unit_ball_volume",
]

_QUERY_CELLS = 2**20
"""Neighbour distances held at once while querying (8 MiB)."""


class CoincidentPointsError(ValueError):
    """Point ``index`` of the sample ``x`` has a zero k-th-neighbour distance (to other
    points of ``x``, or to points of ``y``)."""

    def __init__(self, sample: str, index: int, k: int, other: str) -> None:
        self.sample, self.index = sample, index
        others = "other points of x" if other == "x" else "points of y"
        super().__init__(
            f"point {index} has {k} or more {others} at the same place (a k-th neighbour "
            "distance of 0, whose log the estimator would take): remove duplicates, add "
            "jitter, or raise k"
        )


def as_points(x: ArrayLike) -> Float64Array:
    """``x`` as an ``(n, d)`` float64 array (1-D input is one dimension)."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError("samples must be 1-D or 2-D (n points x d dimensions)")
    return arr


def kth_distances(reference: Float64Array, queries: Float64Array, k: int) -> Float64Array:
    """The distance from each query point to its k-th nearest point of ``reference``
    (k >= 1; a query that is also in ``reference`` counts itself, at distance 0), by
    ``cKDTree.query`` in chunks, so that memory stays bounded whatever n and k."""
    tree = cKDTree(reference)
    rows = max(1, _QUERY_CELLS // k)
    out = np.empty(queries.shape[0])
    for start in range(0, queries.shape[0], rows):
        dist, _ = tree.query(queries[start : start + rows], k=[k])
        out[start : start + rows] = dist[:, 0]
    return out


# In one dimension the k nearest points of a sorted sample lie among the k on either side of
# a query: with L_j and R_j the distances to the j-th point on the left and on the right (each
# increasing in j), the k-th smallest of both lists is min_j max(L_j, R_(k-j)), L_0 = R_0 = 0.
# That is 2k vector passes over the sample after a sort, where the tree costs n log n queries.


def _kth_of_two_sides(left: list[Float64Array], right: list[Float64Array], k: int) -> Float64Array:
    """``min_j max(L_j, R_(k-j))`` over ``j = 0..k`` (``L_0 = R_0 = 0``): the k-th smallest
    of two increasing lists of distances, element-wise."""
    best = right[k - 1].copy()  # j = 0: all k from the right
    np.minimum(best, left[k - 1], out=best)  # j = k: all k from the left
    for j in range(1, k):
        np.minimum(best, np.maximum(left[j - 1], right[k - j - 1]), out=best)
    return best


def _self_kth_1d(ordered: Float64Array, k: int) -> Float64Array:
    """For each point of a sorted sample, the distance to its k-th nearest other point."""
    padded = np.concatenate([np.full(k, -np.inf), ordered, np.full(k, np.inf)])
    out = np.empty(ordered.size)
    rows = max(1, _QUERY_CELLS // (2 * k))  # 2k distance arrays of this length at once
    for start in range(0, ordered.size, rows):
        chunk = ordered[start : start + rows]
        at = start + k  # chunk[0] is padded[at]
        left = [chunk - padded[at - j : at - j + chunk.size] for j in range(1, k + 1)]
        right = [padded[at + j : at + j + chunk.size] - chunk for j in range(1, k + 1)]
        out[start : start + chunk.size] = _kth_of_two_sides(left, right, k)
    return out


def _cross_kth_1d(ordered: Float64Array, queries: Float64Array, k: int) -> Float64Array:
    """For each query, the distance to its k-th nearest point of the sorted ``ordered``."""
    padded = np.concatenate([np.full(k, -np.inf), ordered, np.full(k, np.inf)])
    out = np.empty(queries.size)
    rows = max(1, _QUERY_CELLS // (2 * k))
    for start in range(0, queries.size, rows):
        chunk = queries[start : start + rows]
        # ordered[first - j] is padded[first + k - j]: the j-th point on the left
        first = np.searchsorted(ordered, chunk) + k
        left = [chunk - padded[first - j] for j in range(1, k + 1)]
        right = [padded[first + j - 1] - chunk for j in range(1, k + 1)]
        out[start : start + chunk.size] = _kth_of_two_sides(left, right, k)
    return out


def log_unit_ball_volume(d: int) -> float:
    """``ln V_d``, the volume of the unit Euclidean ball in ``d`` dimensions."""
    return 0.5 * d * math.log(math.pi) - float(special.gammaln(0.5 * d + 1.0))


def _distances(
    points: Float64Array, k: int, reference: Float64Array | None = None
) -> tuple[Float64Array, Float64Array | None]:
    """For each point, the distance to its k-th nearest other point (``reference`` None) or
    to its k-th nearest point of ``reference``; and, in one dimension, where the results
    come sorted, the sorted values (to name a point in an error)."""
    if points.shape[1] != 1:
        if reference is None:
            return kth_distances(points, points, k + 1), None
        return kth_distances(reference, points, k), None
    ordered = np.sort(points[:, 0])
    if reference is None:
        return _self_kth_1d(ordered, k), ordered
    return _cross_kth_1d(np.sort(reference[:, 0]), ordered, k), ordered


def _logs(
    distances: Float64Array,
    ordered: Float64Array | None,
    points: Float64Array,
    k: int,
    other: str,
) -> Float64Array:
    """``ln`` of the distances, or CoincidentPointsError naming the first point (as given)
    whose distance is 0."""
    zero = distances == 0.0
    if zero.any():
        at = int(np.flatnonzero(zero)[0])
        if ordered is not None:  # the first point, as given, at the same place
            at = int(np.flatnonzero(points[:, 0] == ordered[at])[0])
        raise CoincidentPointsError("x", at, k, other)
    logs: Float64Array = np.log(distances)
    return logs


_SAFE_EXPONENT = 400
"""Coordinates up to 2^400 in size (and down to 2^-400) are used as given: their squared
distances neither overflow nor underflow in float64."""


def _scale_exponent(*samples: Float64Array) -> int:
    """``e`` such that the samples divided by ``2^e`` (exactly: a power of two) have their
    largest ``|coordinate|`` in ``[1/2, 1)``; 0 where it is already within ``2^+-400``, so
    that ordinary samples are used exactly as given."""
    top = max(float(np.max(np.abs(s))) for s in samples)
    if top == 0.0 or 2.0**-_SAFE_EXPONENT <= top <= 2.0**_SAFE_EXPONENT:
        return 0
    return math.frexp(top)[1]


def knn_entropy(x: ArrayLike, k: int = 1, unit: str = "nats") -> float:
    """Kozachenko-Leonenko differential entropy of the sample ``x`` (``1 <= k < n``).

    Samples of huge (or tiny) coordinates are first divided by ``s = 2^e`` so that their
    distances do not overflow: ``H(x) = H(x / s) + d ln s``."""
    points = as_points(x)
    n, d = points.shape
    if not 1 <= k < n:
        raise ValueError(f"k must be in 1..{n - 1} for {n} points, got {k}")
    e = _scale_exponent(points)
    points = np.ldexp(points, -e)
    radii, ordered = _distances(points, k)
    logs = _logs(radii, ordered, points, k, "x")
    nats = (
        float(special.digamma(n) - special.digamma(k))
        + log_unit_ball_volume(d)
        + d * float(logs.mean())
        + d * e * math.log(2.0)
    )
    return float(nats) / nats_per_unit(unit)


@dataclass(frozen=True)
class KnnDivergence:
    """The estimate clamped at 0 (``value``) and as the estimator gave it (``raw``)."""

    value: float
    raw: float


def knn_kl_divergence(x: ArrayLike, y: ArrayLike, k: int = 1, unit: str = "nats") -> KnnDivergence:
    """Wang-Kulkarni-Verdu k-NN estimate of ``D(P || Q)`` from ``x ~ P`` and ``y ~ Q``
    (``1 <= k < n``, ``k <= m``, same dimension). Scale-invariant: samples of huge (or
    tiny) coordinates are both divided by the same power of two first."""
    xs, ys = as_points(x), as_points(y)
    if xs.shape[1] == ys.shape[1]:
        e = _scale_exponent(xs, ys)
        xs, ys = np.ldexp(xs, -e), np.ldexp(ys, -e)
    n, d = xs.shape
    m = ys.shape[0]
    if ys.shape[1] != d:
        raise ValueError(f"x has {d} dimensions, y has {ys.shape[1]}")
    if not 1 <= k < n or k > m:
        raise ValueError(f"k must be in 1..{min(n - 1, m)} for {n} and {m} points, got {k}")
    # both in the same order (sorted, in one dimension): only their mean difference counts
    rho, ordered = _distances(xs, k)
    nu, _ = _distances(xs, k, ys)
    log_rho = _logs(rho, ordered, xs, k, "x")
    log_nu = _logs(nu, ordered, xs, k, "y")
    raw = d * float(np.mean(log_nu - log_rho)) + math.log(m / (n - 1))
    scale = nats_per_unit(unit)
    return KnnDivergence(max(0.0, raw) / scale, raw / scale)

"""``POST /v1/matrix``: the rows of ``p`` against the rows of ``q`` for one measure.

The cost is refused before any work (413): the matrix's cells ``m x k``, the work
``m x k x n``, and, for a JSON answer, its values (``m x k``, or ``m x top_k``), each against
its setting. Every row is then checked (or normalised) and smoothed as the other numeric
endpoints do, and the kernels of :mod:`app.infotheory.matrix` compute the matrix in bounded
blocks, or the ``top_k`` nearest rows of ``q`` without the matrix. The answer stays numpy:
the API writes it as JSON or ``.npy``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from app.config import Settings
from app.errors import InvalidInputError, ServiceError
from app.infotheory.matrix import MATRIX_MEASURES, nearest, pairwise
from app.schemas.common import Smoothing, Unit
from app.schemas.matrix import MatrixRequest
from app.services.distributions import check_sums

__all__ = ["MatrixAnswer", "MatrixTooLargeError", "check_cost", "matrix"]

Array = NDArray[np.float64]

_NORMALIZE_HINT = "send normalize: true to treat the numbers as weights"


class MatrixTooLargeError(ServiceError):
    """The matrix (or the work, or its JSON) is over a setting: refused before computing."""

    status = 413
    title = "Content Too Large"


@dataclass(frozen=True)
class MatrixAnswer:
    """The matrix (``value``), or the nearest rows (``indices`` and ``values``), and what the
    answer repeats about how it was computed (``unit`` is None for unitless measures)."""

    measure: str
    unit: Unit | None
    normalized: bool
    smoothing: Smoothing | None
    value: Array | None = None
    indices: NDArray[np.intp] | None = None
    values: Array | None = None

    @property
    def shape(self) -> tuple[int, int]:
        out = self.value if self.value is not None else self.values
        assert out is not None
        return out.shape[0], out.shape[1]


def check_cost(request: MatrixRequest, settings: Settings, as_json: bool) -> None:
    """413 for a request over ``max_matrix_cells``, ``max_matrix_work`` or, with a JSON
    answer, ``max_matrix_json_cells``; nothing has been computed yet."""
    m, n = request.p.values.shape
    k = m if request.q is None else request.q.values.shape[0]
    if m * k > settings.max_matrix_cells:
        raise MatrixTooLargeError(
            f"p ({m} rows) against q ({k} rows) is a matrix of {m * k} cells, more than this "
            f"service's limit of {settings.max_matrix_cells} (DIVERGENCE_MAX_MATRIX_CELLS): "
            f"split p into parts of at most {max(1, settings.max_matrix_cells // k)} rows"
        )
    if m * k * n > settings.max_matrix_work:
        raise MatrixTooLargeError(
            f"{m} x {k} pairs of {n} events is {m * k * n} units of work, more than this "
            f"service's limit of {settings.max_matrix_work} (DIVERGENCE_MAX_MATRIX_WORK): "
            f"split p into parts of at most {max(1, settings.max_matrix_work // (k * n))} rows"
        )
    answer = m * (k if request.top_k is None else request.top_k)
    if as_json and answer > settings.max_matrix_json_cells:
        raise MatrixTooLargeError(
            f"the answer has {answer} values, more than this service writes as JSON "
            f"({settings.max_matrix_json_cells}, DIVERGENCE_MAX_MATRIX_JSON_CELLS): ask for "
            f"it as .npy (Accept: application/x-npy, or application/x-npz with top_k), or "
            f"ask for top_k"
        )


def _prepared(values: Array, field: str, request: MatrixRequest, tolerance: float) -> Array:
    """Each row checked (or normalised) as a distribution, then smoothed if asked for."""
    sums = values.sum(axis=1)
    if request.normalize:
        zero = np.flatnonzero(sums == 0)
        if zero.size:
            raise InvalidInputError(
                [field, int(zero[0])], "all weights are 0, so it cannot be normalised", "zero_sum"
            )
        values = values / sums[:, np.newaxis]
        sums = np.ones_like(sums)
    else:
        check_sums(values, [field], tolerance, _NORMALIZE_HINT, sums)
    smoothing = request.smoothing
    if smoothing is not None and smoothing.apply_to in ("both", field):
        values = (values + smoothing.alpha) / (sums + values.shape[1] * smoothing.alpha)[:, None]
    return values


def matrix(request: MatrixRequest, settings: Settings, as_json: bool) -> MatrixAnswer:
    """The matrix, or the ``top_k`` nearest rows; 413 (before any work) over the settings,
    422 for a row that is not a distribution."""
    check_cost(request, settings, as_json)
    tolerance = settings.default_tolerance if request.tolerance is None else request.tolerance
    p = _prepared(request.p.values, "p", request, tolerance)
    if request.q is not None:
        q: Array | None = _prepared(request.q.values, "q", request, tolerance)
    elif request.smoothing is not None and request.smoothing.apply_to != "both":
        q = _prepared(request.p.values, "q", request, tolerance)  # p as q, smoothed otherwise
    else:
        q = None  # p against itself: symmetric measures compute half
    unit = (request.unit or "nats") if MATRIX_MEASURES[request.measure].has_unit else None
    echo = MatrixAnswer(request.measure, unit, request.normalize, request.smoothing)
    if request.top_k is None:
        return replace(echo, value=pairwise(request.measure, p, q, unit=unit))
    indices, values = nearest(request.measure, p, q, k=request.top_k, unit=unit)
    return replace(echo, indices=indices, values=values)

"""Policy between the parsed request and the kernels: labels, sums, normalisation, smoothing.

Nothing is normalised silently: a distribution whose sum is off 1 by more than the
tolerance is refused, naming the field, the row of a batch, and the sum; ``normalize``
divides by the sum instead. Smoothing happens only when asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from app.config import Settings
from app.errors import InvalidInputError
from app.schemas.common import Smoothing, UnitlessOptions
from app.schemas.distribution import ParsedDistribution

__all__ = ["Prepared", "PreparedPair", "check_sums", "prepare_pair", "prepare_single"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Prepared:
    """Distributions ready for the kernels, and the labels of their events, if any."""

    p: Array
    labels: list[str] | None


@dataclass(frozen=True)
class PreparedPair:
    p: Array
    q: Array
    labels: list[str] | None


# A short 1-D distribution whose exact sum is well within the tolerance is accepted without
# numpy's reductions (about a microsecond each); any other is decided by the numpy path, so a
# decision never depends on which path ran: the two sums differ by n ulp at most.
_SMALL = 64
_SMALL_MIN_TOLERANCE = 1e-12


# The routes fill in the deployment's default (DIVERGENCE_DEFAULT_TOLERANCE); a request built
# in-process without one gets the setting's own default.
_DEFAULT_TOLERANCE: float = Settings.model_fields["default_tolerance"].default


def _tolerance(options: UnitlessOptions) -> float:
    return _DEFAULT_TOLERANCE if options.tolerance is None else options.tolerance


def _checked(values: Array, field: str, options: UnitlessOptions) -> Array:
    if not options.normalize and values.ndim == 1 and values.size <= _SMALL:
        tolerance = _tolerance(options)
        if (
            tolerance >= _SMALL_MIN_TOLERANCE
            and abs(math.fsum(values.tolist()) - 1.0) <= tolerance / 2
        ):
            return values
    sums = values.sum(axis=-1)
    if options.normalize:
        zero = np.atleast_1d(sums == 0)
        if zero.any():
            loc = _row_loc(field, values, int(np.flatnonzero(zero)[0]))
            raise InvalidInputError(
                loc, "all weights are 0, so it cannot be normalised", "zero_sum"
            )
        normalised: Array = values / (sums[..., np.newaxis] if values.ndim == 2 else sums)
        return normalised
    check_sums(values, [field], _tolerance(options), _NORMALIZE_HINT, sums)
    return values


_NORMALIZE_HINT = "send normalize: true to treat the numbers as weights"


def check_sums(
    values: Array,
    loc: list[str | int],
    tolerance: float,
    hint: str = "",
    sums: Array | None = None,
) -> None:
    """Refuse a distribution (or any row of a 2-D batch) whose sum is off 1 by more than
    ``tolerance``, naming ``loc``, the row and the sum. The one sum check of every endpoint."""
    sums = values.sum(axis=-1) if sums is None else sums
    off = np.atleast_1d(np.abs(sums - 1.0) > tolerance)
    if off.any():
        row = int(np.flatnonzero(off)[0])
        total = float(np.atleast_1d(sums)[row])
        where = [*loc, row] if values.ndim == 2 else list(loc)
        message = f"sums to {total!r}, not 1 within tolerance {tolerance:g}"
        raise InvalidInputError(where, f"{message}; {hint}" if hint else message, "sum_not_one")


def _row_loc(field: str, values: Array, row: int) -> list[str | int]:
    return [field, row] if values.ndim == 2 else [field]


def _smoothed(values: Array, smoothing: Smoothing) -> Array:
    width = values.shape[-1]
    sums = values.sum(axis=-1, keepdims=True)
    smoothed: Array = (values + smoothing.alpha) / (sums + width * smoothing.alpha)
    return smoothed


def prepare_single(p: ParsedDistribution, options: UnitlessOptions) -> Prepared:
    """Check or normalise ``p`` and apply the smoothing asked for."""
    values = _checked(p.values, "p", options)
    if options.smoothing is not None and options.smoothing.apply_to in ("both", "p"):
        values = _smoothed(values, options.smoothing)
    return Prepared(values, p.labels)


def _aligned(p: ParsedDistribution, q: ParsedDistribution) -> tuple[Array, Array, list[str] | None]:
    if (p.labels is None) != (q.labels is None):
        mapped = "p" if p.labels is not None else "q"
        other = "q" if mapped == "p" else "p"
        raise InvalidInputError(
            [other],
            f"{mapped} is a label map, so {other} must be one too",
            "form_mismatch",
        )
    if p.labels is None or q.labels is None:
        return p.values, q.values, None
    labels = list(dict.fromkeys([*p.labels, *q.labels]))
    position = {label: i for i, label in enumerate(labels)}
    pa = np.zeros(len(labels))
    qa = np.zeros(len(labels))
    pa[[position[x] for x in p.labels]] = p.values
    qa[[position[x] for x in q.labels]] = q.values
    return pa, qa, labels


def prepare_pair(
    p: ParsedDistribution, q: ParsedDistribution, options: UnitlessOptions
) -> PreparedPair:
    """Align, check or normalise, and smooth a pair of distributions."""
    pa, qa, labels = _aligned(p, q)
    if pa.shape[-1] != qa.shape[-1]:
        raise InvalidInputError(
            ["q"],
            f"q has {qa.shape[-1]} events, p has {pa.shape[-1]}",
            "length_mismatch",
        )
    if pa.ndim == 2 and qa.ndim == 2 and pa.shape[0] != qa.shape[0]:
        raise InvalidInputError(
            ["q"], f"q has {qa.shape[0]} rows, p has {pa.shape[0]}", "rows_mismatch"
        )
    pa = _checked(pa, "p", options)
    qa = _checked(qa, "q", options)
    smoothing = options.smoothing
    if smoothing is not None:
        if smoothing.apply_to in ("both", "p"):
            pa = _smoothed(pa, smoothing)
        if smoothing.apply_to in ("both", "q"):
            qa = _smoothed(qa, smoothing)
    return PreparedPair(pa, qa, labels)

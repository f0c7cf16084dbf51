"""Joint tables in, information out: the table (or the paired samples' counts), checked or
normalised, then the kernels of :mod:`app.infotheory.joint`.

Policy as for distributions: a table whose sum is off 1 by more than the tolerance is
refused unless ``normalize`` is given; paired samples are counted and always normalised.
The number of cells (the product of the sides, for label maps and samples the numbers of
labels) is capped by DIVERGENCE_MAX_TABLE_CELLS before anything of that size is allocated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from app.config import Settings
from app.errors import InvalidInputError
from app.infotheory import joint as kernels
from app.schemas.joint import (
    ConditionalInformationRequest,
    ConditionalInformationResponse,
    JointInformationRequest,
    JointInformationResponse,
    NormalizedMutualInformation,
    ParsedTable,
)
from app.schemas.samples import ParsedSample
from app.services.distributions import check_sums
from app.services.samples import check_size, label_names

__all__ = ["conditional_information", "joint_information"]

Array = NDArray[np.float64]
_AXES = ("x", "y", "z")


@dataclass(frozen=True)
class _Table:
    """A joint distribution ready for the kernels, and where it came from."""

    p: Array
    labels: list[list[str]] | None
    samples: int | None
    normalized: bool


def _too_many_cells(field: str, shape: tuple[int, ...], settings: Settings) -> None:
    cells = math.prod(shape)
    if cells > settings.max_table_cells:
        sides = " x ".join(map(str, shape))
        raise InvalidInputError(
            [field],
            f"spans {sides} = {cells} cells, more than {settings.max_table_cells} (setting "
            "DIVERGENCE_MAX_TABLE_CELLS)",
            "too_large",
        )


def _from_samples(samples: list[ParsedSample], settings: Settings) -> _Table:
    """The normalised table of counts of paired samples, on their sorted labels."""
    fields = _AXES[: len(samples)]
    for field, sample in zip(fields, samples, strict=True):
        check_size(sample, field, settings)
    n = samples[0].values.size
    for field, sample in zip(fields[1:], samples[1:], strict=True):
        if sample.values.size != n:
            msg = f"has {sample.values.size} values, x has {n}: paired samples are equally long"
            raise InvalidInputError([field], msg, "length_mismatch")
    coded = [np.unique(s.values, return_inverse=True) for s in samples]
    shape = tuple(labels.size for labels, _ in coded)
    _too_many_cells(fields[-1], shape, settings)
    flat = np.ravel_multi_index(tuple(codes.reshape(-1) for _, codes in coded), shape)
    counts = np.bincount(flat, minlength=math.prod(shape)).reshape(shape)
    names = [label_names(labels, s.numeric) for (labels, _), s in zip(coded, samples, strict=True)]
    return _Table(counts / n, names, n, normalized=True)


def _from_table(
    table: ParsedTable, normalize: bool, tolerance: float | None, settings: Settings
) -> _Table:
    _too_many_cells("table", table.shape, settings)
    p = table.to_array()
    flat = p.reshape(-1)
    if normalize:
        total = float(flat.sum())
        if total == 0:
            raise InvalidInputError(["table"], "all cells are 0, so it cannot be normalised")
        if not math.isfinite(total):
            raise InvalidInputError(["table"], "the cells' sum overflows float64", "overflow")
        p = p / total
    else:
        tolerance = settings.default_tolerance if tolerance is None else tolerance
        check_sums(flat, ["table"], tolerance, "send normalize: true to treat it as counts")
    return _Table(p, table.labels, None, normalize)


def _prepared(
    request: JointInformationRequest | ConditionalInformationRequest, settings: Settings
) -> _Table:
    samples = [getattr(request, axis, None) for axis in _AXES]
    wanted = 3 if isinstance(request, ConditionalInformationRequest) else 2
    given = [s for s in samples[:wanted] if s is not None]
    if request.table is not None:
        if given:
            fields = ", ".join(a for a, s in zip(_AXES, samples, strict=True) if s is not None)
            msg = f"give the table or the paired samples, not both (got table and {fields})"
            raise InvalidInputError(["table"], msg, "conflict")
        return _from_table(request.table, request.normalize, request.tolerance, settings)
    if not given:
        names = " and ".join(_AXES[:wanted])
        raise InvalidInputError(["table"], f"give a table, or the paired samples {names}")
    for axis, sample in zip(_AXES[:wanted], samples, strict=False):
        if sample is None:
            raise InvalidInputError([axis], "paired samples need this one too", "missing")
    return _from_samples(given, settings)


def _labels(table: _Table, axis: int) -> list[str] | None:
    return None if table.labels is None else table.labels[axis]


def joint_information(
    request: JointInformationRequest, settings: Settings
) -> JointInformationResponse:
    """Every two-variable quantity of the table: MI, entropies, VI, normalised variants."""
    table = _prepared(request, settings)
    info = kernels.joint_information(table.p, request.unit)
    return JointInformationResponse(
        unit=request.unit,
        normalized=table.normalized,
        samples=table.samples,
        shape=list(table.p.shape),
        mutual_information=info.mutual_information,
        entropy_x=info.entropy_x,
        entropy_y=info.entropy_y,
        joint_entropy=info.joint_entropy,
        conditional_entropy_x_given_y=info.conditional_entropy_x_given_y,
        conditional_entropy_y_given_x=info.conditional_entropy_y_given_x,
        variation_of_information=info.variation_of_information,
        normalized_variation_of_information=info.normalized_variation_of_information,
        normalized_mutual_information=NormalizedMutualInformation(**info.normalized),
        marginal_x=info.marginal_x.tolist(),
        marginal_y=info.marginal_y.tolist(),
        labels_x=_labels(table, 0),
        labels_y=_labels(table, 1),
    )


def conditional_information(
    request: ConditionalInformationRequest, settings: Settings
) -> ConditionalInformationResponse:
    """I(X; Y | Z) of a 3-D table, with I(X; Y), the interaction and the entropies."""
    table = _prepared(request, settings)
    info = kernels.conditional_information(table.p, request.unit)
    return ConditionalInformationResponse(
        unit=request.unit,
        normalized=table.normalized,
        samples=table.samples,
        shape=list(table.p.shape),
        conditional_mutual_information=info.conditional_mutual_information,
        mutual_information=info.mutual_information,
        interaction_information=info.interaction_information,
        joint_entropy=info.joint_entropy,
        entropy_z=info.entropy_z,
        conditional_entropy_x_given_z=info.conditional_entropy_x_given_z,
        conditional_entropy_y_given_z=info.conditional_entropy_y_given_z,
        marginal_z=info.marginal_z.tolist(),
        labels_x=_labels(table, 0),
        labels_y=_labels(table, 1),
        labels_z=_labels(table, 2),
    )

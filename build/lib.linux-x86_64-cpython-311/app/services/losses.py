"""Classification losses: check labels and predictions, then the exact per-sample kernels."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from app.errors import InvalidInputError
from app.infotheory import losses
from app.schemas.losses import LossRequest, LossResponse

__all__ = ["binary_cross_entropy", "categorical_cross_entropy", "kl_divergence"]

Array = NDArray[np.float64]


def _where(mask: NDArray[np.bool_]) -> list[str | int]:
    index = np.unravel_index(int(np.flatnonzero(mask)[0]), mask.shape)
    return [int(i) for i in index]


def _in_unit_interval(values: Array, field: str) -> None:
    outside = (values < 0) | (values > 1)
    if outside.any():
        raise InvalidInputError([field, *_where(outside)], "must lie in [0, 1]", "range")


def _reduce(per_sample: Array, request: LossRequest) -> LossResponse:
    values = per_sample.tolist()
    if request.reduction == "none":
        value: float | list[float] = values
    elif request.reduction == "sum":
        value = float(per_sample.sum())
    else:
        value = float(per_sample.mean())
    return LossResponse(
        value=value,
        per_sample=values,
        reduction=request.reduction,
        unit=request.unit,
        from_logits=request.from_logits,
        label_smoothing=request.label_smoothing,
    )


def binary_cross_entropy(request: LossRequest) -> LossResponse:
    labels, predictions = request.labels, request.predictions
    if labels.shape != predictions.shape:
        raise InvalidInputError(
            ["predictions"],
            f"shape {predictions.shape} differs from labels {labels.shape}",
            "shape",
        )
    _in_unit_interval(labels, "labels")
    if not request.from_logits:
        _in_unit_interval(predictions, "predictions")
    if request.label_smoothing:
        labels = losses.smooth_binary(labels, request.label_smoothing)
    per_sample = losses.binary_cross_entropy(labels, predictions, request.from_logits, request.unit)
    return _reduce(np.atleast_1d(per_sample), request)


def _rows(request: LossRequest, sparse_ok: bool) -> tuple[Array, Array]:
    labels, predictions = request.labels, request.predictions
    if predictions.ndim != 2:
        raise InvalidInputError(["predictions"], "needs one row per sample", "shape")
    classes = predictions.shape[1]
    if sparse_ok and labels.ndim == 1:
        if labels.shape[0] != predictions.shape[0]:
            raise InvalidInputError(["labels"], "needs one class index per prediction row", "shape")
        bad = (labels != np.round(labels)) | (labels < 0) | (labels >= classes)
        if bad.any():
            raise InvalidInputError(
                ["labels", *_where(bad)], f"a class index must be 0..{classes - 1}", "class"
            )
        labels = np.eye(classes)[labels.astype(np.int64)]
    if labels.shape != predictions.shape:
        raise InvalidInputError(
            ["predictions"],
            f"shape {predictions.shape} differs from labels {labels.shape}",
            "shape",
        )
    _check_rows(labels, "labels", request.tolerance)
    if not request.from_logits:
        _check_rows(predictions, "predictions", request.tolerance)
    if request.label_smoothing:
        labels = losses.smooth_categorical(labels, request.label_smoothing)
    return labels, predictions


def _check_rows(values: Array, field: str, tolerance: float) -> None:
    negative = values < 0
    if negative.any():
        raise InvalidInputError([field, *_where(negative)], "must be >= 0", "negative")
    off = np.abs(values.sum(axis=1) - 1.0) > tolerance
    if off.any():
        row = int(np.flatnonzero(off)[0])
        raise InvalidInputError(
            [field, row], f"sums to {float(values[row].sum())!r}, not 1", "sum_not_one"
        )


def categorical_cross_entropy(request: LossRequest) -> LossResponse:
    labels, predictions = _rows(request, sparse_ok=True)
    per_sample = losses.categorical_cross_entropy(
        labels, predictions, request.from_logits, request.unit
    )
    return _reduce(per_sample, request)


def kl_divergence(request: LossRequest) -> LossResponse:
    labels, predictions = _rows(request, sparse_ok=False)
    per_sample = losses.kl_divergence_loss(labels, predictions, request.from_logits, request.unit)
    return _reduce(per_sample, request)

"""Classification losses: check labels and predictions, then the exact per-sample kernels."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from app import infotheory as it
from app.errors import InvalidInputError
from app.infotheory import losses
from app.schemas.losses import LossRequest, LossResponse
from app.services.distributions import check_sums

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


def _at_most(max_classes: int, predictions: Array) -> None:
    """Refuse more classes (columns) than the operator allows."""
    if predictions.ndim == 2 and predictions.shape[1] > max_classes:
        raise InvalidInputError(
            ["predictions"],
            f"has {predictions.shape[1]} classes (columns), more than the limit of "
            f"{max_classes} (setting DIVERGENCE_MAX_CLASSES)",
            "too_many_classes",
        )


def binary_cross_entropy(request: LossRequest, max_classes: int) -> LossResponse:
    labels, predictions = request.labels, request.predictions
    _at_most(max_classes, predictions)
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


def _prediction_rows(request: LossRequest, max_classes: int) -> Array:
    predictions = request.predictions
    if predictions.ndim != 2:
        raise InvalidInputError(["predictions"], "needs one row per sample", "shape")
    _at_most(max_classes, predictions)
    if not request.from_logits:
        _check_rows(predictions, "predictions", request.tolerance)
    return predictions


def _class_indices(labels: Array, predictions: Array) -> NDArray[np.intp]:
    """Sparse labels as indices into the prediction rows, checked."""
    classes = predictions.shape[1]
    if labels.shape[0] != predictions.shape[0]:
        raise InvalidInputError(["labels"], "needs one class index per prediction row", "shape")
    bad = (labels != np.round(labels)) | (labels < 0) | (labels >= classes)
    if bad.any():
        raise InvalidInputError(
            ["labels", *_where(bad)], f"a class index must be 0..{classes - 1}", "class"
        )
    return labels.astype(np.intp)


def _sparse_cross_entropy(indices: NDArray[np.intp], request: LossRequest) -> Array:
    """``-sum_k y_k log q_k`` for one-hot rows ``y`` given by their hot index, without the rows.

    With Keras' smoothing ``y = (1 - a) onehot + a / C`` this is
    ``-(1 - a) log q_true - (a / C) sum_k log q_k``; memory stays that of the predictions.
    """
    predictions, alpha = request.predictions, request.label_smoothing
    if request.from_logits:
        log_q = losses.log_softmax(predictions)
    else:
        with np.errstate(divide="ignore"):
            log_q = np.log(predictions)
    rows = np.arange(indices.size)
    per_sample = -log_q[rows, indices] if alpha < 1.0 else np.zeros(indices.size)
    if alpha:
        per_sample *= 1.0 - alpha
        per_sample -= alpha / predictions.shape[1] * log_q.sum(axis=1)
    return np.maximum(per_sample, 0.0) / it.nats_per_unit(request.unit)


def _label_rows(request: LossRequest, predictions: Array) -> Array:
    labels = request.labels
    if labels.shape != predictions.shape:
        raise InvalidInputError(
            ["predictions"],
            f"shape {predictions.shape} differs from labels {labels.shape}",
            "shape",
        )
    _check_rows(labels, "labels", request.tolerance)
    if request.label_smoothing:
        labels = losses.smooth_categorical(labels, request.label_smoothing)
    return labels


def _check_rows(values: Array, field: str, tolerance: float) -> None:
    negative = values < 0
    if negative.any():
        raise InvalidInputError([field, *_where(negative)], "must be >= 0", "negative")
    check_sums(values, [field], tolerance)


def categorical_cross_entropy(request: LossRequest, max_classes: int) -> LossResponse:
    """Class indices (1-D labels) are gathered, never expanded into one-hot rows."""
    predictions = _prediction_rows(request, max_classes)
    if request.labels.ndim == 1:
        per_sample = _sparse_cross_entropy(_class_indices(request.labels, predictions), request)
    else:
        labels = _label_rows(request, predictions)
        per_sample = losses.categorical_cross_entropy(
            labels, predictions, request.from_logits, request.unit
        )
    return _reduce(per_sample, request)


def kl_divergence(request: LossRequest, max_classes: int) -> LossResponse:
    predictions = _prediction_rows(request, max_classes)
    labels = _label_rows(request, predictions)
    per_sample = losses.kl_divergence_loss(labels, predictions, request.from_logits, request.unit)
    return _reduce(per_sample, request)

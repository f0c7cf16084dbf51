"""Classification losses, per sample, exactly: binary and categorical cross-entropy, KL.

Labels and predictions are float64 arrays, one sample per row. Predictions are probabilities
or, with ``from_logits``, logits that go through a numerically stable log-sigmoid or
log-softmax (never ``log(sigmoid(z))``). A label of 0 against a prediction of 0 costs exactly
0; a positive label against a prediction of 0 costs ``+inf``. No epsilon is added: Keras
clips probabilities to ``[1e-7, 1 - 1e-7]``, which is why its numbers differ from these
exactly where a prediction is very confident.
"""

from __future__ import annotations

import numpy as np

from app.infotheory._arrays import Float64Array
from app.infotheory.divergence import kl_divergence
from app.infotheory.units import nats_per_unit

__all__ = [
    "binary_cross_entropy",
    "categorical_cross_entropy",
    "kl_divergence_loss",
    "log_softmax",
    "smooth_binary",
    "smooth_categorical",
]


def _xlog(weights: Float64Array, logs: Float64Array) -> Float64Array:
    """``weights * logs`` with ``0 * anything = 0`` (the limit of ``x log x``)."""
    with np.errstate(invalid="ignore"):
        product: Float64Array = np.where(weights == 0, 0.0, weights * logs)
    return product


def smooth_binary(labels: Float64Array, alpha: float) -> Float64Array:
    """Keras' binary label smoothing: ``y (1 - alpha) + alpha / 2``."""
    return labels * (1.0 - alpha) + 0.5 * alpha


def smooth_categorical(labels: Float64Array, alpha: float) -> Float64Array:
    """Keras' categorical label smoothing: ``y (1 - alpha) + alpha / classes``."""
    smoothed: Float64Array = labels * (1.0 - alpha) + alpha / labels.shape[-1]
    return smoothed


def binary_cross_entropy(
    labels: Float64Array, predictions: Float64Array, from_logits: bool = False, unit: str = "nats"
) -> Float64Array:
    """Per-sample ``-(y log p + (1 - y) log(1 - p))``; for 2-D input, the mean over outputs.

    With ``from_logits``, ``log p = -softplus(-z)`` and ``log(1 - p) = -softplus(z)``.
    """
    if from_logits:
        log_p = -np.logaddexp(0.0, -predictions)
        log_not_p = -np.logaddexp(0.0, predictions)
    else:
        with np.errstate(divide="ignore"):
            log_p = np.log(predictions)
            log_not_p = np.log1p(-predictions)
    terms = -(_xlog(labels, log_p) + _xlog(1.0 - labels, log_not_p))
    per_sample: Float64Array = terms.mean(axis=-1) if terms.ndim == 2 else terms
    return np.maximum(per_sample, 0.0) / nats_per_unit(unit)


def log_softmax(logits: Float64Array) -> Float64Array:
    """Row-wise ``z - logsumexp(z)``, shifted by the row maximum so nothing overflows."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    result: Float64Array = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return result


def categorical_cross_entropy(
    labels: Float64Array, predictions: Float64Array, from_logits: bool = False, unit: str = "nats"
) -> Float64Array:
    """Per-sample ``-sum_k y_k log q_k`` for label rows ``y`` and prediction rows ``q``."""
    if from_logits:
        log_q = log_softmax(predictions)
    else:
        with np.errstate(divide="ignore"):
            log_q = np.log(predictions)
    per_sample: Float64Array = -_xlog(labels, log_q).sum(axis=-1)
    return np.maximum(per_sample, 0.0) / nats_per_unit(unit)


def kl_divergence_loss(
    labels: Float64Array, predictions: Float64Array, from_logits: bool = False, unit: str = "nats"
) -> Float64Array:
    """Per-sample ``D(y || q)``; logits go through softmax first."""
    q = np.exp(log_softmax(predictions)) if from_logits else predictions
    return np.atleast_1d(np.asarray(kl_divergence(np.atleast_2d(labels), np.atleast_2d(q), unit)))

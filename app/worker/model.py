"""The article's ConvNet, exactly: two conv blocks with dropout, a dense layer, softmax."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

from app import catalog

__all__ = ["LOSSES", "JensenShannon", "build_model"]


class JensenShannon(keras.losses.Loss):  # type: ignore[misc]
    """(D(y || m) + D(q || m)) / 2 with m = (y + q) / 2, in nats, per sample; 0 log 0 = 0
    (the zero terms are masked out, values and gradients alike, with no epsilon)."""

    def __init__(self) -> None:
        super().__init__(name="jensen_shannon")

    def call(self, y_true: Any, y_pred: Any) -> Any:
        ops = keras.ops
        y = ops.cast(y_true, y_pred.dtype)
        m = (y + y_pred) / 2.0
        safe_m = ops.where(m > 0, m, 1.0)

        def relative(p: Any) -> Any:
            safe = ops.where(p > 0, p, 1.0)
            return ops.sum(ops.where(p > 0, p * ops.log(safe / safe_m), 0.0), axis=-1)

        return (relative(y) + relative(y_pred)) / 2.0


# The losses an experiment can train with (named in app.catalog); all but Jensen-Shannon are
# Keras' own implementations.
LOSSES: dict[str, Callable[[], keras.losses.Loss]] = {
    "kl_divergence": keras.losses.KLDivergence,
    "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
    "jensen_shannon": JensenShannon,
    "focal_crossentropy": keras.losses.CategoricalFocalCrossentropy,
    "squared_error": keras.losses.MeanSquaredError,
}
if LOSSES.keys() != catalog.LOSSES.keys():  # pragma: no cover - a programming error
    raise RuntimeError("app.worker.model.LOSSES must implement exactly app.catalog.LOSSES")


def build_model(input_shape: tuple[int, int, int], classes: int, loss: str) -> Any:
    """Conv2D(32, 3x3, relu) -> MaxPool(2) -> Dropout(0.5) -> Conv2D(64, 3x3, relu) ->
    MaxPool(2) -> Dropout(0.5) -> Flatten -> Dense(256, relu) -> Dense(classes, softmax),
    compiled with Adam, the named loss and accuracy."""
    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            keras.layers.Conv2D(32, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Dropout(0.5),
            keras.layers.Conv2D(64, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Dropout(0.5),
            keras.layers.Flatten(),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(classes, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(), loss=LOSSES[loss](), metrics=["accuracy"])
    return model

"""The article's ConvNet, exactly: two conv blocks with dropout, a dense layer, softmax."""

from __future__ import annotations

from typing import Any

import keras

from app import catalog

__all__ = ["LOSSES", "build_model"]

# The losses an experiment compares (named in app.catalog): Keras' own implementations.
LOSSES: dict[str, type[keras.losses.Loss]] = {
    "kl_divergence": keras.losses.KLDivergence,
    "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
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

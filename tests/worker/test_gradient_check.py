"""The gradient check: KL divergence and cross-entropy have the same gradient for fixed
targets, soft or one-hot. Its numbers are checked against a closed form: for a softmax layer
whose only trainable weight is the bias, the cross-entropy gradient (Keras' mean over the
batch) is mean(q - y) over the batch."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from app.worker.experiment import gradient_check, soft_targets
from app.worker.model import build_model


def _bias_only_softmax(inputs: int, classes: int) -> keras.Model:
    keras.utils.set_random_seed(3)
    dense = keras.layers.Dense(classes, activation="softmax", bias_initializer="random_normal")
    model = keras.Sequential([keras.Input(shape=(inputs,)), dense])
    dense.kernel.trainable = False
    return model


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_the_norm_and_the_cosine_against_the_closed_form(smoothing: float) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 5)).astype(np.float32)
    y = soft_targets(rng.integers(0, 4, size=16), 4, smoothing)
    model = _bias_only_softmax(5, 4)
    assert [v.name for v in model.trainable_variables] == ["bias"]
    check = gradient_check(model, "kl_divergence", "categorical_crossentropy", x, y)
    assert check is not None
    # by hand, in float64: softmax of x W + b, then mean(q - y) over the batch
    z = x.astype(np.float64) @ np.asarray(model.layers[0].kernel) + np.asarray(model.layers[0].bias)
    q = np.exp(z - z.max(axis=1, keepdims=True))
    q /= q.sum(axis=1, keepdims=True)
    expected = (q - y.astype(np.float64)).mean(axis=0)
    assert check["baseline_norm"] == pytest.approx(np.linalg.norm(expected), rel=1e-5)
    assert check["norm"] == pytest.approx(np.linalg.norm(expected), rel=1e-5)
    assert check["batch"] == 16
    assert check["cosine"] == pytest.approx(1.0, abs=1e-9)
    assert check["max_abs_difference"] < 1e-6 * np.abs(expected).max() + 1e-9


def test_the_article_convnet_same_gradient_at_initial_weights() -> None:
    rng = np.random.default_rng(1)
    x = rng.random((20, 28, 28, 1), dtype=np.float32)
    y = soft_targets(rng.integers(0, 10, size=20), 10, 0.0)
    keras.utils.set_random_seed(0)
    model = build_model((28, 28, 1), 10, "categorical_crossentropy")
    check = gradient_check(model, "kl_divergence", "categorical_crossentropy", x, y)
    assert check is not None and check["batch"] == 20
    assert check["cosine"] is not None and check["cosine"] > 1 - 1e-9
    assert check["max_abs_difference"] <= 1e-6 * check["baseline_norm"]
    assert check["norm"] == pytest.approx(check["baseline_norm"], rel=1e-6)

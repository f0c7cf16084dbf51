"""Mixup: soft targets that vary from row to row. Every training image and its target is
blended with a random partner's, so the targets' entropy H(y) is above 0 and the training
losses of the cross-entropy and KL runs differ by the mean H(y) of the rows Keras trains on,
which the worker reports (the comparison then checks the identity with it).

The experiment here smooths the labels too (s = 0.05), so that no target has a zero:
Keras' KLDivergence clips targets to [1e-7, 1], which moves the gap by about 1e-5 where
targets have zeros (as with one-hot labels). The reference entropy is computed with scipy
from targets rebuilt by hand: the smoothed one-hot rows, (1 - s) one_hot + s / K, blended
with the weights and partners the worker drew."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from scipy import stats

from app.jobs.store import JobStore
from app.schemas.experiments import Experiment, ExperimentConfig
from app.services.experiment_resources import to_resource
from app.worker import runner
from app.worker.datasets import load
from app.worker.experiment import mix_pairs, soft_targets, training_rows

ALPHA, SMOOTHING, CLASSES = 0.4, 0.05, 10
CONFIG = {
    "dataset": "synthetic", "losses": ["kl_divergence", "categorical_crossentropy"],
    "epochs": 2, "batch_size": 50, "validation_split": 0.2, "seed": 5,
    "train_samples": 201, "test_samples": 50, "mixup": ALPHA,
    "label_smoothing": SMOOTHING,
}  # fmt: skip  # 201 images: Keras trains on floor(160.8) = 160 of them


def test_pairs_blend_inputs_and_targets_with_one_weight() -> None:
    rng = np.random.default_rng(1)
    x = rng.random((40, 3, 3, 1)).astype(np.float32)
    labels = rng.integers(0, 4, 40)
    y = soft_targets(labels, 4, 0.0)
    mx, my = x.copy(), y.copy()
    weights, partners = mix_pairs(mx, my, 0.5, seed=9, rows=32)  # 8 validation rows
    assert mx.dtype == np.float32 and my.dtype == np.float32
    assert sorted(partners.tolist()) == list(range(32))  # a permutation of the training rows
    assert np.all((weights > 0) & (weights < 1))
    for i in range(32):
        j, w = partners[i], weights[i]
        np.testing.assert_allclose(mx[i], w * x[i] + (1 - w) * x[j], rtol=1e-6, atol=1e-6)
        expected = np.zeros(4)
        expected[labels[i]] += w
        expected[labels[j]] += 1 - w
        np.testing.assert_allclose(my[i], expected, atol=1e-7)
    np.testing.assert_allclose(my.sum(axis=1), 1.0, atol=1e-6)
    assert np.array_equal(mx[32:], x[32:]) and np.array_equal(my[32:], y[32:])  # not mixed
    again_x, again_y = x.copy(), y.copy()
    again = mix_pairs(again_x, again_y, 0.5, seed=9, rows=32)
    assert np.array_equal(again_x, mx) and np.array_equal(again[1], partners)
    assert not np.array_equal(mix_pairs(x.copy(), y.copy(), 0.5, seed=10, rows=32)[1], partners)


def test_keras_trains_on_the_first_rows() -> None:
    # Keras cuts at floor(n * (1 - split)): 700 * 0.7 is 489.99999999999994 in floats
    assert training_rows(200, 0.2) == 160
    assert training_rows(201, 0.2) == 160
    assert training_rows(700, 0.3) == 489
    assert training_rows(50, 0.0) == 50


@pytest.mark.parametrize("bad", [-0.1, 100.5, "0.4"])
def test_mixup_parameter_is_checked(bad: object) -> None:
    with pytest.raises(ValidationError) as error:
        ExperimentConfig.model_validate({**CONFIG, "mixup": bad})
    assert error.value.errors()[0]["loc"] == ("mixup",)


def test_mixup_is_off_by_default() -> None:
    assert ExperimentConfig.model_validate({}).mixup == 0.0


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> tuple[Experiment, Path]:
    tmp = tmp_path_factory.mktemp("mixup")
    store = JobStore.from_url(f"sqlite:///{tmp / 'jobs.db'}")
    store.create_schema()
    row = store.create(ExperimentConfig.model_validate(CONFIG).model_dump())
    runner.execute(store, row.id, "w1", tmp / "keras", interval=0.5)
    done = store.get(row.id)
    assert done is not None and done.status == "succeeded", done and done.error
    return to_resource(done, store.epochs(row.id)), tmp / "keras"


def _entropy_by_hand(keras_home: Path) -> float:
    (x_train, y_train), _ = load("synthetic", keras_home, 201, 50, CONFIG["seed"])  # type: ignore[arg-type]
    targets = soft_targets(y_train, CLASSES, SMOOTHING)
    rows = training_rows(len(y_train), 0.2)
    x = x_train.astype(np.float32)
    weights, partners = mix_pairs(x, targets, ALPHA, CONFIG["seed"], rows)  # type: ignore[arg-type]
    values = []
    for i, w in enumerate(weights[:rows]):
        mine, theirs = np.full(CLASSES, SMOOTHING / CLASSES), np.full(CLASSES, SMOOTHING / CLASSES)
        mine[y_train[i]] += 1 - SMOOTHING
        theirs[y_train[partners[i]]] += 1 - SMOOTHING
        values.append(float(stats.entropy(w * mine + (1 - w) * theirs)))
    return math.fsum(values) / rows


def test_training_losses_differ_by_the_mixed_targets_entropy(
    job: tuple[Experiment, Path],
) -> None:
    experiment, keras_home = job
    assert experiment.dataset is not None
    h = experiment.dataset["train_target_entropy"]
    assert h == pytest.approx(_entropy_by_hand(keras_home), abs=1e-6)  # float32 targets
    smoothed_only = float(
        stats.entropy([1 - SMOOTHING + SMOOTHING / CLASSES] + [SMOOTHING / CLASSES] * 9)
    )
    assert h > smoothed_only + 0.1  # mixup makes the targets softer than smoothing alone
    kl, ce = experiment.runs
    assert len(kl.history) == len(ce.history) == 2
    for k, c in zip(kl.history, ce.history, strict=True):
        assert c.loss - k.loss == pytest.approx(h, abs=1e-5)
    comparison = experiment.comparison
    assert comparison is not None
    for epoch in comparison.per_epoch:
        assert epoch.identity_residual is not None and abs(epoch.identity_residual) < 1e-5
    assert "nats" in comparison.verdict


def test_the_test_set_is_not_mixed(job: tuple[Experiment, Path]) -> None:
    experiment, _ = job
    for run in experiment.runs:
        assert run.identity is not None and run.identity.holds
        # the test targets are only smoothed
        smoothed = stats.entropy([1 - SMOOTHING + SMOOTHING / CLASSES] + [SMOOTHING / CLASSES] * 9)
        assert run.identity.label_entropy == pytest.approx(smoothed, abs=1e-6)

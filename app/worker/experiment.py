"""The loss-comparison experiment: train the ConvNet once per loss, then compare the runs.

The experiment reports through a :class:`Reporter` (the job runner's heartbeat and store)
and stops at the next batch once the reporter says the job was cancelled, keeping the epochs
it finished.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import keras
import numpy as np

from app import infotheory as it
from app.catalog import DATASETS
from app.schemas.experiments import JobStatus, training_fraction
from app.worker.datasets import load
from app.worker.model import build_model

__all__ = ["EpochMetrics", "Outcome", "Reporter", "run_experiment"]


@dataclass(frozen=True)
class EpochMetrics:
    loss_name: str  # which loss the run trains with
    epoch: int  # 1-based
    loss_value: float  # the training loss at the end of the epoch
    accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    seconds: float


class Reporter(Protocol):
    def cancelled(self) -> bool: ...
    def batch_done(self, fraction: float, loss: str, run: int, epoch: int) -> None: ...
    def epoch_done(self, metrics: EpochMetrics, fraction: float) -> None: ...


@dataclass
class Outcome:
    status: JobStatus  # SUCCEEDED or CANCELLED
    result: dict[str, Any] = field(default_factory=dict)


class _Progress(keras.callbacks.Callback):  # type: ignore[misc]
    """Feeds the reporter after every batch and epoch; stops training on cancel."""

    def __init__(self, reporter: Reporter, loss: str, run: int, runs: int, epochs: int) -> None:
        super().__init__()
        self.reporter = reporter
        self.loss = loss
        self.run = run
        self.runs = runs
        self.epochs = epochs
        self.steps_done = 0
        self.epoch = 0
        self.started = 0.0

    def _fraction(self, epoch: int, step_fraction: float) -> float:
        return training_fraction(self.run, self.runs, epoch, self.epochs, step_fraction)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.steps_done = 0
        self.epoch = epoch
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.steps_done = batch + 1
        steps = self.params.get("steps") or 1
        fraction = self._fraction(self.epoch, self.steps_done / steps)
        self.reporter.batch_done(fraction, self.loss, self.run, self.epoch)
        if self.reporter.cancelled():
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        steps = self.params.get("steps") or self.steps_done
        if self.steps_done < steps:  # cut short by a cancel: not a finished epoch
            return
        metrics = EpochMetrics(
            loss_name=self.loss,
            epoch=epoch + 1,
            loss_value=float(logs["loss"]),
            accuracy=float(logs["accuracy"]),
            val_loss=_maybe(logs.get("val_loss")),
            val_accuracy=_maybe(logs.get("val_accuracy")),
            seconds=time.perf_counter() - self.started,
        )
        self.reporter.epoch_done(metrics, self._fraction(epoch + 1, 0.0))


def _maybe(value: Any) -> float | None:
    return None if value is None else float(value)


def _identity_check(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """Mean H(y, q), D(y || q) and H(y) over the test set, with the service's exact kernels.

    With one-hot labels H(y) = 0, so cross-entropy minus KL must be 0: training on either
    loss is the same objective (the article's point).
    """
    q = probabilities.astype(np.float64)
    q /= q.sum(axis=1, keepdims=True)
    ce = np.asarray(it.cross_entropy(labels, q))
    kl = np.asarray(it.kl_divergence(labels, q))
    h = np.asarray(it.entropy(labels))
    finite = np.isfinite(ce) & np.isfinite(kl)
    difference = float(np.mean(ce[finite] - kl[finite])) if finite.any() else math.nan
    label_entropy = float(np.mean(h))
    return {
        "cross_entropy": float(np.mean(ce)),
        "kl_divergence": float(np.mean(kl)),
        "cross_entropy_minus_kl": difference,
        "label_entropy": label_entropy,
        "holds": bool(abs(difference - label_entropy) <= 1e-9),
    }


def run_experiment(
    config: dict[str, Any],
    keras_home: Path,
    reporter: Reporter,
    data_dirs: Sequence[Path] | None = None,
) -> Outcome:
    """Train the article's ConvNet once per loss in ``config``; compare the runs. Data set
    files are looked for in ``data_dirs`` (default: the catalog's default directories)."""
    spec = DATASETS[config["dataset"]]
    seed = int(config["seed"])
    loaded_at = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = load(
        spec.name,
        keras_home,
        config.get("train_samples"),
        config.get("test_samples"),
        seed,
        data_dirs=data_dirs,
    )
    train_inputs = x_train.astype(np.float32) / 255.0
    test_inputs = x_test.astype(np.float32) / 255.0
    onehot_train = keras.utils.to_categorical(y_train, spec.classes)
    onehot_test = keras.utils.to_categorical(y_test, spec.classes)
    load_seconds = time.perf_counter() - loaded_at

    losses: list[str] = list(config["losses"])
    epochs = int(config["epochs"])
    runs: dict[str, Any] = {}
    status = JobStatus.SUCCEEDED
    for index, loss in enumerate(losses):
        if reporter.cancelled():
            status = JobStatus.CANCELLED
            break
        keras.utils.set_random_seed(seed)  # the same initial weights for every loss
        model = build_model(spec.shape, spec.classes, loss)
        started = time.perf_counter()
        model.fit(
            train_inputs,
            onehot_train,
            batch_size=int(config["batch_size"]),
            epochs=epochs,
            validation_split=float(config["validation_split"]),
            callbacks=[_Progress(reporter, loss, index, len(losses), epochs)],
            verbose=0,
        )
        train_seconds = time.perf_counter() - started
        if reporter.cancelled():
            status = JobStatus.CANCELLED
            break
        # One pass over the test set gives Keras' test loss, the accuracy and the identity.
        probabilities = model.predict(test_inputs, batch_size=int(config["batch_size"]), verbose=0)
        test_loss = float(keras.ops.convert_to_numpy(model.loss(onehot_test, probabilities)))
        test_accuracy = float(np.mean(probabilities.argmax(axis=1) == y_test))
        runs[loss] = {
            "test_loss": float(test_loss),
            "test_accuracy": float(test_accuracy),
            "train_seconds": train_seconds,
            "seconds_per_epoch": train_seconds / epochs,
            "identity": _identity_check(onehot_test.astype(np.float64), probabilities),
        }
    result = {
        "dataset": {
            "name": spec.name,
            "train_samples": len(x_train),
            "test_samples": len(x_test),
            "load_seconds": load_seconds,
        },
        "runs": runs,
    }
    return Outcome(status=status, result=result)

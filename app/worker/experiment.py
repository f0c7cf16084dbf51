"""The loss-comparison experiment: train the ConvNet once per loss and seed, then compare.

The experiment reports through a :class:`Reporter` (the job runner's heartbeat and store):
every finished epoch, and progress within an epoch at most once a ``progress_interval``. It
stops at the next batch once the reporter says the job was cancelled, keeping the epochs it
finished. Before a run trains, its gradient at the initial weights is compared with the
baseline loss's (:func:`gradient_check`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import keras
import numpy as np

from app import infotheory as it
from app.catalog import DATASETS
from app.schemas.experiments import ExperimentConfig, JobStatus, training_fraction
from app.worker.checkpoints import Checkpoint
from app.worker.datasets import load
from app.worker.model import LOSSES, build_model

__all__ = [
    "EpochMetrics",
    "Outcome",
    "Reporter",
    "gradient_check",
    "run_experiment",
    "soft_targets",
]

log = logging.getLogger("app.worker")


@dataclass(frozen=True)
class EpochMetrics:
    loss_name: str  # which loss the run trains with
    epoch: int  # 1-based
    loss_value: float  # the training loss at the end of the epoch
    accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    seconds: float
    seed: int = 0
    key: str = ""  # the run's name in the job's records (ExperimentConfig.run_key)

    @property
    def run(self) -> str:
        return self.key or self.loss_name


class Reporter(Protocol):
    def cancelled(self) -> bool: ...
    def batch_done(self, fraction: float, loss: str, run: int, epoch: int, seed: int) -> None: ...
    def epoch_done(self, metrics: EpochMetrics, fraction: float) -> None: ...


@dataclass
class Outcome:
    status: JobStatus  # SUCCEEDED or CANCELLED
    result: dict[str, Any] = field(default_factory=dict)


class _Progress(keras.callbacks.Callback):  # type: ignore[misc]
    """Feeds the reporter while an epoch trains, at most once every ``interval`` seconds
    (0: before every batch but the first), and after every epoch; stops training on cancel.
    A finished epoch is handed to ``saved`` (the checkpoint) before it is reported.

    Its only batch hook is ``on_train_batch_begin``, which Keras calls without logs and
    which reads nothing but the batch index and the clock. It has no ``on_train_batch_end``:
    Keras converts a batch's logs to Python numbers for that hook (a device sync), and on
    the backends that allow it (JAX, torch) does so on a thread pool only while no callback
    in the list has such a hook; a hook here would move the conversion into the training
    loop, once a batch. A cancel seen before batch ``b`` stops training after batch ``b``.
    """

    def __init__(
        self,
        reporter: Reporter,
        loss: str,
        run: int,
        runs: int,
        epochs: int,
        seed: int = 0,
        key: str = "",
        saved: Callable[[dict[str, Any]], None] | None = None,
        interval: float = 1.0,
    ) -> None:
        super().__init__()
        self.reporter = reporter
        self.loss = loss
        self.run = run
        self.runs = runs
        self.epochs = epochs
        self.seed = seed
        self.key = key or loss
        self.saved = saved
        self.interval = interval
        self.begun = 0  # batches of this epoch begun (all of them finish)
        self.epoch = 0
        self.started = 0.0
        self.reported = 0.0  # time.monotonic() of the last report

    def _fraction(self, epoch: int, step_fraction: float) -> float:
        return training_fraction(self.run, self.runs, epoch, self.epochs, step_fraction)

    def on_train_begin(self, logs: Any = None) -> None:
        self.reported = time.monotonic()

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.begun = 0
        self.epoch = epoch
        self.started = time.perf_counter()

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        self.begun = batch + 1
        if batch > 0:  # ``batch`` batches of this epoch are done
            now = time.monotonic()
            if now - self.reported >= self.interval:
                self.reported = now
                steps = self.params.get("steps") or 1
                fraction = self._fraction(self.epoch, min(1.0, batch / steps))
                self.reporter.batch_done(fraction, self.loss, self.run, self.epoch, self.seed)
        if self.reporter.cancelled():
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        steps = self.params.get("steps") or self.begun
        if self.begun < steps:  # cut short by a cancel: not a finished epoch
            return
        metrics = EpochMetrics(
            loss_name=self.loss,
            epoch=epoch + 1,
            loss_value=float(logs["loss"]),
            accuracy=float(logs["accuracy"]),
            val_loss=_maybe(logs.get("val_loss")),
            val_accuracy=_maybe(logs.get("val_accuracy")),
            seconds=time.perf_counter() - self.started,
            seed=self.seed,
            key=self.key,
        )
        if self.saved is not None:
            self.saved(asdict(metrics))
        self.reported = time.monotonic()
        self.reporter.epoch_done(metrics, self._fraction(epoch + 1, 0.0))


def _maybe(value: Any) -> float | None:
    return None if value is None else float(value)


def _identity_check(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """Mean H(y, q), D(y || q) and H(y) over the test set, with the service's exact kernels.

    Cross-entropy minus KL must equal H(y): 0 for one-hot labels (the article's point), the
    targets' entropy for soft ones. Either way the difference does not depend on the model.
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


def soft_targets(labels: np.ndarray, classes: int, smoothing: float) -> np.ndarray:
    """One-hot rows of ``labels``, smoothed: ``(1 - s) * one_hot + s / classes`` (float32)."""
    onehot = np.eye(classes, dtype=np.float64)[labels]
    smoothed: np.ndarray = ((1.0 - smoothing) * onehot + smoothing / classes).astype(np.float32)
    return smoothed


def mix_pairs(
    x: np.ndarray, y: np.ndarray, alpha: float, seed: int, rows: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Mixup with fixed pairs, in place: each of the first ``rows`` rows (default all) becomes
    ``l_i row_i + (1 - l_i) row_partner[i]`` in both the inputs ``x`` and the targets ``y``,
    ``l_i`` drawn from ``Beta(alpha, alpha)`` and the partners a random permutation of those
    rows, both from ``seed``. The rows after them (Keras' validation rows) are left alone and
    lend no partner. Costs one copy of the mixed rows of ``x`` in its own dtype. Returns the
    weights and the partners."""
    rows = len(x) if rows is None else rows
    rng = np.random.default_rng([seed, 0x6D6978])  # a stream apart from the other draws
    partners = rng.permutation(rows)
    weights = rng.beta(alpha, alpha, size=rows)
    shape = (-1, *([1] * (x.ndim - 1)))
    # l x_i + (1 - l) x_j = x_i + (1 - l) (x_j - x_i)
    moved = x[partners]
    moved -= x[:rows]
    moved *= (1.0 - weights).astype(x.dtype).reshape(shape)
    x[:rows] += moved
    del moved
    ly = weights.reshape(-1, 1)
    mixed_y = ly * y[:rows].astype(np.float64) + (1.0 - ly) * y[partners].astype(np.float64)
    mixed_y /= mixed_y.sum(axis=1, keepdims=True)  # rows sum to 1 in float64 before the cast
    y[:rows] = mixed_y
    return weights, partners


def training_rows(samples: int, validation_split: float) -> int:
    """How many of ``samples`` rows Keras trains on: it holds out the last
    ``validation_split`` of them, cutting at ``floor(samples * (1 - validation_split))``
    (``keras.src.trainers.data_adapters.array_slicing.train_validation_split``)."""
    return math.floor(samples * (1.0 - validation_split)) if validation_split else samples


def gradient_check(
    model: Any, loss: str, baseline: str, x: np.ndarray, y: np.ndarray
) -> dict[str, Any] | None:
    """The gradients of ``loss`` and ``baseline`` with respect to every trainable weight of
    ``model`` as it stands, on the batch ``(x, y)``, with dropout off (both see the same
    network): the largest absolute difference, the cosine, and both norms. None on a backend
    other than TensorFlow."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    def gradient(name: str) -> np.ndarray:
        function = LOSSES[name]()
        with tf.GradientTape() as tape:
            value = function(y, model(x, training=False))
        parts = tape.gradient(value, model.trainable_variables)
        return np.concatenate([np.asarray(g, dtype=np.float64).ravel() for g in parts])

    g, b = gradient(loss), gradient(baseline)
    norm, baseline_norm = float(np.linalg.norm(g)), float(np.linalg.norm(b))
    cosine = None
    if norm > 0 and baseline_norm > 0:
        cosine = float(np.clip(np.dot(g, b) / (norm * baseline_norm), -1.0, 1.0))
    return {
        "batch": len(x),
        "max_abs_difference": float(np.max(np.abs(g - b))),
        "cosine": cosine,
        "norm": norm,
        "baseline_norm": baseline_norm,
    }


def run_experiment(
    config: dict[str, Any],
    keras_home: Path,
    reporter: Reporter,
    data_dirs: Sequence[Path] | None = None,
    checkpoint: Checkpoint | None = None,
    progress_interval: float = 1.0,
) -> Outcome:
    """Train the article's ConvNet once per loss and seed in ``config``; compare the runs.

    Data set files are looked for in ``data_dirs`` (default: the catalog's default
    directories). The data (the synthetic set, the subsample) come from the first seed; each
    seed sets the initial weights, the shuffling and the dropout masks, the same for every
    loss. With a ``checkpoint`` every finished epoch is saved, and what an earlier attempt
    saved is taken up: finished runs are not trained again, and the run it was training
    goes on after its last finished epoch. Progress within an epoch is reported at most
    once every ``progress_interval`` seconds, and after every epoch.
    """
    cfg = ExperimentConfig.model_validate(config)
    spec = DATASETS[cfg.dataset]
    plan = cfg.run_plan()
    epochs, batch_size = cfg.epochs, cfg.batch_size
    baseline = cfg.comparison_baseline()
    state = checkpoint or Checkpoint(Path(), "")  # no folder: kept in memory, never written
    for index, (loss, seed) in enumerate(plan):  # what an earlier attempt finished, at once
        for done in state.run(cfg.run_key(loss, seed)).history:
            metrics = EpochMetrics(**done)
            reporter.epoch_done(metrics, training_fraction(index, len(plan), metrics.epoch, epochs))
    loaded_at = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = load(
        spec.name,
        keras_home,
        cfg.train_samples,
        cfg.test_samples,
        cfg.run_seeds()[0],
        data_dirs=data_dirs,
    )
    train_inputs = x_train.astype(np.float32) / 255.0
    test_inputs = x_test.astype(np.float32) / 255.0
    train_targets = soft_targets(y_train, spec.classes, cfg.label_smoothing)
    test_targets = soft_targets(y_test, spec.classes, cfg.label_smoothing)
    fitted = training_rows(len(train_targets), cfg.validation_split)
    if cfg.mixup > 0:  # the training rows only: Keras validates on the last ones, unmixed
        mix_pairs(train_inputs, train_targets, cfg.mixup, cfg.run_seeds()[0], fitted)
    # H(y) of the rows Keras trains on: the cross-entropy and KL training losses differ by it
    trained_rows = train_targets[:fitted]
    train_target_entropy = float(np.mean(it.entropy(trained_rows.astype(np.float64))))
    load_seconds = time.perf_counter() - loaded_at

    runs: dict[str, Any] = {}
    status = JobStatus.SUCCEEDED
    for index, (loss, seed) in enumerate(plan):
        if reporter.cancelled():
            status = JobStatus.CANCELLED
            break
        key = cfg.run_key(loss, seed)
        run = state.run(key)
        if run.result is not None:
            runs[key] = run.result
            continue
        keras.utils.set_random_seed(seed)  # the same initial weights for every loss
        model = build_model(spec.shape, spec.classes, loss)
        check = None
        if loss != baseline:
            batch = slice(0, min(batch_size, len(train_inputs)))
            check = gradient_check(model, loss, baseline, train_inputs[batch], train_targets[batch])
        initial = 0
        if checkpoint is not None and checkpoint.restore(key, model):
            initial = len(run.history)
            run.resumed_after.append(initial)
            log.info("run %s: resuming after epoch %d", key, initial)
        else:
            run.history.clear()  # nothing to go on from: the run starts afresh
        keras.utils.set_random_seed(seed + initial)  # the same shuffles and masks per loss
        saved = None if checkpoint is None else partial(checkpoint.save_epoch, key, model)
        progress = _Progress(
            reporter, loss, index, len(plan), epochs, seed, key, saved, progress_interval
        )
        started = time.perf_counter()
        model.fit(
            train_inputs,
            train_targets,
            batch_size=batch_size,
            epochs=epochs,
            initial_epoch=initial,
            validation_split=cfg.validation_split,
            callbacks=[progress],
            verbose=0,
        )
        train_seconds = time.perf_counter() - started
        if reporter.cancelled():
            status = JobStatus.CANCELLED
            break
        # One pass over the test set gives Keras' test loss, the accuracy and the identity.
        probabilities = model.predict(test_inputs, batch_size=batch_size, verbose=0)
        test_loss = float(keras.ops.convert_to_numpy(model.loss(test_targets, probabilities)))
        trained = epochs - initial
        result = {
            "loss": loss,
            "seed": seed,
            "test_loss": test_loss,
            "test_accuracy": float(np.mean(probabilities.argmax(axis=1) == y_test)),
            "train_seconds": train_seconds,
            "seconds_per_epoch": train_seconds / trained if trained else None,
            "identity": _identity_check(test_targets.astype(np.float64), probabilities),
            "gradient_check": None if check is None else {"seed": seed, **check},
            "resumed_after": list(run.resumed_after),
        }
        if checkpoint is not None:
            checkpoint.finish_run(key, result)
        runs[key] = result
    result = {
        "dataset": {
            "name": spec.name,
            "train_samples": len(x_train),
            "test_samples": len(x_test),
            "train_target_entropy": train_target_entropy,
            "load_seconds": load_seconds,
        },
        "runs": runs,
    }
    return Outcome(status=status, result=result)

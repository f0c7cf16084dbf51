"""Progress by elapsed time: within an epoch at most once per ``progress_interval`` seconds,
always at an epoch's end, with the event stream's arithmetic; no batch hook reads Keras'
logs (whose values are device tensors) or forces Keras to convert them in the training loop."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, NoReturn

import keras
import pytest

from app.config import Settings
from app.schemas.experiments import training_fraction
from app.worker.experiment import EpochMetrics, _Progress, run_experiment
from tests.worker.test_experiment import FakeReporter

CE = "categorical_crossentropy"


class Reporter(FakeReporter):
    def __init__(self) -> None:
        super().__init__()
        self.batch_fractions: list[float] = []
        self.epoch_fractions: list[float] = []

    def batch_done(self, fraction: float, loss: str, run: int, epoch: int, seed: int) -> None:
        super().batch_done(fraction, loss, run, epoch, seed)
        self.batch_fractions.append(fraction)

    def epoch_done(self, metrics: EpochMetrics, fraction: float) -> None:
        super().epoch_done(metrics, fraction)
        self.epoch_fractions.append(fraction)


class Untouchable:
    """Logs that fail the test when anything reads them."""

    def _read(self, *args: Any) -> NoReturn:
        raise AssertionError("a batch hook read the logs")

    __getitem__ = __iter__ = __len__ = __contains__ = __bool__ = _read
    get = items = keys = values = _read


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_batches_and_epochs_report_the_shared_fraction() -> None:
    reporter = Reporter()
    progress = _Progress(reporter, CE, run=1, runs=2, epochs=4, interval=0.0)
    progress.set_params({"steps": 4})
    progress.on_train_begin()
    progress.on_epoch_begin(2)  # Keras counts epochs from 0: the third epoch of the second run
    progress.on_train_batch_begin(0)  # nothing of the epoch done yet: nothing to report
    progress.on_train_batch_begin(2)  # two of its four steps done
    assert reporter.batch_fractions == [training_fraction(1, 2, 2, 4, 0.5)] == [(1 + 2.5 / 4) / 2]
    progress.on_train_batch_begin(3)
    progress.on_epoch_end(2, {"loss": 0.5, "accuracy": 0.75})
    assert reporter.epochs[0].epoch == 3
    assert reporter.epoch_fractions == [training_fraction(1, 2, 3, 4)] == [0.875]


def test_at_most_one_report_per_interval_and_one_per_epoch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(time, "monotonic", clock)  # the callback's clock
    reporter = Reporter()
    progress = _Progress(reporter, CE, run=0, runs=1, epochs=1, interval=1.0)
    progress.set_params({"steps": 10})
    progress.on_train_begin()
    progress.on_epoch_begin(0)
    for batch in range(10):  # 0.3 s a batch: reports before batches 4 and 8 (1.2 s, 2.4 s)
        progress.on_train_batch_begin(batch)
        clock.now += 0.3
    assert reporter.batch_fractions == [pytest.approx(0.4), pytest.approx(0.8)]
    progress.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.75})
    assert reporter.epoch_fractions == [1.0]


def test_batch_hooks_leave_the_logs_alone() -> None:
    reporter = Reporter()
    progress = _Progress(reporter, CE, run=0, runs=1, epochs=1, interval=0.0)
    progress.set_params({"steps": 3})
    progress.on_train_begin()
    progress.on_epoch_begin(0)
    for batch in range(3):
        progress.on_train_batch_begin(batch, Untouchable())
        progress.on_train_batch_end(batch, Untouchable())
        progress.on_batch_end(batch, Untouchable())
    assert reporter.batches == 2
    # Keras converts a batch's logs for on_(train_)batch_end, in the training loop, as soon
    # as one callback overrides it: this callback must not
    assert type(progress).on_train_batch_end is keras.callbacks.Callback.on_train_batch_end
    assert type(progress).on_batch_end is keras.callbacks.Callback.on_batch_end


def _tiny() -> dict[str, object]:
    return {
        "dataset": "synthetic", "losses": [CE], "epochs": 2, "batch_size": 50,
        "validation_split": 0.0, "seed": 2, "train_samples": 200, "test_samples": 20,
    }  # fmt: skip


def test_a_long_interval_reports_only_the_epochs(tmp_path: Path) -> None:
    reporter = Reporter()
    outcome = run_experiment(_tiny(), tmp_path, reporter, progress_interval=3600.0)
    assert outcome.status == "succeeded"
    assert reporter.batches == 0 and reporter.batch_fractions == []
    assert [e.epoch for e in reporter.epochs] == [1, 2]
    assert reporter.epoch_fractions == [0.5, 1.0]


def test_a_zero_interval_reports_within_epochs(tmp_path: Path) -> None:
    reporter = Reporter()
    outcome = run_experiment(_tiny(), tmp_path, reporter, progress_interval=0.0)
    assert outcome.status == "succeeded"
    # 200 images / batch 50 = 4 batches an epoch: reports before batches 2, 3 and 4
    assert reporter.batch_fractions == pytest.approx(
        [1 / 8, 2 / 8, 3 / 8, 5 / 8, 6 / 8, 7 / 8], abs=1e-12
    )
    assert reporter.epoch_fractions == [0.5, 1.0]


def test_the_setting() -> None:
    assert Settings().progress_interval == 1.0
    assert Settings(progress_interval=0).progress_interval == 0.0
    with pytest.raises(ValueError, match="progress_interval"):
        Settings(progress_interval=-1)

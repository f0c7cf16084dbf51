"""The worker reports progress with the same arithmetic as the event stream."""

from __future__ import annotations

from app.schemas.experiments import training_fraction
from app.worker.experiment import EpochMetrics, _Progress
from tests.worker.test_experiment import FakeReporter


class Reporter(FakeReporter):
    def __init__(self) -> None:
        super().__init__()
        self.epoch_fractions: list[float] = []

    def epoch_done(self, metrics: EpochMetrics, fraction: float) -> None:
        super().epoch_done(metrics, fraction)
        self.epoch_fractions.append(fraction)


def test_batches_and_epochs_report_the_shared_fraction() -> None:
    reporter = Reporter()
    progress = _Progress(reporter, "categorical_crossentropy", run=1, runs=2, epochs=4)
    progress.set_params({"steps": 4})
    progress.on_epoch_begin(2)  # Keras counts epochs from 0: the third epoch of the second run
    progress.on_train_batch_end(1)  # two of its four steps done
    assert reporter.fractions == [training_fraction(1, 2, 2, 4, 0.5)] == [(1 + 2.5 / 4) / 2]
    for batch in (2, 3):
        progress.on_train_batch_end(batch)
    progress.on_epoch_end(2, {"loss": 0.5, "accuracy": 0.75})
    assert reporter.epochs[0].epoch == 3
    assert reporter.epoch_fractions == [training_fraction(1, 2, 3, 4)] == [0.875]

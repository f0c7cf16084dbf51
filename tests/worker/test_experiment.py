"""The Keras experiment in-process: histories, cancellation, the entropy identity, learning."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.worker.experiment import EpochMetrics, run_experiment
from app.worker.model import build_model


class FakeReporter:
    def __init__(self, cancel_after_batches: int | None = None) -> None:
        self.epochs: list[EpochMetrics] = []
        self.fractions: list[float] = []
        self.batches = 0
        self.cancel_after = cancel_after_batches

    def cancelled(self) -> bool:
        return self.cancel_after is not None and self.batches >= self.cancel_after

    def batch_done(self, fraction: float, loss: str, run: int, epoch: int, seed: int) -> None:
        self.batches += 1
        self.fractions.append(fraction)

    def epoch_done(self, metrics: EpochMetrics, fraction: float) -> None:
        self.epochs.append(metrics)
        self.fractions.append(fraction)


def _config(**overrides: object) -> dict[str, object]:
    config: dict[str, object] = {
        "dataset": "synthetic",
        "losses": ["kl_divergence", "categorical_crossentropy"],
        "epochs": 2,
        "batch_size": 50,
        "validation_split": 0.2,
        "seed": 7,
        "train_samples": 300,
        "test_samples": 100,
    }
    config.update(overrides)
    return config


def test_the_article_convnet() -> None:
    model = build_model((32, 32, 3), 10, "kl_divergence")
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "Conv2D", "MaxPooling2D", "Dropout", "Conv2D", "MaxPooling2D", "Dropout",
        "Flatten", "Dense", "Dense",
    ]  # fmt: skip
    assert [model.layers[i].filters for i in (0, 3)] == [32, 64]
    assert model.layers[0].kernel_size == (3, 3)
    assert [model.layers[i].rate for i in (2, 5)] == [0.5, 0.5]
    assert [model.layers[i].units for i in (7, 8)] == [256, 10]
    assert model.layers[8].activation.__name__ == "softmax"
    assert type(model.optimizer).__name__ == "Adam"
    assert type(model.loss).__name__ == "KLDivergence"


def test_two_runs_with_full_histories_and_the_identity(tmp_path: Path) -> None:
    reporter = FakeReporter()
    outcome = run_experiment(_config(), tmp_path, reporter)
    assert outcome.status == "succeeded"
    assert [(e.loss_name, e.epoch) for e in reporter.epochs] == [
        ("kl_divergence", 1), ("kl_divergence", 2),
        ("categorical_crossentropy", 1), ("categorical_crossentropy", 2),
    ]  # fmt: skip
    assert all(e.val_loss is not None and e.seconds > 0 for e in reporter.epochs)
    assert reporter.fractions == sorted(reporter.fractions) and reporter.fractions[-1] == 1.0
    runs = outcome.result["runs"]
    assert set(runs) == {"kl_divergence", "categorical_crossentropy"}
    for run in runs.values():
        assert 0.0 <= run["test_accuracy"] <= 1.0
        identity = run["identity"]
        assert identity["label_entropy"] == 0.0  # one-hot labels
        assert identity["holds"] and abs(identity["cross_entropy_minus_kl"]) < 1e-12
    assert outcome.result["dataset"] == {
        "name": "synthetic", "train_samples": 300, "test_samples": 100,
        "train_target_entropy": 0.0,  # one-hot targets
        "load_seconds": outcome.result["dataset"]["load_seconds"],
    }  # fmt: skip


def test_cancel_stops_at_the_next_batch_and_keeps_finished_epochs(tmp_path: Path) -> None:
    # 240 training images / batch 50 = 5 batches an epoch; with progress reported at every
    # batch (before batches 2 to 5 of an epoch: 4 reports), cancel during epoch 2
    reporter = FakeReporter(cancel_after_batches=7)
    outcome = run_experiment(_config(epochs=5), tmp_path, reporter, progress_interval=0.0)
    assert outcome.status == "cancelled"
    assert [(e.loss_name, e.epoch) for e in reporter.epochs] == [("kl_divergence", 1)]
    assert reporter.batches == 7
    assert outcome.result["runs"] == {}


@pytest.mark.parametrize("loss", ["kl_divergence", "categorical_crossentropy"])
def test_synthetic_is_learnable_but_not_solved_after_two_epochs(tmp_path: Path, loss: str) -> None:
    # the article's batch size; 4,000 training images after the validation split. Measured
    # (seeds 0-2): 0.23-0.28, like CIFAR-10 this early; the calibrated set is no longer solved
    config = _config(
        losses=[loss], epochs=2, batch_size=250, train_samples=5000, test_samples=2000, seed=1
    )
    outcome = run_experiment(config, tmp_path, FakeReporter())
    assert 0.15 < outcome.result["runs"][loss]["test_accuracy"] < 0.5  # chance is 0.1
    assert outcome.result["dataset"]["train_samples"] == 5000  # the sizes asked are the sizes used
    assert outcome.result["dataset"]["test_samples"] == 2000


def test_the_experiment_reads_data_from_the_directories_it_is_given(tmp_path: Path) -> None:
    """The worker passes DIVERGENCE_DATA_DIRS down to the loader: a tiny Fashion-MNIST in a
    directory of the test's own is what the run trains and tests on."""
    from tests.worker.test_datasets import write_fashion

    write_fashion(tmp_path / "data", train=60, test=20)
    config = _config(dataset="fashion_mnist", epochs=1, batch_size=20, train_samples=None,
                     test_samples=None, losses=["categorical_crossentropy"])  # fmt: skip
    outcome = run_experiment(config, tmp_path / "keras", FakeReporter(), [tmp_path / "data"])
    used = outcome.result["dataset"]
    assert (used["name"], used["train_samples"], used["test_samples"]) == ("fashion_mnist", 60, 20)

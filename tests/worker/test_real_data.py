"""A small real experiment offline: Fashion-MNIST from Debian's package, through the worker's
code path (the default data directories, the article's ConvNet, both losses)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.catalog import DATASETS, DEBIAN_DATASETS, locate
from app.worker.experiment import EpochMetrics, run_experiment

pytestmark = pytest.mark.skipif(
    locate(DATASETS["fashion_mnist"], [DEBIAN_DATASETS]) is None,
    reason=f"no Fashion-MNIST in {DEBIAN_DATASETS} (apt-get install dataset-fashion-mnist)",
)


class _Quiet:
    def __init__(self) -> None:
        self.epochs: list[EpochMetrics] = []

    def cancelled(self) -> bool:
        return False

    def batch_done(self, fraction: float, loss: str, run: int, epoch: int, seed: int) -> None:
        pass

    def epoch_done(self, metrics: EpochMetrics, fraction: float) -> None:
        self.epochs.append(metrics)


def test_fashion_mnist_offline_learns_well_above_chance(tmp_path: Path) -> None:
    config = {
        "dataset": "fashion_mnist",
        "losses": ["kl_divergence", "categorical_crossentropy"],
        "epochs": 2,
        "batch_size": 100,
        "validation_split": 0.2,
        "seed": 0,
        "train_samples": 5000,
        "test_samples": 1000,
    }
    reporter = _Quiet()
    # an empty Keras cache: the files can only come from /usr/share/datasets, with no network
    outcome = run_experiment(config, tmp_path / "empty-keras-home", reporter)
    assert outcome.status == "succeeded"
    assert outcome.result["dataset"]["train_samples"] == 5000
    assert outcome.result["dataset"]["test_samples"] == 1000
    assert len(reporter.epochs) == 4
    for loss, run in outcome.result["runs"].items():
        assert run["test_accuracy"] > 0.65, loss  # chance is 0.1; measured 0.74-0.75, seeds 0-2
    assert not (tmp_path / "empty-keras-home").exists()  # nothing downloaded

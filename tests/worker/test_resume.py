"""Checkpoints in-process: weights and optimizer state saved after every epoch, a stopped job
taken up after its last finished epoch with one continuous history, finished runs not trained
again, another configuration's checkpoint ignored. (The SIGKILL test with real workers is
tests/e2e/test_experiment_resume.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from app.worker.checkpoints import Checkpoint, fingerprint
from app.worker.experiment import run_experiment
from app.worker.model import build_model
from tests.worker.test_experiment import FakeReporter, _config

KL, CE = "kl_divergence", "categorical_crossentropy"


def test_weights_and_optimizer_state_round_trip(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    model = build_model((28, 28, 1), 10, CE)
    x = np.random.default_rng(0).random((40, 28, 28, 1), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[np.arange(40) % 10]
    model.fit(x, y, batch_size=20, epochs=1, verbose=0)
    saved = Checkpoint(tmp_path / "job", "abc")
    saved.save_epoch(CE, model, {"epoch": 1})
    assert int(model.optimizer.iterations.numpy()) == 2  # two batches of 20

    keras.utils.set_random_seed(99)  # other initial weights
    fresh = build_model((28, 28, 1), 10, CE)
    loaded = Checkpoint(tmp_path / "job", "abc")
    loaded.load()
    assert loaded.run(CE).history == [{"epoch": 1}]
    assert loaded.restore(CE, fresh)
    for a, b in zip(model.weights, fresh.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for a, b in zip(model.optimizer.variables, fresh.optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))  # Adam's moments and step
    assert int(fresh.optimizer.iterations.numpy()) == 2

    other = Checkpoint(tmp_path / "job", "another configuration")
    other.load()
    assert other.runs == {} and not other.restore(CE, fresh)


def test_a_new_epoch_replaces_the_files_of_the_last(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    model = build_model((28, 28, 1), 10, KL)
    model.optimizer.build(model.trainable_variables)
    checkpoint = Checkpoint(tmp_path, "abc")
    checkpoint.save_epoch("kl_divergence@3", model, {"epoch": 1})
    checkpoint.save_epoch("kl_divergence@3", model, {"epoch": 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "kl_divergence_3-epoch2.weights.h5",
        "state.json",
    ]
    checkpoint.finish_run("kl_divergence@3", {"test_accuracy": 0.5})
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["runs"]["kl_divergence@3"]["result"] == {"test_accuracy": 0.5}
    checkpoint.remove()
    assert not tmp_path.exists()


def test_a_stopped_job_resumes_after_its_last_finished_epoch(tmp_path: Path) -> None:
    config = _config(epochs=2)  # 240 training images, batch 50: 5 batches an epoch
    folder = tmp_path / "checkpoints" / "job"
    first = FakeReporter(cancel_after_batches=7)  # stops during epoch 2 of the KL run
    checkpoint = Checkpoint(folder, fingerprint(config))
    outcome = run_experiment(config, tmp_path, first, checkpoint=checkpoint, progress_interval=0)
    assert outcome.status == "cancelled"
    assert [(e.loss_name, e.epoch) for e in first.epochs] == [(KL, 1)]

    again = FakeReporter()
    checkpoint = Checkpoint(folder, fingerprint(config))
    checkpoint.load()
    outcome = run_experiment(config, tmp_path, again, checkpoint=checkpoint, progress_interval=0)
    assert outcome.status == "succeeded"
    # epoch 1 of KL replayed from the checkpoint (the same numbers), then trained on
    assert [(e.loss_name, e.epoch) for e in again.epochs] == [
        (KL, 1), (KL, 2), (CE, 1), (CE, 2),
    ]  # fmt: skip
    assert again.epochs[0] == first.epochs[0]
    # only the epochs that were not done: a report before each of batches 2 to 5
    assert again.batches == (1 + 2) * (5 - 1)
    runs = outcome.result["runs"]
    assert runs[KL]["resumed_after"] == [1] and runs[CE]["resumed_after"] == []

    # a third attempt after the job finished its runs trains nothing and reports the same
    third = FakeReporter()
    outcome_again = run_experiment(
        config, tmp_path, third, checkpoint=checkpoint, progress_interval=0
    )
    assert third.batches == 0 and third.epochs == again.epochs
    assert outcome_again.result["runs"] == runs


@pytest.mark.parametrize("text", ["{not json", '{"config": "x", "runs": {}}'])
def test_an_unreadable_or_foreign_state_is_ignored(tmp_path: Path, text: str) -> None:
    (tmp_path / "state.json").write_text(text)
    checkpoint = Checkpoint(tmp_path, "mine")
    checkpoint.load()
    assert checkpoint.runs == {}

"""Soft labels: with label smoothing s the targets have entropy H(y) > 0, and the training
losses of the cross-entropy and KL runs differ by exactly that, epoch by epoch (both runs
follow the same weights, since H(y, q) = H(y) + D(y || q) gives them the same gradient).

H(y) is computed here by hand: a target is 1 - s + s/K for its class and s/K for the other
K - 1, so H(y) = -(a ln a + (K - 1) b ln b)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.jobs.store import JobStore
from app.schemas.experiments import Experiment, ExperimentConfig
from app.services.experiment_resources import to_resource
from app.worker import runner
from app.worker.experiment import soft_targets

SMOOTHING, CLASSES = 0.1, 10
CONFIG = {
    "dataset": "synthetic", "losses": ["kl_divergence", "categorical_crossentropy"],
    "epochs": 2, "batch_size": 50, "validation_split": 0.2, "seed": 7,
    "train_samples": 200, "test_samples": 50, "label_smoothing": SMOOTHING,
}  # fmt: skip


def by_hand(s: float, k: int) -> float:
    a, b = 1 - s + s / k, s / k
    return -(a * math.log(a) + (k - 1) * b * math.log(b))


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Experiment:
    tmp = tmp_path_factory.mktemp("soft")
    store = JobStore.from_url(f"sqlite:///{tmp / 'jobs.db'}")
    store.create_schema()
    row = store.create(ExperimentConfig.model_validate(CONFIG).model_dump())
    runner.execute(store, row.id, "w1", tmp / "keras", interval=0.5)
    done = store.get(row.id)
    assert done is not None and done.status == "succeeded", done and done.error
    return to_resource(done, store.epochs(row.id))


def test_smoothed_targets() -> None:
    y = soft_targets(np.array([3, 0]), CLASSES, SMOOTHING)
    assert y.dtype == np.float32 and y.shape == (2, CLASSES)
    assert y[0, 3] == pytest.approx(0.91) and y[0, 0] == pytest.approx(0.01)
    assert y.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert soft_targets(np.array([2]), 4, 0.0).tolist() == [[0, 0, 1, 0]]


def test_training_losses_differ_by_the_targets_entropy(job: Experiment) -> None:
    h = by_hand(SMOOTHING, CLASSES)
    assert h == pytest.approx(0.500288035, abs=1e-9)
    kl, ce = job.runs
    assert (kl.loss, ce.loss) == ("kl_divergence", "categorical_crossentropy")
    assert len(kl.history) == len(ce.history) == 2
    for k, c in zip(kl.history, ce.history, strict=True):
        # float32 losses of about 2: measured residuals of 1e-7
        assert c.loss - k.loss == pytest.approx(h, abs=1e-5)
        assert c.loss > k.loss + 0.5  # the gap is there, not zero
    comparison = job.comparison
    assert comparison is not None and comparison.baseline == "categorical_crossentropy"
    for epoch, k, c in zip(comparison.per_epoch, kl.history, ce.history, strict=True):
        assert epoch.loss_gap == pytest.approx(k.loss - c.loss, abs=1e-12)
        assert epoch.identity_residual is not None and abs(epoch.identity_residual) < 1e-5


def test_test_set_identity_with_soft_targets(job: Experiment) -> None:
    h = by_hand(SMOOTHING, CLASSES)
    for run in job.runs:
        identity = run.identity
        assert identity is not None and identity.holds
        # the targets are float32: their entropy is the closed form to about 1e-7
        assert identity.label_entropy == pytest.approx(h, abs=1e-6)
        assert identity.cross_entropy_minus_kl == pytest.approx(identity.label_entropy, abs=1e-9)
    assert job.comparison is not None
    assert job.comparison.label_entropy == pytest.approx(h, abs=1e-6)
    assert job.comparison.cross_entropy_minus_kl_equals_label_entropy is True


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, "0.1"])
def test_label_smoothing_must_be_in_zero_one(bad: object) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as error:
        ExperimentConfig.model_validate({**CONFIG, "label_smoothing": bad})
    assert error.value.errors()[0]["loc"] == ("label_smoothing",)


def test_the_default_is_one_hot() -> None:
    assert ExperimentConfig.model_validate({}).label_smoothing == 0.0


def test_the_comparison_says_why(job: Experiment) -> None:
    """The gradient check ran at the seed's initial weights, and the verdict says what it
    found and why, with the entropy of these targets."""
    assert job.comparison is not None
    [kl_vs_ce] = job.comparison.against_baseline
    assert (kl_vs_ce.loss, kl_vs_ce.baseline) == ("kl_divergence", "categorical_crossentropy")
    [check] = kl_vs_ce.gradient_checks
    assert check.seed == 7 and check.batch == 50
    assert check.cosine is not None and check.cosine > 1 - 1e-9
    assert check.max_abs_difference <= 1e-6 * check.baseline_norm
    assert job.runs[0].gradient_check == check and job.runs[1].gradient_check is None
    verdict = kl_vs_ce.verdict
    assert "have the same gradient" in verdict and "H(y, q) = H(y) + D(y || q)" in verdict
    assert f"{by_hand(SMOOTHING, CLASSES):.4g} nats" in verdict
    assert "With one seed" in verdict and "repeats" in verdict
    assert job.comparison.verdict == verdict

"""Losses beyond the two: Jensen-Shannon against scipy, the squared error's gradient against
its closed form (it is a different objective from cross-entropy: the cosine is below 1), and
a run with a non-default loss set compared against a chosen baseline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon

from app import catalog
from app.schemas.experiments import ExperimentConfig
from app.services.experiment_resources import to_resource
from app.worker import model as worker_model
from app.worker.experiment import gradient_check, soft_targets
from tests.worker.test_gradient_check import _bias_only_softmax


def test_the_registry_and_the_catalog_agree() -> None:
    assert worker_model.LOSSES.keys() == catalog.LOSSES.keys()
    assert ExperimentConfig().losses == ["kl_divergence", "categorical_crossentropy"]


def test_jensen_shannon_against_scipy() -> None:
    y = np.array([[0, 1, 0, 0], [0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0, 0]], dtype=np.float32)
    q = np.array([[0.25, 0.25, 0.25, 0.25], [0.4, 0.3, 0.2, 0.1], [0, 0, 0.5, 0.5]],
                 dtype=np.float32)  # fmt: skip
    got = np.asarray(worker_model.JensenShannon().call(y, q))
    expected = [
        jensenshannon(a, b) ** 2 for a, b in zip(y.astype(float), q.astype(float), strict=True)
    ]
    assert got == pytest.approx(expected, abs=1e-6)
    assert got[2] == pytest.approx(np.log(2), abs=1e-6)  # disjoint supports: the bound


def test_jensen_shannon_gradient_is_finite_where_q_has_zeros() -> None:
    import tensorflow as tf

    q = tf.Variable([[0.0, 0.5, 0.5]])
    with tf.GradientTape() as tape:
        value = worker_model.JensenShannon().call(tf.constant([[1.0, 0.0, 0.0]]), q)
    assert np.isfinite(np.asarray(tape.gradient(value, q))).all()


def test_squared_error_gradient_against_the_closed_form() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(12, 5)).astype(np.float32)
    y = soft_targets(rng.integers(0, 4, size=12), 4, 0.0)
    model = _bias_only_softmax(5, 4)
    check = gradient_check(model, "squared_error", "categorical_crossentropy", x, y)
    assert check is not None
    z = x.astype(np.float64) @ np.asarray(model.layers[0].kernel) + np.asarray(model.layers[0].bias)
    q = np.exp(z - z.max(axis=1, keepdims=True))
    q /= q.sum(axis=1, keepdims=True)
    n, k = q.shape
    ce = (q - y).mean(axis=0)
    # mean over samples and classes of (y - q)^2, through the softmax's Jacobian
    dq = 2.0 * (q - y) / (n * k)
    se = sum((np.diag(qi) - np.outer(qi, qi)) @ gi for qi, gi in zip(q, dq, strict=True))
    cosine = se @ ce / (np.linalg.norm(se) * np.linalg.norm(ce))
    assert check["norm"] == pytest.approx(np.linalg.norm(se), rel=1e-5)
    assert check["baseline_norm"] == pytest.approx(np.linalg.norm(ce), rel=1e-5)
    assert check["cosine"] == pytest.approx(cosine, abs=1e-6)
    assert check["cosine"] < 0.999
    assert check["max_abs_difference"] == pytest.approx(np.abs(se - ce).max(), rel=1e-4)


def test_a_non_default_loss_set_against_a_chosen_baseline(tmp_path: Path) -> None:
    from app.jobs.store import JobStore
    from app.worker import runner

    config = ExperimentConfig.model_validate({
        "dataset": "synthetic", "losses": ["jensen_shannon", "squared_error", "focal_crossentropy"],
        "baseline": "squared_error", "epochs": 1, "batch_size": 50, "validation_split": 0.0,
        "train_samples": 100, "test_samples": 50, "seed": 1,
    })  # fmt: skip
    store = JobStore.from_url(f"sqlite:///{tmp_path / 'jobs.db'}")
    store.create_schema()
    row = store.create(config.model_dump())
    runner.execute(store, row.id, "w1", tmp_path / "keras", interval=0.5)
    done = store.get(row.id)
    assert done is not None and done.status == "succeeded", done and done.error
    job = to_resource(done, store.epochs(row.id))
    assert [r.loss for r in job.runs] == ["jensen_shannon", "squared_error", "focal_crossentropy"]
    assert job.comparison is not None and job.comparison.baseline == "squared_error"
    pairs = {c.loss: c for c in job.comparison.against_baseline}
    assert set(pairs) == {"jensen_shannon", "focal_crossentropy"}
    for pair in pairs.values():
        [check] = pair.gradient_checks
        assert check.cosine is not None and check.cosine < 0.9999
        assert "have different gradients" in pair.verdict
        assert "H(y, q) = H(y) + D(y || q)" not in pair.verdict  # not the identity pair
        assert [e.identity_residual for e in pair.per_epoch] == [None]
    assert job.comparison.test_accuracy_gap is None  # no KL and CE pair here

"""The comparison without training: paired per-seed gaps, the t interval (against scipy),
seed noise, the identity residual, and the verdict's words."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from app.schemas.experiments import EpochMetrics, ExperimentConfig, GradientCheck, RunResult
from app.services.experiment_comparison import comparison, target_entropy
from app.services.experiment_stats import mean_interval, t_quantile

KL, CE = "kl_divergence", "categorical_crossentropy"


def _run(loss: str, seed: int, accuracy: float, losses: list[float]) -> RunResult:
    history = [
        EpochMetrics(epoch=i + 1, loss=v, accuracy=0.5, val_loss=None, val_accuracy=None,
                     seconds=1.0)
        for i, v in enumerate(losses)
    ]  # fmt: skip
    check = None
    if loss == KL:
        check = GradientCheck(seed=seed, batch=50, max_abs_difference=3e-9, cosine=1.0,
                              norm=0.8, baseline_norm=0.8)  # fmt: skip
    return RunResult(loss=loss, seed=seed, history=history, test_accuracy=accuracy,
                     gradient_check=check)  # fmt: skip


@pytest.mark.parametrize("nu", [1, 2, 3, 4, 7, 10, 30, 99])
@pytest.mark.parametrize("p", [0.975, 0.95, 0.995, 0.6])
def test_t_quantile_against_scipy(nu: int, p: float) -> None:
    assert t_quantile(p, nu) == pytest.approx(stats.t.ppf(p, nu), rel=1e-11)


@given(st.lists(st.floats(-1, 1), min_size=2, max_size=30))
def test_mean_interval_against_scipy(values: list[float]) -> None:
    mean, sd, interval = mean_interval(values)
    assert mean == pytest.approx(statistics.fmean(values), abs=1e-12)
    assert sd == pytest.approx(statistics.stdev(values), abs=1e-12)
    assert interval is not None
    if sd > 1e-9:
        low, high = stats.t.interval(0.95, len(values) - 1, loc=mean,
                                     scale=sd / math.sqrt(len(values)))  # fmt: skip
        assert interval == pytest.approx((low, high), abs=1e-10)


def test_three_seeds_whose_gap_is_seed_noise() -> None:
    config = ExperimentConfig.model_validate({"dataset": "synthetic", "repeats": 3, "seed": 4})
    gaps = [0.01, -0.02, 0.004]
    runs = []
    for seed, gap in zip((4, 5, 6), gaps, strict=True):
        runs.append(_run(KL, seed, 0.6 + gap, [1.0, 0.8]))
        runs.append(_run(CE, seed, 0.6, [1.0, 0.7]))
    result = comparison(config, runs)
    assert result is not None
    [pair] = result.against_baseline
    found = pair.test_accuracy_gap
    assert [r.seed for r in found.runs] == [4, 5, 6]
    assert [r.gap for r in found.runs] == pytest.approx(gaps, abs=1e-12)
    mean, sd = statistics.fmean(gaps), statistics.stdev(gaps)
    low, high = stats.t.interval(0.95, 2, loc=mean, scale=sd / math.sqrt(3))
    assert found.mean == pytest.approx(mean, abs=1e-12) and found.sd == pytest.approx(sd, abs=1e-12)
    assert found.interval == pytest.approx((low, high), abs=1e-10)
    assert found.distinguishable is False and low < 0 < high
    assert found.seed_sd == pytest.approx({KL: sd, CE: 0.0}, abs=1e-12)
    assert "Over 3 seeds" in pair.verdict and "no difference beyond seed noise" in pair.verdict
    assert "contains 0" in pair.verdict
    # per epoch: the mean over seeds; one-hot targets (H(y) = 0): the residual is the gap
    assert [e.loss_gap for e in pair.per_epoch] == pytest.approx([0.0, 0.1], abs=1e-12)
    assert [e.identity_residual for e in pair.per_epoch] == pytest.approx([0.0, 0.1])
    assert result.test_accuracy == pytest.approx({KL: 0.6 + mean, CE: 0.6}, abs=1e-12)
    assert result.test_accuracy_gap == pytest.approx(mean, abs=1e-12)


def test_a_gap_beyond_seed_noise() -> None:
    config = ExperimentConfig.model_validate({"dataset": "synthetic", "seeds": [9, 2, 5, 1]})
    runs = []
    for seed, gap in zip((9, 2, 5, 1), (0.05, 0.06, 0.055, 0.052), strict=True):
        runs += [_run(KL, seed, 0.5 + gap, [1.0]), _run(CE, seed, 0.5, [1.0])]
    [pair] = comparison(config, runs).against_baseline  # type: ignore[union-attr]
    assert pair.test_accuracy_gap.distinguishable is True
    assert pair.test_accuracy_gap.interval is not None and pair.test_accuracy_gap.interval[0] > 0
    assert "excludes 0, a difference beyond seed noise" in pair.verdict


def test_cross_entropy_against_a_kl_baseline_with_soft_targets() -> None:
    config = ExperimentConfig.model_validate(
        {"dataset": "mnist", "baseline": KL, "label_smoothing": 0.3}
    )
    s, k = 0.3, 10
    a, b = 1 - s + s / k, s / k
    h = -(a * math.log(a) + (k - 1) * b * math.log(b))
    assert target_entropy(config) == pytest.approx(h, abs=1e-14)
    runs = [_run(KL, 0, 0.7, [1.0, 0.9]), _run(CE, 0, 0.7, [1.0 + h, 0.9 + h + 1e-7])]
    result = comparison(config, runs)
    assert result is not None and result.baseline == KL
    [pair] = result.against_baseline
    assert (
        pair.loss == CE and pair.gradient_checks == []
    )  # this test gives only its KL runs a check
    assert [e.identity_residual for e in pair.per_epoch] == pytest.approx([0.0, 1e-7], abs=1e-12)
    assert "With one seed the test-accuracy gap is +0.0000" in pair.verdict


def test_no_comparison_until_a_pair_has_epochs() -> None:
    config = ExperimentConfig.model_validate({"dataset": "synthetic"})
    assert comparison(config, [_run(KL, 0, 0.5, [1.0])]) is None
    assert comparison(config, [_run(KL, 0, 0.5, [1.0]), _run(CE, 0, 0.5, [])]) is None

"""The experiment's picture from a stored result (no training): with two losses a panel of
each loss's gap against the baseline, the mean over seeds with its 95% t band (checked
against scipy), and no such panel with one loss."""

from __future__ import annotations

import math
import re
import statistics
from datetime import UTC, datetime

import pytest
from scipy import stats

from app.schemas.experiments import EpochMetrics, Experiment, ExperimentConfig, Progress, RunResult
from app.services.experiment_plot import experiment_svg, gap_curves

KL, CE, JS = "kl_divergence", "categorical_crossentropy", "jensen_shannon"
# validation accuracy per (loss, seed), epochs 1 to 3
VAL = {
    (KL, 11): [0.50, 0.60, 0.70], (CE, 11): [0.52, 0.58, 0.71],
    (KL, 3): [0.40, 0.62, 0.66], (CE, 3): [0.45, 0.61, 0.69],
}  # fmt: skip


def _run(loss: str, seed: int, val: list[float] | None, train: list[float]) -> RunResult:
    history = [
        EpochMetrics(epoch=i + 1, loss=1.0 / (i + 1), accuracy=a,
                     val_loss=None if val is None else 1.0, val_accuracy=None if val is None else val[i],
                     seconds=1.0)
        for i, a in enumerate(train)
    ]  # fmt: skip
    return RunResult(loss=loss, seed=seed, history=history, test_accuracy=0.6)


def _job(config: dict[str, object], runs: list[RunResult]) -> Experiment:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    return Experiment(
        id="0123456789abcdef", status="succeeded", config=ExperimentConfig.model_validate(config),
        progress=Progress(), runs=runs, comparison=None, error=None, attempts=1, worker=None,
        created_at=now, started_at=now, finished_at=now, links={},
    )  # fmt: skip


@pytest.fixture
def two_seeds() -> Experiment:
    config = {"dataset": "synthetic", "losses": [KL, CE], "epochs": 3, "seeds": [11, 3]}
    runs = [_run(loss, seed, VAL[(loss, seed)], [0.3, 0.4, 0.5]) for (loss, seed) in VAL]
    return _job(config, runs)


def test_the_gap_is_the_mean_over_seeds_with_a_t_band(two_seeds: Experiment) -> None:
    [curve] = gap_curves(two_seeds)
    assert (curve.loss, curve.baseline, curve.metric) == (KL, CE, "val_accuracy")
    assert curve.epochs == [1, 2, 3] and curve.seeds == [2, 2, 2]
    for i in range(3):
        gaps = [VAL[(KL, s)][i] - VAL[(CE, s)][i] for s in (11, 3)]
        mean, sd = statistics.fmean(gaps), statistics.stdev(gaps)
        low, high = stats.t.interval(0.95, 1, loc=mean, scale=sd / math.sqrt(2))
        assert curve.mean[i] == pytest.approx(mean, abs=1e-12)
        assert (curve.low[i], curve.high[i]) == pytest.approx((low, high), abs=1e-10)
    # epoch 1 by hand: gaps -0.02 and -0.05, mean -0.035, sd / sqrt(2) = 0.03 / 2 = 0.015
    assert curve.mean[0] == pytest.approx(-0.035)
    assert curve.high[0] - curve.mean[0] == pytest.approx(12.7062047 * 0.015, rel=1e-6)


def test_the_svg_has_the_gap_panel_and_its_band(two_seeds: Experiment) -> None:
    svg = experiment_svg(two_seeds)
    assert "Gap against the baseline" in svg
    assert "validation accuracy gap (mean over seeds)" in svg
    assert "kl_divergence minus categorical_crossentropy (band: 95% t interval of the mean " \
           "over 2 seeds)" in svg  # fmt: skip
    [band] = re.findall(r'<path class="band" d="([^"]+)"', svg)
    # the band runs along the three upper bounds and back along the three lower ones
    corners = re.findall(r"[ML](-?[\d.]+),(-?[\d.]+)", band)
    assert len(corners) == 6 and band.endswith("Z")
    xs = [float(x) for x, _ in corners]
    assert xs[:3] == sorted(xs[:3]) and xs[3:] == xs[2::-1]
    ys = [float(y) for _, y in corners]
    assert all(
        upper < lower for upper, lower in zip(ys[:3], ys[:2:-1], strict=True)
    )  # SVG y grows down
    # loss and accuracy of four runs with validation (16 lines), the gap and the zero line
    assert svg.count("<polyline") == 18
    assert ">-0<" not in svg  # the zero tick is written 0


def test_one_seed_draws_the_gap_without_a_band() -> None:
    config = {"dataset": "synthetic", "losses": [CE, KL, JS], "epochs": 2, "seed": 5,
              "validation_split": 0.0}  # fmt: skip
    runs = [
        _run(CE, 5, None, [0.30, 0.50]),
        _run(KL, 5, None, [0.31, 0.52]),
        _run(JS, 5, None, [0.20, 0.40]),
    ]
    curves = gap_curves(_job(config, runs))
    assert [(c.loss, c.baseline, c.metric) for c in curves] == [
        (KL, CE, "accuracy"), (JS, CE, "accuracy"),
    ]  # fmt: skip
    assert curves[0].mean == pytest.approx([0.01, 0.02]) and curves[1].mean == pytest.approx(
        [-0.1, -0.1]
    )
    assert all(math.isnan(v) for c in curves for v in c.low + c.high)
    svg = experiment_svg(_job(config, runs))
    assert "Gap against the baseline" in svg and "training accuracy gap" in svg
    assert 'class="band"' not in svg


def test_one_loss_has_no_gap_panel() -> None:
    config = {"dataset": "synthetic", "losses": [CE], "epochs": 1, "seeds": [1, 2]}
    job = _job(config, [_run(CE, 1, [0.5], [0.4]), _run(CE, 2, [0.6], [0.5])])
    assert gap_curves(job) == []
    svg = experiment_svg(job)
    assert "Gap against the baseline" not in svg and 'class="band"' not in svg

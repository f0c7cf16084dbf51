"""Seeds: every loss trained under each seed, the runs paired by seed, the mean test-accuracy
gap with a 95% t interval (checked against scipy), and progress over all the runs."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pytest
from scipy import stats

from app.jobs.store import JobStore
from app.schemas.experiments import Experiment, ExperimentConfig
from app.services.experiment_events import events_after
from app.services.experiment_resources import to_resource
from app.worker import runner

KL, CE = "kl_divergence", "categorical_crossentropy"
CONFIG = {
    "dataset": "synthetic", "losses": [KL, CE], "epochs": 1, "batch_size": 50,
    "validation_split": 0.0, "train_samples": 200, "test_samples": 100, "seeds": [11, 3],
}  # fmt: skip


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> Experiment:
    tmp = tmp_path_factory.mktemp("seeds")
    store = JobStore.from_url(f"sqlite:///{tmp / 'jobs.db'}")
    store.create_schema()
    row = store.create(ExperimentConfig.model_validate(CONFIG).model_dump())
    runner.execute(store, row.id, "w1", tmp / "keras", interval=0.5)
    done = store.get(row.id)
    assert done is not None and done.status == "succeeded", done and done.error
    return to_resource(done, store.epochs(row.id))


def test_every_loss_under_every_seed(job: Experiment) -> None:
    assert [(r.loss, r.seed) for r in job.runs] == [(KL, 11), (CE, 11), (KL, 3), (CE, 3)]
    assert all([e.epoch for e in r.history] == [1] for r in job.runs)
    assert all(r.test_accuracy is not None for r in job.runs)
    assert job.progress.runs == 4 and job.progress.fraction == 1.0
    # the same seed gives both losses the same start: the first epoch's accuracies agree
    for kl, ce in zip(job.runs[::2], job.runs[1::2], strict=True):
        assert kl.history[0].accuracy == pytest.approx(ce.history[0].accuracy, abs=0.02)


def test_the_gap_and_its_interval(job: Experiment) -> None:
    assert job.comparison is not None
    [pair] = job.comparison.against_baseline
    gap = pair.test_accuracy_gap
    accuracy = {(r.loss, r.seed): r.test_accuracy for r in job.runs}
    gaps = [accuracy[(KL, s)] - accuracy[(CE, s)] for s in (11, 3)]  # type: ignore[operator]
    assert [(r.seed, r.gap) for r in gap.runs] == [
        (s, pytest.approx(g, abs=1e-15)) for s, g in zip((11, 3), gaps, strict=True)
    ]
    mean, sd = statistics.fmean(gaps), statistics.stdev(gaps)
    assert gap.mean == pytest.approx(mean, abs=1e-12)
    assert gap.sd == pytest.approx(sd, abs=1e-12)
    assert gap.interval is not None
    if sd > 0:
        low, high = stats.t.interval(0.95, 1, loc=mean, scale=sd / math.sqrt(2))
        assert gap.interval == pytest.approx((low, high), abs=1e-10)
        assert gap.distinguishable == (not low <= 0 <= high)
    assert gap.seed_sd is not None and set(gap.seed_sd) == {KL, CE}
    assert [c.seed for c in pair.gradient_checks] == [11, 3]
    assert "Over 2 seeds" in pair.verdict and "95% interval" in pair.verdict
    assert job.comparison.test_accuracy[KL] == pytest.approx(
        statistics.fmean(accuracy[(KL, s)] for s in (11, 3))  # type: ignore[misc]
    )


def test_events_number_every_run_in_training_order(job: Experiment) -> None:
    events = events_after(job, 0)
    assert [e.name for e in events] == ["progress"] * 4 + ["end"]
    assert [e.id for e in events] == list(range(1, 6))

    progress = [json.loads(e.data)["progress"] for e in events[:-1]]
    assert [(p["loss"], p["seed"], p["run"]) for p in progress] == [
        (KL, 11, 1), (CE, 11, 2), (KL, 3, 3), (CE, 3, 4),
    ]  # fmt: skip
    assert [p["fraction"] for p in progress] == pytest.approx([i / 4 for i in range(1, 5)])


def test_repeats_count_up_from_the_seed() -> None:
    config = ExperimentConfig.model_validate({"seed": 4, "repeats": 3, "losses": [KL]})
    assert config.run_seeds() == [4, 5, 6]
    assert config.run_plan() == [(KL, 4), (KL, 5), (KL, 6)]
    assert config.run_key(KL, 5) == "kl_divergence@5"
    single = ExperimentConfig.model_validate({"seed": 4})
    assert single.run_key(KL, 4) == KL  # one seed: stored as before
    assert single.run_plan() == [(KL, 4), (CE, 4)]


def test_runs_are_capped_by_the_setting(tmp_path: Path) -> None:
    from app.config import Settings
    from app.errors import InvalidInputError
    from app.services.experiment_resources import check_limits

    settings = Settings(data_dir=tmp_path, max_repeats=3)
    check_limits(ExperimentConfig.model_validate({"repeats": 3}), settings)
    with pytest.raises(InvalidInputError, match="at most 3 on this service, got 4"):
        check_limits(ExperimentConfig.model_validate({"repeats": 4}), settings)
    with pytest.raises(InvalidInputError) as error:
        check_limits(ExperimentConfig.model_validate({"seeds": [1, 2, 3, 4]}), settings)
    assert error.value.loc == ["body", "seeds"]


def test_the_plot_names_each_seed_and_colours_each_loss(job: Experiment) -> None:
    from app.services.experiment_plot import experiment_svg

    svg = experiment_svg(job)
    for seed in (11, 3):
        assert f"kl_divergence (seed {seed}) train" in svg
        assert f"categorical_crossentropy (seed {seed}) train" in svg
    # loss and accuracy of four runs (no validation), then the gap panel: KL minus CE over
    # the two seeds, with its band, and the zero line
    assert svg.count("<polyline") == 10
    assert "Gap against the baseline" in svg and "training accuracy gap" in svg
    assert svg.count('<path class="band"') == 1

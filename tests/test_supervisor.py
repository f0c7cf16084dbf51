"""The worker supervisor of `python -m app`, with stand-in workers: restarts with a doubling
backoff, reaps, tells /readyz why no worker serves, and sees a worker that stopped touching
its file."""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import app.__main__ as entry
from app.__main__ import WorkerSupervisor, alive_file
from app.config import Settings
from tests.e2e.services import wait_for


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", heartbeat_interval=0.1)


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(entry, "FIRST_RESTART_DELAY", 0.1)
    monkeypatch.setattr(entry, "MAX_RESTART_DELAY", 0.4)
    yield


def test_the_alive_file_is_per_data_directory(tmp_path: Path) -> None:
    assert alive_file(Settings(data_dir=tmp_path / "a")) == (tmp_path / "a").resolve() / (
        "worker.alive"
    )
    chosen = tmp_path / "chosen.alive"
    assert alive_file(Settings(data_dir=tmp_path / "a", worker_alive_file=chosen)) == chosen


def test_a_dying_worker_is_restarted_with_backoff(
    settings: Settings, tmp_path: Path, fast_backoff: None
) -> None:
    starts = tmp_path / "starts"
    script = f"import time; open({str(starts)!r}, 'a').write(f'{{time.monotonic()}}\\n'); exit(3)"
    supervisor = WorkerSupervisor(settings, [sys.executable, "-c", script])
    supervisor.start()
    try:
        wait_for(lambda: starts.exists() and len(starts.read_text().split()) >= 5, 20, "5 starts")
        # between a death and the next start it says so (a start may be under way: wait)
        dead = "no worker running: the last one exited with status 3; restarting"
        probe = wait_for(
            lambda: (text := supervisor.probe()).startswith(dead) and text, 5, "a death"
        )
    finally:
        supervisor.stop()
    times = [float(t) for t in starts.read_text().split()]
    gaps = [b - a for a, b in itertools.pairwise(times)][:4]
    # 0.1, 0.2, 0.4, 0.4 s of backoff, plus the stand-in's own start (~0.05 s each)
    for gap, delay in zip(gaps, (0.1, 0.2, 0.4, 0.4), strict=True):
        assert delay <= gap < delay + 0.5, gaps
    assert probe.startswith("no worker running: the last one exited with status 3; restarting")


def test_readiness_follows_the_workers_signs_of_life(settings: Settings) -> None:
    path = alive_file(settings)
    settings.data_dir.mkdir(parents=True)
    # touches its file three times, then hangs without a sign of life
    script = (
        "import os, pathlib, time\n"
        "p = pathlib.Path(os.environ['DIVERGENCE_WORKER_ALIVE_FILE'])\n"
        "time.sleep(0.5)\n"
        "for _ in range(3): p.touch(); time.sleep(0.1)\n"
        "time.sleep(60)\n"
    )
    path.touch()  # a stale file of an earlier run vouches for nothing
    supervisor = WorkerSupervisor(settings, [sys.executable, "-c", script])
    supervisor.stale_after = 1.0
    supervisor.start()
    try:
        wait_for(lambda: supervisor.probe() == "the worker is starting", 5, "starting")
        wait_for(lambda: supervisor.probe() == "ok", 5, "ok")
        time.sleep(1.5)
        assert supervisor.probe().startswith("the worker shows no sign of life for ")
    finally:
        supervisor.stop(timeout=5)
    assert supervisor.probe() == "no worker running: stopped"
    assert not path.exists()


def test_a_worker_refusing_its_settings_is_not_restarted(
    settings: Settings, tmp_path: Path, fast_backoff: None
) -> None:
    starts = tmp_path / "starts"
    script = f"open({str(starts)!r}, 'a').write('start\\n'); exit(2)"  # a configuration error
    supervisor = WorkerSupervisor(settings, [sys.executable, "-c", script])
    supervisor.start()
    try:
        refused = "no worker running: the last one exited with status 2 (a configuration error)"
        wait_for(lambda: supervisor.probe().startswith(refused), 20, "the refusal")
        time.sleep(0.5)  # longer than the first two restart delays
        assert starts.read_text().split() == ["start"]
    finally:
        supervisor.stop()


def test_the_worker_does_not_inherit_the_apis_own_blas_threads(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m app` sets OPENBLAS_NUM_THREADS and the like for the API process only: the
    worker it runs trains with what its libraries choose. A value the environment itself set
    reaches the worker unchanged."""
    seen = tmp_path / "seen"
    script = (
        f"import os; open({str(seen)!r}, 'w').write(repr([os.environ.get(v) for v in "
        "('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS')])); import time; time.sleep(30)"
    )
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")  # as main() sets it for the API
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # as an operator would
    supervisor = WorkerSupervisor(
        settings, [sys.executable, "-c", script], env_without=["OPENBLAS_NUM_THREADS"]
    )
    supervisor.start()
    try:
        wait_for(lambda: seen.exists() and seen.read_text(), 20, "the worker's environment")
    finally:
        supervisor.stop()
    assert seen.read_text() == "[None, '3']"

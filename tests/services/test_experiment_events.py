"""The progress arithmetic, and the numbering and resuming of an experiment's events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.config import Settings
from app.errors import NotFoundError
from app.jobs.store import JobStore
from app.schemas.experiments import Experiment, training_fraction
from app.services.callers import Caller
from app.services.experiment_events import JobEvent, events_after, follow, resume_point
from app.services.experiments import Experiments
from tests.services.jobs import ALL_EPOCHS, CONFIG, WORKER, finished_job, run_epochs

ME = Caller("me")


def _service(store: JobStore, settings: Settings) -> Experiments:
    def no_queue() -> Any:
        raise AssertionError("reading events must not need the queue")

    return Experiments(store, settings, rate=None, queue=no_queue)  # type: ignore[arg-type]


# -- the share of all training done --------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((0, 2, 1, 2), 0.25),  # run 1 of 2, one of two epochs done
        ((0, 2, 2, 2), 0.5),
        ((1, 2, 1, 2), 0.75),
        ((1, 2, 2, 2), 1.0),
        ((0, 1, 0, 25), 0.0),  # nothing done yet
        ((0, 2, 0, 4, 0.5), 0.0625),  # half the first epoch's steps of 2 runs x 4 epochs
        ((1, 2, 3, 4, 0.25), (1 + 3.25 / 4) / 2),
        ((1, 2, 2, 2, 0.5), 1.0),  # a stray batch past the end is not more than all
        ((0, 0, 0, 0), 0.0),  # no runs: none done, not a division by zero
    ],
)
def test_training_fraction_reference_values(args: tuple[Any, ...], expected: float) -> None:
    assert training_fraction(*args) == expected


@given(
    runs=st.integers(1, 5),
    epochs=st.integers(1, 50),
    data=st.data(),
)
def test_training_fraction_grows_with_every_step(runs: int, epochs: int, data: Any) -> None:
    """Through a whole experiment the fraction never goes back, stays in [0, 1] and ends at 1;
    a finished epoch equals the next epoch's start (what the worker and the events say)."""
    steps = data.draw(st.integers(1, 10))
    seen = [
        training_fraction(run, runs, epoch, epochs, step / steps)
        for run in range(runs)
        for epoch in range(epochs)
        for step in range(steps + 1)
    ]
    assert seen == sorted(seen) and seen[0] >= 0.0 and seen[-1] == pytest.approx(1.0)
    run, epoch = data.draw(st.integers(0, runs - 1)), data.draw(st.integers(0, epochs - 1))
    assert training_fraction(run, runs, epoch, epochs, 1.0) == pytest.approx(
        training_fraction(run, runs, epoch + 1, epochs)
    )


# -- numbering -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "after"),
    [(None, 0), ("", 0), ("3", 3), (" 7 ", 7), ("0", 0), ("-1", 0), ("abc", 0), ("٣", 0)],
)
def test_resume_point_reads_only_our_ids(header: str | None, after: int) -> None:
    assert resume_point(header) == after


def _job(store: JobStore, settings: Settings, job_id: str) -> Experiment:
    return _service(store, settings).get(job_id, ME)


def test_events_are_numbered_epoch_by_epoch_then_end(store: JobStore, settings: Settings) -> None:
    job_id = finished_job(store, ALL_EPOCHS, owner="me")
    events = events_after(_job(store, settings, job_id), 0)
    assert [(e.id, e.name) for e in events] == [
        (1, "progress"), (2, "progress"), (3, "progress"), (4, "progress"), (5, "end"),
    ]  # fmt: skip
    progress = [json.loads(e.data) for e in events[:4]]
    assert [(p["progress"]["loss"], p["epoch"]) for p in progress] == ALL_EPOCHS
    assert [p["progress"]["fraction"] for p in progress] == [0.25, 0.5, 0.75, 1.0]
    assert [p["progress"]["run"] for p in progress] == [1, 1, 2, 2]
    assert progress[1]["loss"] == 0.5 and progress[1]["accuracy"] == pytest.approx(0.2)
    end = Experiment.model_validate_json(events[-1].data)
    assert end.id == job_id and end.status == "succeeded"


@pytest.mark.parametrize(("after", "ids"), [(2, [3, 4, 5]), (4, [5]), (5, []), (99, [])])
def test_events_after_an_id_are_the_later_ones(
    store: JobStore, settings: Settings, after: int, ids: list[int]
) -> None:
    job_id = finished_job(store, ALL_EPOCHS, owner="me")
    assert [e.id for e in events_after(_job(store, settings, job_id), after)] == ids


def test_a_running_job_has_no_end_yet(store: JobStore, settings: Settings) -> None:
    job = store.create(CONFIG, owner="me")
    assert [e.id for e in events_after(_job(store, settings, job.id), 0)] == []
    store.claim(job.id, WORKER)
    run_epochs(store, job.id, ALL_EPOCHS[:3])
    events = events_after(_job(store, settings, job.id), 1)
    assert [(e.id, e.name) for e in events] == [(2, "progress"), (3, "progress")]


# -- following -----------------------------------------------------------------------------


def _collect(stream: Any) -> list[JobEvent]:
    async def read() -> list[JobEvent]:
        return [event async for event in stream]

    return asyncio.run(asyncio.wait_for(read(), 10))


def _stepping(
    store: JobStore, settings: Settings, job_id: str, steps: list[Callable[[], Any]]
) -> Callable[[], Experiment]:
    """A loader that, before each read after the first, lets the "worker" take one step."""
    calls = 0

    def load() -> Experiment:
        nonlocal calls
        if 0 < calls <= len(steps):
            steps[calls - 1]()
        calls += 1
        return _job(store, settings, job_id)

    return load


def test_follow_yields_each_event_once_as_it_happens(store: JobStore, settings: Settings) -> None:
    job = store.create(CONFIG, owner="me")
    steps = [
        lambda: store.claim(job.id, WORKER),
        lambda: run_epochs(store, job.id, ALL_EPOCHS[:1]),
        lambda: None,  # a poll that finds nothing new
        lambda: run_epochs(store, job.id, ALL_EPOCHS[1:3]),
        lambda: run_epochs(store, job.id, ALL_EPOCHS[3:]),
        lambda: store.finish(job.id, WORKER, "succeeded", {"runs": {}}),
    ]
    events = _collect(follow(_stepping(store, settings, job.id, steps), 0, poll=0.0))
    assert [e.id for e in events] == [1, 2, 3, 4, 5]
    assert [e.name for e in events] == ["progress"] * 4 + ["end"]


def test_follow_resumes_after_an_id_and_stops_at_a_deleted_job(
    store: JobStore, settings: Settings
) -> None:
    job = store.create(CONFIG, owner="me")
    store.claim(job.id, WORKER)
    run_epochs(store, job.id, ALL_EPOCHS[:2])
    load = _stepping(store, settings, job.id, [lambda: run_epochs(store, job.id, ALL_EPOCHS[2:3])])
    deleted = False

    def load_unless_deleted() -> Experiment:
        if deleted:
            raise NotFoundError("gone")
        return load()

    events: list[JobEvent] = []

    async def read() -> None:
        nonlocal deleted
        async for event in follow(load_unless_deleted, 1, poll=0.0):
            events.append(event)
            deleted = event.id == 3

    asyncio.run(asyncio.wait_for(read(), 10))
    assert [e.id for e in events] == [2, 3]  # those after 1; then no end: the stream is over


def test_events_of_another_clients_job_are_missing(store: JobStore, settings: Settings) -> None:
    job_id = finished_job(store, ALL_EPOCHS, owner="someone else")
    with pytest.raises(NotFoundError):
        _service(store, settings).events(job_id, ME)
    admin = _service(store, settings).events(job_id, Caller("root", admin=True), "4")
    assert [e.id for e in _collect(admin)] == [5]

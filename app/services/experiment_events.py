"""An experiment's live progress as a numbered sequence of events, resumable after any of them.

The events of a job, in order: one ``progress`` event per finished epoch (the runs in the
order they train, ``config.run_plan()``, each run's epochs in order), numbered 1..N, then one
``end`` event, numbered N+1, once the job has finished. An event's number never changes while the
job runs, because epochs are only ever appended; so a client that lost its connection after
event k asks for the events after k and gets each of the others exactly once.

This module knows nothing of HTTP: the router frames these events as Server-Sent Events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import anyio
import anyio.to_thread

from app.errors import NotFoundError
from app.schemas.experiments import (
    FINISHED,
    Experiment,
    Progress,
    ProgressEvent,
    training_fraction,
)

__all__ = ["RETRY_MS", "JobEvent", "events_after", "follow", "resume_point"]

# How long a client should wait before reconnecting (the stream's `retry`): the stream is
# re-read from the database every half second, so sooner buys nothing.
RETRY_MS = 1000


@dataclass(frozen=True)
class JobEvent:
    """One event of an experiment's stream: its number, its name and its data (JSON text)."""

    id: int
    name: str  # "progress" or "end"
    data: str


def resume_point(last_event_id: str | None) -> int:
    """The number of the last event a client has, from its ``Last-Event-ID`` (0: none).

    The stream's ids are the numbers this module gives; anything else (a browser's empty
    id, a stranger's text) starts the stream from its beginning rather than failing it.
    """
    text = (last_event_id or "").strip()
    return int(text) if text.isascii() and text.isdigit() else 0


def events_after(job: Experiment, after: int) -> list[JobEvent]:
    """The events ``job``'s present state holds whose number is above ``after``."""
    plan, epochs = job.config.run_plan(), job.config.epochs
    runs = len(plan)
    out: list[JobEvent] = []
    number = 0
    for run in job.runs:
        index = plan.index((run.loss, run.seed if run.seed is not None else job.config.seed))
        for metrics in run.history:
            number += 1
            if number <= after:
                continue
            progress = Progress(
                loss=run.loss,
                seed=run.seed,
                run=index + 1,
                runs=runs,
                epoch=metrics.epoch,
                epochs=epochs,
                fraction=training_fraction(index, runs, metrics.epoch, epochs),
            )
            data = ProgressEvent(**metrics.model_dump(), progress=progress)
            out.append(JobEvent(number, "progress", data.model_dump_json()))
    if job.status in FINISHED and number + 1 > after:
        out.append(JobEvent(number + 1, "end", job.model_dump_json()))
    return out


async def follow(
    load: Callable[[], Experiment], after: int, poll: float
) -> AsyncIterator[JobEvent]:
    """The events after number ``after``, as they happen, until the job's end.

    ``load`` reads the job (it blocks, so it runs in a worker thread) every ``poll`` seconds.
    A job deleted meanwhile ends the stream without an ``end`` event: a client that reconnects
    then learns that it is gone (404).
    """
    while True:
        try:
            job = await anyio.to_thread.run_sync(load)
        except NotFoundError:
            return
        for event in events_after(job, after):
            yield event
            after = event.id
        if job.status in FINISHED:
            return
        await anyio.sleep(poll)

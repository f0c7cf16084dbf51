"""The experiment rules without HTTP: limits, rate and quota, ownership, states."""

from __future__ import annotations

from typing import Any

import pytest

from app.config import Settings
from app.errors import ConflictError, InvalidInputError, NotFoundError, TooManyRequestsError
from app.jobs.store import JobStore
from app.schemas.experiments import ExperimentConfig, JobStatus
from app.services.callers import Caller
from app.services.experiments import Experiments
from tests.services.jobs import ALL_EPOCHS, CONFIG, WORKER, finished_job

ALICE, BOB, ROOT = Caller("alice"), Caller("bob"), Caller("root", admin=True)


class Queue:
    def __init__(self) -> None:
        self.enqueued: list[str] = []

    def enqueue(self, job_id: str) -> None:
        self.enqueued.append(job_id)


class Rate:
    """Allows ``limit`` submits per client, then refuses as the rate window does."""

    def __init__(self, limit: int = 100) -> None:
        self.limit, self.hits = limit, dict[str, int]()

    def hit(self, client: str) -> None:
        if self.hits.get(client, 0) >= self.limit:
            raise TooManyRequestsError("slow down", 12.5)
        self.hits[client] = self.hits.get(client, 0) + 1


def _service(
    store: JobStore, settings: Settings, rate: Rate | None = None, queue: Queue | None = None
) -> tuple[Experiments, Queue, list[int]]:
    queue = queue or Queue()
    asked: list[int] = []

    def queue_factory() -> Any:
        asked.append(1)
        return queue

    return Experiments(store, settings, rate or Rate(), queue_factory), queue, asked


def _config(**changes: Any) -> ExperimentConfig:
    return ExperimentConfig.model_validate({**CONFIG, **changes})


def test_submit_queues_the_job_for_its_owner(store: JobStore, settings: Settings) -> None:
    service, queue, _ = _service(store, settings)
    job = service.submit(_config(), ALICE)
    assert job.status == JobStatus.QUEUED and queue.enqueued == [job.id]
    assert job.links["self"] == f"/v1/experiments/{job.id}"
    row = store.get(job.id)
    assert row is not None and row.owner == "alice"


def test_submit_checks_limits_then_rate_then_quota(store: JobStore, settings: Settings) -> None:
    tight = settings.model_copy(update={"max_epochs": 2, "max_queued_per_client": 2})
    rate = Rate(limit=3)
    service, queue, _ = _service(store, tight, rate)
    with pytest.raises(InvalidInputError) as over:
        service.submit(_config(epochs=3), ALICE)
    assert over.value.loc == ["body", "epochs"] and rate.hits == {}  # no rate spent on it
    service.submit(_config(), ALICE)
    service.submit(_config(), ALICE)
    with pytest.raises(TooManyRequestsError) as full:
        service.submit(_config(), ALICE)
    assert full.value.headers == {"Retry-After": "30"} and "2 experiments" in full.value.detail
    with pytest.raises(TooManyRequestsError) as fast:
        service.submit(_config(), ALICE)
    assert fast.value.headers == {"Retry-After": "13"}  # 12.5 s, in whole seconds
    assert len(queue.enqueued) == 2 and store.queued_count("alice") == 2
    assert service.submit(_config(), BOB).status == JobStatus.QUEUED  # quotas are per client


def test_reading_never_asks_for_the_queue(store: JobStore, settings: Settings) -> None:
    service, _, asked = _service(store, settings)
    job_id = finished_job(store, ALL_EPOCHS, owner="alice")
    service.get(job_id, ALICE)
    service.page(ALICE, None, 10, None)
    service.plot(job_id, ALICE)
    service.events(job_id, ALICE)
    assert asked == []


def test_others_jobs_are_missing_and_admins_see_all(store: JobStore, settings: Settings) -> None:
    service, _, _ = _service(store, settings)
    mine = service.submit(_config(), ALICE).id
    theirs = service.submit(_config(), BOB).id
    for action in (service.get, service.cancel, service.delete, service.plot, service.events):
        with pytest.raises(NotFoundError, match=f"no experiment {theirs}"):
            action(theirs, ALICE)
    assert [j.id for j in service.page(ALICE, None, 10, None).items] == [mine]
    assert {j.id for j in service.page(ROOT, None, 10, None).items} == {mine, theirs}
    assert service.cancel(theirs, ROOT).status == JobStatus.CANCELLED
    service.delete(theirs, ROOT)
    assert store.get(theirs) is None


def test_state_rules_for_cancel_and_delete(store: JobStore, settings: Settings) -> None:
    service, _, _ = _service(store, settings)
    queued = service.submit(_config(), ALICE).id
    with pytest.raises(ConflictError, match="is queued; cancel it first"):
        service.delete(queued, ALICE)
    store.claim(queued, WORKER)
    assert service.cancel(queued, ALICE).status == JobStatus.CANCELLING
    done = finished_job(store, ALL_EPOCHS[:1], owner="alice")
    with pytest.raises(ConflictError, match="already succeeded"):
        service.cancel(done, ALICE)
    assert service.get(done, ALICE).runs[0].history[0].loss == 1.0
    service.delete(done, ALICE)
    with pytest.raises(NotFoundError):
        service.get(done, ALICE)


def test_a_bad_cursor_names_the_parameter(store: JobStore, settings: Settings) -> None:
    service, _, _ = _service(store, settings)
    with pytest.raises(InvalidInputError) as bad:
        service.page(ALICE, None, 10, "bogus")
    assert bad.value.loc[-1] == "cursor" and bad.value.kind == "cursor"

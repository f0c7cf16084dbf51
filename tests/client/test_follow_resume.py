"""Following an experiment across dropped connections: every event once, in order.

The service runs in-process; between it and the client sits a transport that forwards each
request and, on the connections it is told to, cuts the answer after two events, as a proxy
restarting or a network dropping would.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.jobs.store import JobStore
from app.jobs.wiring import get_store
from app.main import create_app
from app.schemas.experiments import Experiment
from divergence_client import AsyncDivergenceClient, DivergenceClient, DivergenceError, Event
from tests.services.jobs import ALL_EPOCHS, finished_job

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ME = "ip:testclient"
EXPECTED = [("progress", "1"), ("progress", "2"), ("progress", "3"), ("progress", "4"),
            ("end", "5")]  # fmt: skip


class Cut(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that stops after ``keep`` bytes: with ``error``, as a dropped connection does
    (the error is raised), else as a server closing the stream early."""

    def __init__(self, body: bytes, keep: int, error: bool) -> None:
        self.body, self.keep, self.error = body, keep, error

    def __iter__(self) -> Iterator[bytes]:
        yield self.body[: self.keep]
        if self.error:
            raise httpx.ReadError("connection reset by peer")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk


class Dropping:
    """Forwards to the app; the connections numbered in ``cuts`` lose all but ``events``
    events (after the frame that sets ``retry``). Records each request's Last-Event-ID."""

    def __init__(
        self, app: TestClient, job_id: str, cuts: set[int], events: int = 2, error: bool = True
    ) -> None:
        self.app, self.job_id, self.cuts = app, job_id, cuts
        self.events, self.error = events, error
        self.last_ids: list[str | None] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.last_ids.append(request.headers.get("last-event-id"))
        answer = self.app.get(request.url.path, headers=dict(request.headers))
        if len(self.last_ids) not in self.cuts:
            return httpx.Response(
                answer.status_code, headers=answer.headers, content=answer.content
            )
        frames = answer.content.split(b"\r\n\r\n")
        keep = len(b"\r\n\r\n".join(frames[: 1 + self.events])) + 4
        return httpx.Response(
            answer.status_code, headers=answer.headers, stream=Cut(answer.content, keep, self.error)
        )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, JobStore]]:
    settings = Settings(data_dir=tmp_path / "data", keras_home=tmp_path / "keras")
    with TestClient(create_app(settings)) as client:
        yield client, get_store(settings)


@pytest.fixture(autouse=True)
def quick_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reconnect at once: the service's own `retry` (a second) is tested over HTTP."""
    monkeypatch.setattr("divergence_client._events.MAX_RETRY", 0.0)


def _sync(proxy: Dropping, max_reconnects: int = 5) -> list[Event]:
    transport = httpx.MockTransport(proxy)
    with DivergenceClient("http://divergence", transport=transport) as client:
        return list(client.follow(proxy.job_id, max_reconnects=max_reconnects))


def _async(proxy: Dropping) -> list[Event]:
    async def follow() -> list[Event]:
        transport = httpx.MockTransport(proxy)
        async with AsyncDivergenceClient("http://divergence", transport=transport) as client:
            return [event async for event in client.follow(proxy.job_id)]

    return asyncio.run(follow())


def _proxy(
    served: tuple[TestClient, JobStore], cuts: set[int], events: int = 2, error: bool = True
) -> Dropping:
    client, store = served
    return Dropping(client, finished_job(store, ALL_EPOCHS, owner=ME), cuts, events, error)


@pytest.mark.parametrize("follow", [_sync, _async], ids=["sync", "async"])
def test_a_dropped_connection_resumes_after_the_last_event(
    served: tuple[TestClient, JobStore], follow: Callable[[Dropping], list[Event]]
) -> None:
    proxy = _proxy(served, cuts={1})
    events = follow(proxy)
    assert [(e.name, e.id) for e in events] == EXPECTED
    assert proxy.last_ids == [None, "2"]
    assert [e.data["epoch"] for e in events[:4]] == [1, 2, 1, 2]
    assert isinstance(events[-1].data, Experiment) and events[-1].data.status == "succeeded"


def test_a_stream_closed_early_is_resumed_too(served: tuple[TestClient, JobStore]) -> None:
    proxy = _proxy(served, cuts={1, 2}, events=1, error=False)
    assert [(e.name, e.id) for e in _sync(proxy)] == EXPECTED
    assert proxy.last_ids == [None, "1", "2"]


def test_reconnects_in_a_row_are_bounded(served: tuple[TestClient, JobStore]) -> None:
    proxy = _proxy(served, cuts=set(range(1, 100)), events=0)
    with pytest.raises(httpx.ReadError):
        _sync(proxy, max_reconnects=3)
    assert proxy.last_ids == [None] * 4  # the first connection and three reconnects
    closing = _proxy(served, cuts=set(range(1, 100)), events=0, error=False)
    with pytest.raises(httpx.RemoteProtocolError, match="stopped before their end"):
        _sync(closing, max_reconnects=2)


def test_progress_resets_the_reconnect_budget(served: tuple[TestClient, JobStore]) -> None:
    """Each connection brings one new event before it drops: it never gives up."""
    proxy = _proxy(served, cuts={1, 2, 3, 4}, events=1)
    assert [(e.name, e.id) for e in _sync(proxy, max_reconnects=1)] == EXPECTED
    assert proxy.last_ids == [None, "1", "2", "3", "4"]


def test_errors_are_not_retried(served: tuple[TestClient, JobStore]) -> None:
    proxy = Dropping(served[0], "no-such-job", cuts=set())
    with pytest.raises(DivergenceError) as missing:
        _sync(proxy)
    assert missing.value.status == 404 and proxy.last_ids == [None]

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    transport = httpx.MockTransport(refuse)
    with (
        DivergenceClient("http://divergence", transport=transport) as client,
        pytest.raises(httpx.ConnectError),  # never connected: nothing to resume
    ):
        list(client.follow("any"))

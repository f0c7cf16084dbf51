"""A served API's event stream, cut mid-job by a proxy, resumed by the client.

The test plays the worker (it writes epochs to the job database the API reads), so no
TensorFlow is needed; the API is a real process, streaming over a real socket.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from app.config import Settings
from app.jobs.store import JobStore
from app.jobs.wiring import get_store
from divergence_client import DivergenceClient
from tests.e2e.services import Services
from tests.services.jobs import ALL_EPOCHS, CONFIG, WORKER, run_epochs

ME = "ip:127.0.0.1"  # the client, to an API without keys


class CutStream(httpx.SyncByteStream):
    """Passes the stream through until ``frames`` frames have gone by, then drops it."""

    def __init__(self, inner: httpx.SyncByteStream, frames: int) -> None:
        self.inner, self.frames = inner, frames

    def __iter__(self) -> Iterator[bytes]:
        seen = b""
        for chunk in self.inner:
            seen += chunk
            ends = [i for i in range(len(seen)) if seen.startswith(b"\r\n\r\n", i)]
            if len(ends) >= self.frames:
                cut = ends[self.frames - 1] + 4
                yield chunk[: len(chunk) - (len(seen) - cut)]
                self.inner.close()
                raise httpx.ReadError("the proxy restarted")
            yield chunk

    def close(self) -> None:
        self.inner.close()


class CuttingProxy(httpx.BaseTransport):
    """The first event stream loses its connection after the retry frame and two events."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.last_ids: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path.endswith("/events"):
            self.last_ids.append(request.headers.get("last-event-id"))
            if len(self.last_ids) == 1:
                assert isinstance(response.stream, httpx.SyncByteStream)
                response.stream = CutStream(response.stream, frames=3)
        return response

    def close(self) -> None:
        self.inner.close()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, JobStore]]:
    tmp = tmp_path_factory.mktemp("resume")
    services = Services(tmp)
    services.start_api()
    try:
        yield services, get_store(Settings(data_dir=tmp / "data", keras_home=tmp / "keras"))
    finally:
        services.close()


def test_a_stream_cut_mid_job_resumes_with_every_event_once(
    api: tuple[Services, JobStore],
) -> None:
    services, store = api
    job = store.create(CONFIG, owner=ME)
    store.claim(job.id, WORKER)
    run_epochs(store, job.id, ALL_EPOCHS[:2])

    def train_on() -> None:  # the rest of the job, while the client follows it
        for epoch in ALL_EPOCHS[2:]:
            time.sleep(0.3)
            run_epochs(store, job.id, [epoch])
        store.finish(job.id, WORKER, "succeeded", {"runs": {}})

    worker = threading.Thread(target=train_on)
    proxy = CuttingProxy()
    url = f"http://127.0.0.1:{services.port}"
    with DivergenceClient(url, transport=proxy) as client:
        worker.start()
        started = time.monotonic()
        events = [(e.name, e.id) for e in client.follow(job.id)]
        took = time.monotonic() - started
    worker.join()
    assert events == [("progress", str(i)) for i in range(1, 5)] + [("end", "5")]
    assert proxy.last_ids == [None, "2"]
    assert took >= 1.0  # it waited the service's `retry` (1000 ms) before reconnecting


def test_a_served_stream_resumes_from_the_header(api: tuple[Services, JobStore]) -> None:
    services, store = api
    job = store.create(CONFIG, owner=ME)
    store.claim(job.id, WORKER)
    run_epochs(store, job.id, ALL_EPOCHS)
    store.finish(job.id, WORKER, "succeeded", {"runs": {}})
    path = f"/v1/experiments/{job.id}/events"
    with services.http.stream("GET", path, headers={"Last-Event-ID": "3"}) as r:
        assert r.status_code == 200
        lines = list(r.iter_lines())
    ids = [line[len("id: ") :] for line in lines if line.startswith("id: ")]
    assert ids == ["4", "5"] and lines[0] == "retry: 1000"
    assert [line for line in lines if line.startswith("event: ")] == [
        "event: progress",
        "event: end",
    ]

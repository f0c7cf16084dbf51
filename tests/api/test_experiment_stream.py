"""The experiment's event stream over HTTP: ids, retry, and resuming with Last-Event-ID."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import EventSource

from app.config import Settings
from app.jobs.store import JobStore
from app.jobs.wiring import get_store
from app.main import create_app
from tests.services.jobs import ALL_EPOCHS, finished_job

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ME = "ip:testclient"  # who the test client is, with no keys configured


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, JobStore]]:
    settings = Settings(data_dir=tmp_path / "data", keras_home=tmp_path / "keras")
    with TestClient(create_app(settings)) as client:
        yield client, get_store(settings)


def _frames(response: httpx.Response) -> list[dict[str, Any]]:
    """Every frame of the stream with the fields it set (comments and pings left out)."""
    frames = []
    for sse in EventSource(response).iter_sse():
        frame: dict[str, Any] = {"event": sse.event, "id": sse.id}
        if sse.retry is not None:
            frame["retry"] = sse.retry
        if sse.data:
            frame["data"] = json.loads(sse.data)
        frames.append(frame)
    return frames


def test_every_event_has_an_id_and_the_stream_sets_retry(
    served: tuple[TestClient, JobStore],
) -> None:
    client, store = served
    job_id = finished_job(store, ALL_EPOCHS, owner=ME)
    r = client.get(f"/v1/experiments/{job_id}/events")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["cache-control"] == "no-store"
    frames = _frames(r)
    assert frames[0] == {"event": "message", "id": "", "retry": 1000}  # only sets retry
    events = frames[1:]
    assert [(f["event"], f["id"]) for f in events] == [
        ("progress", "1"), ("progress", "2"), ("progress", "3"), ("progress", "4"), ("end", "5"),
    ]  # fmt: skip
    assert [f["data"]["progress"]["fraction"] for f in events[:4]] == [0.25, 0.5, 0.75, 1.0]
    assert [f["data"]["epoch"] for f in events[:4]] == [1, 2, 1, 2]
    assert events[-1]["data"]["id"] == job_id and events[-1]["data"]["status"] == "succeeded"


@pytest.mark.parametrize(
    ("last", "ids"),
    [("2", ["3", "4", "5"]), ("4", ["5"]), ("5", []), ("0", ["1", "2", "3", "4", "5"]),
     ("not-ours", ["1", "2", "3", "4", "5"])],
)  # fmt: skip
def test_last_event_id_continues_after_that_event(
    served: tuple[TestClient, JobStore], last: str, ids: list[str]
) -> None:
    client, store = served
    job_id = finished_job(store, ALL_EPOCHS, owner=ME)
    r = client.get(f"/v1/experiments/{job_id}/events", headers={"Last-Event-ID": last})
    assert r.status_code == 200
    assert [f["id"] for f in _frames(r) if "data" in f] == ids


def test_resumed_events_match_the_first_stream(served: tuple[TestClient, JobStore]) -> None:
    client, store = served
    job_id = finished_job(store, ALL_EPOCHS[:3], owner=ME, status="cancelled")
    whole = [f for f in _frames(client.get(f"/v1/experiments/{job_id}/events")) if "data" in f]
    rest = client.get(f"/v1/experiments/{job_id}/events", headers={"Last-Event-ID": "1"})
    assert [f for f in _frames(rest) if "data" in f] == whole[1:]
    assert whole[-1]["event"] == "end" and whole[-1]["data"]["status"] == "cancelled"


def test_the_header_is_documented(served: tuple[TestClient, JobStore]) -> None:
    client, _ = served
    operation = client.get("/openapi.json").json()["paths"]["/v1/experiments/{job_id}/events"]
    headers = [p for p in operation["get"]["parameters"] if p["in"] == "header"]
    assert [p["name"].lower() for p in headers] == ["last-event-id"]
    assert "text/event-stream" in operation["get"]["responses"]["200"]["content"]

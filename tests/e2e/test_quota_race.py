"""The queued-job quota holds under 20 simultaneous submits, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import PrivateDatabase
from tests.e2e.services import Services

QUOTA, SUBMITS = 5, 20
JOB = {"dataset": "synthetic", "epochs": 1, "train_samples": 100, "test_samples": 20}
KEY = {"x-api-key": "racer"}


def _race(ports: list[int]) -> Counter[int]:
    """``SUBMITS`` threads, released together, each submitting once (round robin on ports)."""
    start = threading.Barrier(SUBMITS)
    codes: list[int] = []

    def submit(i: int) -> None:
        url = f"http://127.0.0.1:{ports[i % len(ports)]}/v1/experiments"
        with httpx.Client(timeout=60) as http:
            http.get(url.rsplit("/v1/", 1)[0] + "/healthz")  # connect before the race
            start.wait()
            codes.append(http.post(url, json=JOB, headers=KEY).status_code)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(SUBMITS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Counter(codes)


def _env(**extra: str) -> dict[str, str]:
    return {
        "DIVERGENCE_API_KEYS": "racer,other",
        "DIVERGENCE_MAX_QUEUED_PER_CLIENT": str(QUOTA),
        "DIVERGENCE_EXPERIMENT_RATE_PER_MINUTE": "1000",
        **extra,
    }


def _queued(svc: Services, headers: dict[str, str]) -> int:
    r = svc.http.get("/v1/experiments", params={"status": "queued", "limit": 100}, headers=headers)
    assert r.status_code == 200, r.text
    return len(r.json()["items"])


def test_exactly_the_quota_is_accepted_on_sqlite(tmp_path: Path) -> None:
    svc = Services(tmp_path, **_env())
    svc.start_api()
    try:
        assert _race([svc.port]) == {202: QUOTA, 429: SUBMITS - QUOTA}
        assert _queued(svc, KEY) == QUOTA
        # another client still has its own quota
        r = svc.http.post("/v1/experiments", json=JOB, headers={"x-api-key": "other"})
        assert r.status_code == 202
    finally:
        svc.close()


@pytest.fixture
def database() -> Iterator[PrivateDatabase]:
    db = PrivateDatabase()
    try:
        yield db
    finally:
        db.drop()


def test_exactly_the_quota_is_accepted_across_two_apis_on_postgresql(
    tmp_path: Path, database: PrivateDatabase
) -> None:
    env = _env(DIVERGENCE_DATABASE_URL=database.url)
    first, second = Services(tmp_path / "a", **env), Services(tmp_path / "b", **env)
    try:
        first.start_api()
        second.start_api()
        assert _race([first.port, second.port]) == {202: QUOTA, 429: SUBMITS - QUOTA}
        assert _queued(first, KEY) == _queued(second, KEY) == QUOTA
    finally:
        first.close()
        second.close()

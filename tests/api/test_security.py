"""API keys, rate limits and queued-job quotas."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

JOB = {"dataset": "synthetic", "epochs": 1}
PAIR = {"p": [0.5, 0.5], "q": [0.25, 0.75]}


def _client(tmp_path: Path, **settings: Any) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path / "data", **settings)))


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[TestClient]:
    with _client(tmp_path, api_keys="alpha-key, beta-key") as client:
        yield client


def test_experiments_need_a_key(keyed: TestClient) -> None:
    r = keyed.post("/v1/experiments", json=JOB)
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = keyed.post("/v1/experiments", json=JOB, headers={"authorization": "Bearer wrong"})
    assert r.status_code == 403 and r.json()["title"] == "Forbidden"
    r = keyed.post("/v1/experiments", json=JOB, headers={"authorization": "Bearer beta-key"})
    assert r.status_code == 202
    job_id = r.json()["id"]
    assert keyed.post(f"/v1/experiments/{job_id}/cancel").status_code == 401
    # another key's job is not found, exactly like a missing one, and stays as it was
    alpha, beta = {"x-api-key": "alpha-key"}, {"x-api-key": "beta-key"}
    r = keyed.post(f"/v1/experiments/{job_id}/cancel", headers=alpha)
    assert r.status_code == 404 and r.json()["detail"] == f"no experiment {job_id}"
    r = keyed.post(f"/v1/experiments/{job_id}/cancel", headers=beta)
    assert r.status_code == 202 and r.json()["status"] == "cancelled"
    assert keyed.delete(f"/v1/experiments/{job_id}").status_code == 401
    assert keyed.delete(f"/v1/experiments/{job_id}", headers=alpha).status_code == 404
    assert keyed.delete(f"/v1/experiments/{job_id}", headers=beta).status_code == 204
    # reading needs a key too; the numeric endpoints stay open by default
    assert keyed.get("/v1/experiments").status_code == 401
    assert keyed.get("/v1/experiments", headers=alpha).json() == {"items": [], "next_cursor": None}
    assert keyed.post("/v1/kl-divergence", json=PAIR).status_code == 200


def test_keyed_numeric_endpoints_and_a_key_file(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# one key a line\nfile-key\n")
    with _client(tmp_path, api_keys_file=keys, numeric_access="keyed") as client:
        assert client.post("/v1/kl-divergence", json=PAIR).status_code == 401
        assert (
            client.post("/v1/kl-divergence", json=PAIR, headers={"x-api-key": "nope"}).status_code
            == 403
        )
        ok = client.post(
            "/v1/kl-divergence", json=PAIR, headers={"authorization": "Bearer file-key"}
        )
        assert ok.status_code == 200
        assert client.post("/v1/model-fit", json={"counts": [1, 2]}).status_code == 401
        fit = client.post(
            "/v1/model-fit", json={"counts": [1, 2]}, headers={"x-api-key": "file-key"}
        )
        assert fit.status_code == 200
        assert (
            client.post(
                "/v1/losses/binary-cross-entropy", json={"labels": [1], "predictions": [0.5]}
            ).status_code
            == 401
        )


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    with _client(tmp_path, experiment_rate_per_minute=3) as client:
        for _ in range(3):
            assert client.post("/v1/experiments", json=JOB).status_code == 202
        r = client.post("/v1/experiments", json=JOB)
        assert r.status_code == 429 and r.headers["content-type"] == "application/problem+json"
        assert 1 <= int(r.headers["retry-after"]) <= 60


def test_queued_experiments_are_capped_per_client(tmp_path: Path) -> None:
    with _client(tmp_path, api_keys="a,b", max_queued_per_client=2) as client:
        a, b = {"x-api-key": "a"}, {"x-api-key": "b"}
        ids = [client.post("/v1/experiments", json=JOB, headers=a).json()["id"] for _ in range(2)]
        r = client.post("/v1/experiments", json=JOB, headers=a)
        assert r.status_code == 429 and r.headers["retry-after"] == "30"
        assert (
            client.post("/v1/experiments", json=JOB, headers=b).status_code == 202
        )  # b is not capped
        client.post(f"/v1/experiments/{ids[0]}/cancel", headers=a)
        assert client.post("/v1/experiments", json=JOB, headers=a).status_code == 202


def test_missing_key_file_fails_fast(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such file"):
        Settings(api_keys_file=tmp_path / "absent")

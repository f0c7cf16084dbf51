"""Limits per kind of body (issue 11's memory rule): JSON documents (losses, model fit,
experiments) up to DIVERGENCE_MAX_DOCUMENT_BYTES, arrays of the numeric endpoints up to
DIVERGENCE_MAX_JSON_BYTES, and .npy arrays of narrow types refused where float64 would
outgrow 4x the body."""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.api.codec.npy import NPY_SLACK_BYTES
from app.config import Settings
from app.main import create_app

NPY = {"content-type": "application/x-npy"}
JSON = {"content-type": "application/json"}
PROBLEM = "application/problem+json"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path / "data"))) as test_client:
        yield test_client


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


# -- JSON documents -------------------------------------------------------------------------


def _model_fit_body(size: int) -> bytes:
    counts = ",".join(["1"] * (size // 2))
    return ('{"counts": [' + counts + "]}").encode()


def test_a_document_over_its_limit_is_413_announced(client: TestClient) -> None:
    body = _model_fit_body(5 * 2**20)
    assert len(body) > 5 * 2**20 - 100
    r = client.post("/v1/model-fit", content=body, headers=JSON)
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM
    detail = r.json()["detail"]
    assert "DIVERGENCE_MAX_DOCUMENT_BYTES" in detail and str(4 * 2**20) in detail


def test_a_document_over_its_limit_is_413_chunked(client: TestClient) -> None:
    body = _model_fit_body(5 * 2**20)

    def pieces() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        for at in range(0, len(body), 2**20):
            yield body[at : at + 2**20]

    r = client.post("/v1/model-fit", content=pieces(), headers=JSON)
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM
    assert "DIVERGENCE_MAX_DOCUMENT_BYTES" in r.json()["detail"]


def test_a_document_under_its_limit_still_works(client: TestClient) -> None:
    n = 180_000
    labels = [1.0, 0.0] * (n // 2)
    predictions = [0.8, 0.3] * (n // 2)
    body = json.dumps({"labels": labels, "predictions": predictions}).encode()
    assert 1 * 2**20 < len(body) <= 4 * 2**20
    r = client.post("/v1/losses/binary-cross-entropy", content=body, headers=JSON)
    assert r.status_code == 200, r.text[:300]
    expected = -(np.log(0.8) + np.log(0.7)) / 2
    assert r.json()["value"] == pytest.approx(expected, rel=1e-6)


def test_numeric_endpoints_keep_the_json_limit(client: TestClient) -> None:
    # 6 MiB of JSON arrays: over the document limit, far under DIVERGENCE_MAX_JSON_BYTES
    p = np.full(600_000, 1 / 600_000)
    body = json.dumps({"p": p.tolist()}).encode()
    assert len(body) > 4 * 2**20
    r = client.post("/v1/entropy", content=body, headers=JSON)
    assert r.status_code == 200 and r.json()["value"] == pytest.approx(np.log(600_000))


def test_the_document_limit_never_exceeds_the_json_limit(tmp_path: Path) -> None:
    small = TestClient(create_app(Settings(data_dir=tmp_path / "d", max_json_bytes=2048)))
    r = small.post("/v1/model-fit", content=_model_fit_body(4096), headers=JSON)
    assert r.status_code == 413 and "DIVERGENCE_MAX_JSON_BYTES" in r.json()["detail"]
    settings = Settings(data_dir=tmp_path / "e", max_document_bytes=2048)
    tight = TestClient(create_app(settings))
    r = tight.post("/v1/model-fit", content=_model_fit_body(4096), headers=JSON)
    assert (
        r.status_code == 413
        and "of 2048 bytes (DIVERGENCE_MAX_DOCUMENT_BYTES)" in (r.json()["detail"])
    )
    assert tight.post("/v1/model-fit", json={"counts": [3, 1]}).status_code == 200


# -- .npy arrays of narrow types ------------------------------------------------------------


def test_a_large_narrow_npy_array_is_413_before_conversion(client: TestClient) -> None:
    n = 8 * 2**20  # 8 MiB of int8 would be 64 MiB of float64: over 4 x 8 MiB + 16 MiB
    r = client.post("/v1/entropy", content=_npy(np.ones(n, dtype=np.int8)), headers=NPY)
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM
    detail = r.json()["detail"]
    assert f"{n} int8 values takes {8 * n} bytes as float64" in detail
    assert f"4x the {n + 128} bytes received plus {NPY_SLACK_BYTES} bytes" in detail
    assert "send float32 or float64" in detail
    pair = np.ones((2, n // 2), dtype=np.uint8)
    r = client.post("/v1/kl-divergence", content=_npy(pair), headers=NPY)
    assert r.status_code == 413 and "uint8" in r.json()["detail"]


@pytest.mark.parametrize(
    ("dtype", "n"),
    [
        (np.int8, 1000),  # small: float64 within the slack
        (np.uint8, 4 * 2**20),  # 32 MiB as float64 = 4 x 4 MiB + 16 MiB: at the limit
        (np.int16, 4 * 2**20),  # 4x: always within the rule
        (np.float16, 2**20),
        (np.float32, 2**20),
    ],
)
def test_narrow_npy_arrays_within_the_rule_work(client: TestClient, dtype: type, n: int) -> None:
    body = _npy(np.ones(n, dtype=dtype))
    r = client.post("/v1/entropy?normalize=true", content=body, headers=NPY)
    assert r.status_code == 200, r.text[:300]
    assert r.json()["value"] == pytest.approx(np.log(n), rel=1e-9)

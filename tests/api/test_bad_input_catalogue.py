"""A catalogue of hostile and malformed requests: each gets a 4xx problem+json, and the
service answers normally afterwards."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"
JSON = {"content-type": "application/json"}


def _labels(n: int, total: float) -> bytes:
    return json.dumps({"p": {f"label{i}": total / n for i in range(n)}}).encode()


CATALOGUE: list[tuple[str, str, bytes, dict[str, str], int]] = [
    ("malformed JSON", "/v1/kl-divergence", b'{"p": [0.5, 0.5], "q": [', JSON, 422),
    ("not JSON at all", "/v1/entropy", b"\x00\xff\xfe garbage", JSON, 422),
    ("form body", "/v1/entropy", b"p=0.5&p=0.5", {"content-type": "application/x-www-form-urlencoded"}, 415),
    ("text body", "/v1/model-fit", b'{"counts": [1]}', {"content-type": "text/plain"}, 415),
    ("npy to a JSON-only endpoint", "/v1/losses/kl-divergence", b"\x93NUMPY", {"content-type": "application/x-npy"}, 422),
    ("huge number", "/v1/entropy", b'{"p": [1e999999, 0]}', JSON, 422),
    ("huge integer", "/v1/entropy", b'{"p": [' + b"9" * 5000 + b", 0]}", JSON, 422),
    ("deeply nested", "/v1/entropy", b'{"p": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", JSON, 422),
    ("deeply nested, FastAPI-parsed", "/v1/model-fit", b'{"counts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", JSON, 400),
    ("a million labels off by a lot", "/v1/entropy", _labels(10**6, 2.0), JSON, 422),
    ("unicode labels, sum off", "/v1/entropy", json.dumps({"p": {"κύκλος": 0.5, "円": 0.6, "🙂": 0.1}}).encode(), JSON, 422),
    ("duplicated labels", "/v1/entropy", b'{"p": {"a": 0.5, "a": 0.5}}', JSON, 422),
    ("NaN token", "/v1/entropy", b'{"p": [NaN, 1.0]}', JSON, 422),
    ("Infinity token", "/v1/kl-divergence", b'{"p": [1.0, 0], "q": [-Infinity, 1]}', JSON, 422),
    ("null body", "/v1/entropy", b"null", JSON, 422),
    ("empty body", "/v1/entropy", b"", JSON, 422),
    ("string where an object belongs", "/v1/experiments", b'"synthetic"', JSON, 422),
    ("unknown experiment", "/v1/experiments/../../etc/passwd/cancel", b"", JSON, 404),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "body", "headers", "status"), [c[1:] for c in CATALOGUE], ids=[c[0] for c in CATALOGUE]
)
def test_each_gets_a_problem_and_the_service_still_answers(
    client: TestClient, path: str, body: bytes, headers: dict[str, str], status: int
) -> None:
    r = client.post(path, content=body, headers=headers)
    assert r.status_code == status, r.text[:300]
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["status"] == status and problem["detail"] and problem["instance"]
    ok = client.post("/v1/kl-divergence", json={"p": [0.5, 0.5], "q": [0.25, 0.75]})
    assert ok.status_code == 200


def test_unicode_labels_work_when_valid(client: TestClient) -> None:
    body: dict[str, Any] = {"p": {"κύκλος": 0.5, "円": 0.5}, "q": {"円": 1.0}, "unit": "bits"}
    r = client.post("/v1/kl-divergence", json=body)
    assert r.json()["value"] == "Infinity" and r.json()["infinite_events"] == ["κύκλος"]


def test_a_million_labels_are_computed(client: TestClient) -> None:
    r = client.post("/v1/entropy", content=_labels(10**6, 1.0), headers=JSON)
    assert r.status_code == 200
    assert r.json()["value"] == pytest.approx(13.815510557964274, rel=1e-9)  # ln 10**6


def test_bodies_over_the_limit(client: TestClient) -> None:
    from app.config import Settings
    from app.main import create_app

    small = TestClient(create_app(Settings(max_json_bytes=2048)))
    r = small.post("/v1/entropy", json={"p": [0.001] * 1000})
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM
    assert small.post("/v1/entropy", json={"p": [1.0]}).status_code == 200

"""The ASGI fast path for small numeric requests: same answers as the routed endpoints, and
everything it should not take (errors, large or chunked bodies, keyed access, other
methods) still reaches the router."""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.api import measures
from app.config import Settings
from app.main import create_app

PAIR = {"p": [0.5, 0.5, 0.0], "q": [0.9, 0.1, 0.0]}
CASES: list[tuple[str, Any, str]] = [
    ("/v1/information", {"p": [0.25, 0.75, 0]}, ""),
    ("/v1/entropy", {"p": {"rain": 0.25, "sun": 0.75}, "unit": "bits"}, ""),
    ("/v1/entropy", {"p": [[0.5, 0.5], [1, 0]]}, ""),
    ("/v1/cross-entropy", {"p": [0.5, 0.5], "q": [1.0, 0.0]}, ""),
    ("/v1/kl-divergence", PAIR, "unit=bits"),
    ("/v1/kl-divergence", {"p": [1, 3], "q": [2, 2], "normalize": True}, ""),
    ("/v1/js-divergence", PAIR, ""),
    ("/v1/compare", {**PAIR, "smoothing": {"alpha": 0.5}}, ""),
]


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paths the routed numeric endpoints served during a test."""
    served: list[str] = []
    respond = measures._respond

    async def counting(request: Any, *endpoint: Any) -> Any:
        served.append(request.url.path)
        return await respond(request, *endpoint)

    monkeypatch.setattr(measures, "_respond", counting)
    yield served


def test_the_fast_path_serves_exactly_the_routed_numeric_endpoints() -> None:
    routed = {route.path for route in measures.router.routes if hasattr(route, "path")}
    assert set(measures.ENDPOINTS) == routed


def _app(tmp_path: Path, **settings: Any) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path / "data", **settings)))


def _chunked(body: bytes) -> Iterator[bytes]:
    # no Content-Length: the fast path leaves such a body to the router
    yield body[:5]
    yield body[5:]


@pytest.mark.parametrize(("path", "body", "query"), CASES)
def test_fast_answers_are_the_routed_answers(
    tmp_path: Path, routed: list[str], path: str, body: Any, query: str
) -> None:
    client = _app(tmp_path)
    url = f"{path}?{query}" if query else path
    raw = json.dumps(body).encode()
    fast = client.post(url, content=raw, headers={"content-type": "application/json"})
    assert fast.status_code == 200 and routed == []
    slow = client.post(url, content=_chunked(raw), headers={"content-type": "application/json"})
    assert slow.status_code == 200 and routed == [path]
    assert fast.content == slow.content
    assert fast.headers["content-type"] == slow.headers["content-type"] == "application/json"
    assert fast.headers["content-length"] == str(len(fast.content))


def test_small_npy_bodies_take_the_fast_path(tmp_path: Path, routed: list[str]) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array([[0.5, 0.5], [0.9, 0.1]]))
    answer = _app(tmp_path).post(
        "/v1/kl-divergence?unit=bits",
        content=buffer.getvalue(),
        headers={"content-type": "application/x-npy"},
    )
    assert answer.status_code == 200 and routed == []
    assert answer.json()["value"] == pytest.approx(0.7369655941662062, rel=1e-12)


def test_invalid_input_is_answered_by_the_router(tmp_path: Path, routed: list[str]) -> None:
    client = _app(tmp_path)
    bad = client.post("/v1/kl-divergence", json={"p": [0.5, -0.5], "q": [0.5, 0.5]})
    assert bad.status_code == 422 and routed == ["/v1/kl-divergence"]
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["loc"] == ["body", "p", 1]
    broken = client.post(
        "/v1/entropy", content=b"[0.5, ", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422 and broken.json()["errors"][0]["type"] == "json_invalid"
    conflict = client.post("/v1/kl-divergence?unit=bits", json={**PAIR, "unit": "nats"})
    assert conflict.status_code == 422 and conflict.json()["errors"][0]["loc"] == ["query", "unit"]


def test_what_the_fast_path_leaves_alone(tmp_path: Path, routed: list[str]) -> None:
    client = _app(tmp_path)
    # a body above the inline size: the router reads it and computes in the thread pool
    n = measures.INLINE_MAX_BYTES // 8
    big = {"p": [1 / n] * n, "q": [1 / n] * n}
    assert client.post("/v1/kl-divergence", json=big).json()["value"] == 0.0
    assert routed == ["/v1/kl-divergence"]
    # wrong type: 415 from the size-limit middleware, never parsed
    typed = client.post("/v1/entropy", content=b"p=1", headers={"content-type": "text/plain"})
    assert typed.status_code == 415
    # other methods on the same path: 405 with Allow
    assert client.get("/v1/entropy").status_code == 405
    assert client.get("/v1/entropy").headers["allow"] == "POST"


def test_a_limit_below_the_inline_size_still_answers_413(tmp_path: Path) -> None:
    client = _app(tmp_path, max_json_bytes=1024)
    body = json.dumps({"p": [0.001] * 1000}).encode()
    assert 1024 < len(body) < measures.INLINE_MAX_BYTES
    refused = client.post("/v1/entropy", content=body, headers={"content-type": "application/json"})
    assert refused.status_code == 413
    assert "limit of 1024 bytes (DIVERGENCE_MAX_JSON_BYTES)" in refused.json()["detail"]


def test_keyed_numeric_access_is_never_bypassed(tmp_path: Path, routed: list[str]) -> None:
    client = _app(tmp_path, api_keys="k-one", numeric_access="keyed")
    assert client.post("/v1/kl-divergence", json=PAIR).status_code == 401
    keyed = client.post("/v1/kl-divergence", json=PAIR, headers={"x-api-key": "k-one"})
    assert keyed.status_code == 200 and len(routed) == 2


def test_metrics_name_the_route_of_a_fast_answer(tmp_path: Path, routed: list[str]) -> None:
    client = _app(tmp_path)
    for _ in range(3):
        assert client.post("/v1/js-divergence", json=PAIR).status_code == 200
    assert routed == []
    text = client.get("/metrics").text
    line = (
        'divergence_http_requests_total{method="POST",route="/v1/js-divergence",status="200"} 3.0'
    )
    assert line in text


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (b'{"p": [0.5, 0.5], "p": [1, 0]}', ["body"]),
        (b'{"p": {"a": 0.5, "a": 0.5}}', ["body"]),
        (b'{"p": [0.5, 0.5], "smoothing": {"alpha": 1, "alpha": 2}}', ["body"]),
    ],
)
def test_duplicate_keys_in_small_bodies_are_refused(
    client: TestClient, body: bytes, loc: list[Any]
) -> None:
    # orjson keeps the last duplicate silently: the small-body parser must notice and defer
    r = client.post("/v1/entropy", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["type"] == "duplicate_key" and r.json()["errors"][0]["loc"] == loc


def test_colons_and_braces_inside_labels_are_only_labels(client: TestClient) -> None:
    body = b'{"p": {"a:b": 0.25, "{c}": 0.75}, "unit": "bits"}'
    r = client.post("/v1/entropy", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json()["value"] == pytest.approx(0.8112781244591328)


def test_small_json_parser_agrees_with_the_exact_one() -> None:
    from app.api.codec.small_json import small_json as _small_json

    for raw in (
        b'{"p": [0.1, 0.9], "q": {"x": 1}, "smoothing": {"alpha": 0.5}}',
        b'{"p": [[0.5, 0.5], [1, 0]], "unit": "bans", "normalize": false}',
        b"[0.5, 0.5]",
    ):
        assert _small_json(raw) == json.loads(raw)
    for raw in (
        b'{"p": [0.5, 0.5], "p": [1, 0]}',  # duplicate: dropped by orjson
        b'{"p": [{"a": 1}]}',  # an object below the top level's values
        b'{"p": [NaN]}',  # refused by orjson, worded by the exact path
        b'{"p": [1e400]}',
        b'{"p": "\xff"}',
    ):
        assert _small_json(raw) is None


def test_metrics_name_routes_of_requests_refused_before_routing(tmp_path: Path) -> None:
    client = _app(tmp_path, max_json_bytes=1024)
    typed = client.post("/v1/kl-divergence", content=b"x", headers={"content-type": "text/plain"})
    assert typed.status_code == 415
    big = client.post("/v1/experiments", json={"dataset": "synthetic", "pad": "x" * 2000})
    assert big.status_code == 413
    assert client.get("/nowhere").status_code == 404
    text = client.get("/metrics").text
    for route, status in (("/v1/kl-divergence", 415), ("/v1/experiments", 413), ("unmatched", 404)):
        assert f'route="{route}",status="{status}"}} 1.0' in text

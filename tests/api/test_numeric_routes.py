"""The numeric endpoints are raw ASGI routes in the one routing table: same answers for whole
and chunked bodies, bad input answered once as problem+json, limits, keys and metrics as for
every other route."""

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
from app.measures import MEASURES

PAIR = {"p": [0.5, 0.5, 0.0], "q": [0.9, 0.1, 0.0]}
CASES: list[tuple[str, Any, str, Any]] = [
    ("/v1/information", {"p": [0.25, 0.75, 0]}, "", [np.log(4), -np.log(0.75), "Infinity"]),
    ("/v1/entropy", {"p": {"rain": 0.25, "sun": 0.75}, "unit": "bits"}, "", 0.8112781244591328),
    ("/v1/entropy", {"p": [[0.5, 0.5], [1, 0]]}, "", [np.log(2), 0.0]),
    ("/v1/cross-entropy", {"p": [0.5, 0.5], "q": [1.0, 0.0]}, "", "Infinity"),
    ("/v1/kl-divergence", PAIR, "unit=bits", 0.7369655941662062),
    ("/v1/kl-divergence", {"p": [1, 3], "q": [2, 2], "normalize": True}, "", None),
    ("/v1/js-divergence", PAIR, "", None),
    ("/v1/compare", {**PAIR, "smoothing": {"alpha": 0.5}}, "", None),
    ("/v1/hellinger-distance", PAIR, "", None),
]


def _app(tmp_path: Path, **settings: Any) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path / "data", **settings)))


def _chunked(body: bytes) -> Iterator[bytes]:
    # no Content-Length: the body arrives in two messages
    yield body[:5]
    yield body[5:]


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The model names of the numeric requests parsed during a test."""
    parsed: list[str] = []
    parse = measures.parse_request

    def counting(body: Any, model: Any, pair: bool, parameters: Any = None) -> Any:
        parsed.append(model.__name__)
        return parse(body, model, pair, parameters)

    monkeypatch.setattr(measures, "parse_request", counting)
    return parsed


def test_one_routing_table_and_no_middleware_of_its_own(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data"))
    middleware = [m.cls.__name__ for m in app.user_middleware]
    assert not [name for name in middleware if "Fast" in name], middleware
    numeric = [r for r in app.router.routes if isinstance(r, measures.NumericRoutes)]
    assert len(numeric) == 1 and app.router.routes[0] is numeric[0]
    assert set(numeric[0].by_path) == {m.route for m in MEASURES} == set(measures.ENDPOINTS)


@pytest.mark.parametrize(("path", "body", "query", "expected"), CASES)
def test_whole_and_chunked_bodies_get_the_same_answer(
    tmp_path: Path, parses: list[str], path: str, body: Any, query: str, expected: Any
) -> None:
    client = _app(tmp_path)
    url = f"{path}?{query}" if query else path
    raw = json.dumps(body).encode()
    whole = client.post(url, content=raw, headers={"content-type": "application/json"})
    assert whole.status_code == 200, whole.text
    chunked = client.post(url, content=_chunked(raw), headers={"content-type": "application/json"})
    assert whole.content == chunked.content and len(parses) == 2
    assert whole.headers["content-type"] == "application/json"
    assert whole.headers["content-length"] == str(len(whole.content))
    if expected is not None:
        value = whole.json()["value"]
        if isinstance(expected, list):
            assert value[:2] == pytest.approx(expected[:2], rel=1e-12)
            assert value[2:] == expected[2:]
        elif isinstance(expected, str):
            assert value == expected
        else:
            assert value == pytest.approx(expected, rel=1e-12)


def test_small_npy_bodies(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array([[0.5, 0.5], [0.9, 0.1]]))
    answer = _app(tmp_path).post(
        "/v1/kl-divergence?unit=bits",
        content=buffer.getvalue(),
        headers={"content-type": "application/x-npy"},
    )
    assert answer.status_code == 200
    assert answer.json()["value"] == pytest.approx(0.7369655941662062, rel=1e-12)


def test_invalid_input_is_answered_at_once_parsed_once(tmp_path: Path, parses: list[str]) -> None:
    client = _app(tmp_path)
    bad = client.post("/v1/kl-divergence", json={"p": [0.5, -0.5], "q": [0.5, 0.5]})
    assert bad.status_code == 422 and parses == ["PairRequest"]
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["loc"] == ["body", "p", 1]
    assert bad.json()["instance"] == "/v1/kl-divergence"
    broken = client.post(
        "/v1/entropy", content=b"[0.5, ", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422 and broken.json()["errors"][0]["type"] == "json_invalid"
    conflict = client.post("/v1/kl-divergence?unit=bits", json={**PAIR, "unit": "nats"})
    assert conflict.status_code == 422 and conflict.json()["errors"][0]["loc"] == ["query", "unit"]
    assert len(parses) == 3


def test_large_bodies_other_types_and_methods(tmp_path: Path) -> None:
    client = _app(tmp_path)
    # a body above the inline size: computed in the thread pool, same answer
    n = measures.INLINE_MAX_BYTES // 8
    big = {"p": [1 / n] * n, "q": [1 / n] * n}
    assert client.post("/v1/kl-divergence", json=big).json()["value"] == 0.0
    # wrong type: 415 from the size-limit middleware, never parsed
    typed = client.post("/v1/entropy", content=b"p=1", headers={"content-type": "text/plain"})
    assert typed.status_code == 415
    # other methods on the same path: 405 with Allow, as problem+json
    wrong = client.get("/v1/entropy")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    assert wrong.headers["content-type"] == "application/problem+json"
    # a path that is no measure: 404 as problem+json
    missing = client.post("/v1/no-such-measure", json=PAIR)
    assert (
        missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    )


def test_a_limit_below_the_inline_size_still_answers_413(tmp_path: Path) -> None:
    client = _app(tmp_path, max_json_bytes=1024)
    body = json.dumps({"p": [0.001] * 1000}).encode()
    assert 1024 < len(body) < measures.INLINE_MAX_BYTES
    refused = client.post("/v1/entropy", content=body, headers={"content-type": "application/json"})
    assert refused.status_code == 413
    assert "limit of 1024 bytes (DIVERGENCE_MAX_JSON_BYTES)" in refused.json()["detail"]
    chunked = client.post(
        "/v1/entropy", content=_chunked(body), headers={"content-type": "application/json"}
    )
    assert chunked.status_code == 413


def test_keyed_numeric_access_checks_the_key_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parses: list[str]
) -> None:
    checks: list[str] = []
    guard = measures.numeric_guard

    def counting(request: Any) -> None:
        checks.append(request.url.path)
        guard(request)

    monkeypatch.setattr(measures, "numeric_guard", counting)
    client = _app(tmp_path, api_keys="k-one", numeric_access="keyed")
    refused = client.post("/v1/kl-divergence", json=PAIR)
    assert refused.status_code == 401 and parses == []  # refused before the body is read
    assert refused.headers["content-type"] == "application/problem+json"
    assert (
        client.post("/v1/kl-divergence", json=PAIR, headers={"x-api-key": "nope"}).status_code
        == 403
    )
    keyed = client.post("/v1/kl-divergence", json=PAIR, headers={"x-api-key": "k-one"})
    assert keyed.status_code == 200 and len(checks) == 3 and parses == ["PairRequest"]
    # open access: no key looked at
    checks.clear()
    assert _app(tmp_path).post("/v1/kl-divergence", json=PAIR).status_code == 200
    assert checks == []


def test_metrics_name_the_route(tmp_path: Path) -> None:
    client = _app(tmp_path)
    for _ in range(3):
        assert client.post("/v1/js-divergence", json=PAIR).status_code == 200
    assert client.post("/v1/hellinger-distance", json={**PAIR, "unit": "bits"}).status_code == 422
    text = client.get("/metrics").text
    for line in (
        'divergence_http_requests_total{method="POST",route="/v1/js-divergence",status="200"} 3.0',
        'divergence_http_requests_total{method="POST",route="/v1/hellinger-distance",status="422"} 1.0',
    ):
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

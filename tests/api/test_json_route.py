"""The JSON body routes decode with orjson off the event loop, with the standard library's
answers where orjson would differ (NaN literals, integers beyond 64 bits)."""

from __future__ import annotations

import math

from fastapi.testclient import TestClient

from app.api import json_route


def test_bodies_decode_as_the_standard_library_does(client: TestClient) -> None:
    body = b'{"labels": [1, 0], "predictions": [0.8, 0.3], "reduction": "sum"}'
    r = client.post("/v1/losses/binary-cross-entropy", content=body, headers=_JSON)
    assert r.status_code == 200 and r.json()["reduction"] == "sum"
    # a NaN literal (not JSON, but Python's json reads it) reaches the model, which names it
    nan = b'{"labels": [1, 0], "predictions": [NaN, 0.3]}'
    r = client.post("/v1/losses/binary-cross-entropy", content=nan, headers=_JSON)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "predictions", 0]
    # malformed JSON: FastAPI's own 422
    r = client.post("/v1/losses/binary-cross-entropy", content=b"{", headers=_JSON)
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "json_invalid"


def test_large_bodies_decode_with_orjson_and_fall_back_for_nan() -> None:
    assert json_route._decode(b'{"a": [1.5, 2]}') == {"a": [1.5, 2]}
    assert math.isnan(json_route._decode(b"[NaN]")[0])  # the exact path: a NaN, not an error


def test_a_large_nan_body_is_named_by_the_model(client: TestClient) -> None:
    values = ", ".join(["0.5"] * 20_000)  # over 64 KiB: decoded in the thread pool
    body = f'{{"labels": [{values}], "predictions": [NaN, {values[5:]}]}}'.encode()
    r = client.post("/v1/losses/binary-cross-entropy", content=body, headers=_JSON)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "predictions", 0]


_JSON = {"content-type": "application/json"}

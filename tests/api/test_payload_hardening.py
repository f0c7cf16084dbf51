"""Hostile payloads answered as problems, not faults (issue 11): lone surrogates, forged .npy
headers, error lists capped at the first few, large bodies checked without json.loads, the
faults of the numeric endpoints logged (500), and a client leaving mid-body logged as one line."""

from __future__ import annotations

import ast
import asyncio
import json
import logging
import struct
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.api.codec import simd_json
from app.api.limits import Deadlines
from app.config import Settings
from app.main import create_app

JSON = {"content-type": "application/json"}
NPY = {"content-type": "application/x-npy"}
PROBLEM = "application/problem+json"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path / "data"))) as test_client:
        yield test_client


# -- lone surrogates ------------------------------------------------------------------------

LONE = b'{"\\ud800": 0.5, "b": 0.5}'


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/v1/information", b'{"p": ' + LONE + b"}", ["body", "p"]),
        ("/v1/entropy", b'{"p": ' + LONE + b"}", ["body", "p"]),
        ("/v1/kl-divergence", b'{"p": ' + LONE + b', "q": {"a": 0.5, "b": 0.5}}', ["body", "p"]),
        ("/v1/cross-entropy", b'{"p": {"a": 0.5, "b": 0.5}, "q": ' + LONE + b"}", ["body", "q"]),
        ("/v1/compare", b'{"p": ' + LONE + b', "q": ' + LONE + b"}", ["body", "p"]),
        ("/v1/entropy", b'{"p": [0.5, 0.5], "unit": "\\udfff"}', ["body"]),
        ("/v1/entropy", b'{"\\udc00": 1, "p": [1.0]}', ["body"]),
    ],
)
def test_lone_surrogates_are_422_naming_the_field(
    client: TestClient, path: str, body: bytes, loc: list[Any]
) -> None:
    r = client.post(path, content=body, headers=JSON)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    error = r.json()["errors"][0]
    assert error["loc"] == loc and error["type"] == "unicode"
    assert "\\ud" in error["msg"] and "surrogate" in error["msg"]


def test_surrogate_pairs_are_ordinary_labels(client: TestClient) -> None:
    body = b'{"p": {"\\ud83d\\ude00": 0.25, "b": 0.75}, "unit": "bits"}'
    r = client.post("/v1/information", content=body, headers=JSON)
    assert r.status_code == 200, r.text
    assert r.json()["labels"] == ["\U0001f600", "b"]
    assert r.json()["value"] == [2.0, pytest.approx(0.4150374992788438)]


def test_a_large_body_with_a_lone_surrogate_is_invalid_json(client: TestClient) -> None:
    numbers = b",".join([b"0.000001"] * 300_000)
    body = b'{"p": {"\\ud800": 0.5}, "q": [' + numbers + b"]}"
    assert len(body) > simd_json.LARGE_JSON_BYTES
    r = client.post("/v1/kl-divergence", content=body, headers=JSON)
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "json_invalid"


# -- forged .npy headers --------------------------------------------------------------------


def _npy(shape: str, data: bytes = b"", version: tuple[int, int] = (1, 0)) -> bytes:
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}".encode()
    header += b" " * (63 - len(header) % 64) + b"\n"
    length = struct.pack("<H" if version == (1, 0) else "<I", len(header))
    return b"\x93NUMPY" + bytes(version) + length + header + data


@pytest.mark.parametrize(
    "shape", ["(4611686018427387904, 4)", "(2, 4611686018427387904, 4)", "(4294967296, 4294967296)"]
)
def test_npy_shapes_past_the_data_are_refused(client: TestClient, shape: str) -> None:
    r = client.post("/v1/entropy", content=_npy(shape, b"\0" * 16), headers=NPY)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    error = r.json()["errors"][0]
    assert error["loc"] == ["body"] and error["type"] == "npy"
    assert str(ast.literal_eval(shape)) in error["msg"] and "the body holds 16" in error["msg"]


@pytest.mark.parametrize("shape", ["(-1, -2)", "(True, True)", "(2, -1)"])
def test_npy_shapes_that_are_not_sizes_are_refused(client: TestClient, shape: str) -> None:
    # (-1, -2) has the product 2: it must not pass as two float64 values
    r = client.post("/v1/entropy", content=_npy(shape, (np.ones(2) / 2).tobytes()), headers=NPY)
    assert r.status_code == 422, r.text
    assert "is not a list of sizes" in r.json()["errors"][0]["msg"]


def test_unknown_npy_versions_are_refused(client: TestClient) -> None:
    good = np.array([0.5, 0.5]).tobytes()
    r = client.post("/v1/entropy", content=_npy("(2,)", good, version=(9, 9)), headers=NPY)
    assert r.status_code == 422
    assert "unsupported .npy format version 9.9" in r.json()["errors"][0]["msg"]
    for version in ((1, 0), (2, 0), (3, 0)):
        r = client.post("/v1/entropy", content=_npy("(2,)", good, version=version), headers=NPY)
        assert r.status_code == 200 and r.json()["value"] == pytest.approx(np.log(2)), version


def test_npy_data_must_match_the_declared_shape(client: TestClient) -> None:
    data = np.array([0.25, 0.25, 0.5]).tobytes()
    r = client.post("/v1/entropy", content=_npy("(2,)", data), headers=NPY)
    assert r.status_code == 422
    assert "(16 bytes of data), the body holds 24" in r.json()["errors"][0]["msg"]


# -- error lists: the first few and a count -------------------------------------------------


def _large(values: list[str]) -> bytes:
    body = ('{"p": [' + ",".join(values) + "]}").encode()
    assert len(body) > simd_json.LARGE_JSON_BYTES
    return body


def test_many_bad_numbers_report_twenty_and_the_count(client: TestClient) -> None:
    values = ["0.000001"] * 200_000
    for i in range(0, 200_000, 4):
        values[i] = '"x"'
    r = client.post("/v1/entropy", content=_large(values), headers=JSON)
    assert r.status_code == 422
    problem = r.json()
    assert problem["error_count"] == 50_000 and len(problem["errors"]) == 20
    assert [e["loc"] for e in problem["errors"][:2]] == [["body", "p", 0], ["body", "p", 4]]
    assert problem["errors"][0]["msg"] == "expected a number, got str"
    assert "and 49999 more errors" in problem["detail"]


def test_large_bodies_are_judged_like_small_ones(client: TestClient) -> None:
    n = 150_000
    flat = ["0.000001"] * n
    cases: list[tuple[list[str], list[Any], str]] = [
        ([*flat[:-1], "true"], ["body", "p", n - 1], "expected a number, got bool"),
        ([*flat[:-1], "null"], ["body", "p", n - 1], "expected a number, got null"),
        ([*flat[:-1], "[0.5]"], ["body", "p", n - 1], "expected a number, got list"),
        (["[0.5]", *flat[1:]], ["body", "p", 1], "a batch must hold only arrays"),
        (["{}", *flat[1:]], ["body", "p", 0], "expected a number, got dict"),
    ]
    for values, loc, msg in cases:
        r = client.post("/v1/entropy", content=_large(values), headers=JSON)
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == loc, r.text[:300]
        assert r.json()["errors"][0]["msg"] == msg
    rows = ["[" + ",".join(["0.01"] * 100) + "]"] * 20_000
    rows[7] = "[0.5, 0.5]"
    r = client.post("/v1/entropy", content=_large(rows), headers=JSON)
    assert r.json()["errors"][0] == {
        "loc": ["body", "p", 7],
        "msg": "row 7 has 2 values, row 0 has 100",
        "type": "ragged_batch",
    }
    nested = ["[" + ",".join(["0.01"] * 100) + "]"] * 20_000
    nested[3] = "[" + ",".join(["0.01"] * 99 + ["[0.01]"]) + "]"  # hidden by flattening
    r = client.post("/v1/entropy", content=_large(nested), headers=JSON)
    assert r.json()["errors"][0]["loc"] == ["body", "p", 3, 99]
    r = client.post("/v1/entropy", content=b"[" + b"1," * 600_000 + b"1]", headers=JSON)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body"]
    r = client.post("/v1/entropy", content=_large(flat)[:-3], headers=JSON)
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "json_invalid"


def test_large_label_maps_are_parsed_with_duplicates_refused(client: TestClient) -> None:
    labels = {f"label{i}": 1.0 for i in range(100_000)}
    body = json.dumps({"p": labels, "normalize": True}).encode()
    assert len(body) > simd_json.LARGE_JSON_BYTES
    r = client.post("/v1/entropy", content=body, headers=JSON)
    assert r.status_code == 200 and r.json()["value"] == pytest.approx(np.log(100_000))
    duplicated = body.replace(b'"label99999"', b'"label70000"')
    r = client.post("/v1/entropy", content=duplicated, headers=JSON)
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "duplicate_key"
    assert "'label70000'" in r.json()["errors"][0]["msg"]
    twice = body[:-1] + b', "normalize": true}'
    r = client.post("/v1/entropy", content=twice, headers=JSON)
    assert r.status_code == 422 and "'normalize'" in r.json()["errors"][0]["msg"]


def test_framework_validation_errors_are_capped_too(client: TestClient) -> None:
    r = client.post("/v1/model-fit", json={"counts": ["x"] * 500})
    assert r.status_code == 422
    assert len(r.json()["errors"]) == 20 and r.json()["error_count"] >= 500


# -- faults of the numeric endpoints, and clients that leave -------------------------------


def test_numeric_faults_are_logged_and_answered_500(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug is no bad input: it is logged with its trace and answered 500 problem+json
    (no second attempt, no blanket except), while invalid input logs nothing."""

    def broken(request: Any) -> Any:
        raise RuntimeError("a bug in the entropy service")

    # the endpoints take their service functions when the module is imported: patch the
    # endpoint's reference, as a bug in the function would be
    from app.api.measures import ENDPOINTS

    monkeypatch.setattr(ENDPOINTS["/v1/entropy"], "work", broken)
    client = TestClient(
        create_app(Settings(data_dir=tmp_path / "data")), raise_server_exceptions=False
    )
    with caplog.at_level(logging.ERROR):
        r = client.post("/v1/entropy", json={"p": [0.5, 0.5]})
        assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
        faults = [rec for rec in caplog.records if rec.exc_info]
        assert len(faults) == 1 and "a bug in the entropy service" in str(faults[0].exc_info)
        caplog.clear()
        monkeypatch.undo()  # invalid input is no fault: nothing logged
        assert client.post("/v1/entropy", json={"p": [0.5, "x"]}).status_code == 422
        assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]


@pytest.mark.parametrize("path", ["/v1/entropy", "/v1/losses/kl-divergence"])
def test_a_client_leaving_mid_body_is_one_info_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data"))
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b'{"p": [' + b"0.1," * 10_000, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("10.0.0.7", 5555), "server": ("testserver", 80),
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"900000")],
    }  # fmt: skip
    with caplog.at_level(logging.INFO):
        asyncio.run(app(scope, receive, send))
    assert sent == []
    records = [r for r in caplog.records if r.levelno >= logging.INFO and r.name.startswith("app")]
    assert [(r.name, r.levelname) for r in records] == [("app.api.limits", "INFO")]
    assert "10.0.0.7:5555 went away during the body of POST " + path in records[0].getMessage()
    assert records[0].exc_info is None


def test_read_deadlines_time_out_stalls_and_leave_other_cancels_alone() -> None:
    async def scenario() -> tuple[float, bool, bool]:
        deadlines = Deadlines(every=0.05)
        loop = asyncio.get_running_loop()

        async def stall() -> dict[str, Any]:
            await asyncio.sleep(60)
            return {}

        async def ready() -> dict[str, Any]:
            return {"type": "http.request", "body": b"x"}

        assert (await deadlines.receive(ready, loop.time() + 30))["body"] == b"x"
        started = loop.time()
        with pytest.raises(TimeoutError):
            await deadlines.receive(stall, loop.time() + 0.2)
        waited = loop.time() - started
        reader = asyncio.ensure_future(deadlines.receive(stall, loop.time() + 30))
        await asyncio.sleep(0.1)
        reader.cancel()  # a cancel that is not the deadline's stays a cancel
        with pytest.raises(asyncio.CancelledError):
            await reader
        with pytest.raises(TimeoutError):  # a deadline already past: no wait at all
            await deadlines.receive(stall, loop.time() - 1)
        return waited, not deadlines.waiting, not deadlines.expired

    waited, none_waiting, none_expired = asyncio.run(scenario())
    assert 0.2 <= waited < 0.5 and none_waiting and none_expired


@pytest.mark.parametrize(
    "header",
    [
        b"{'descr': '<f8', 'fortran_order': False, 'shape': (2, ",  # TokenError in numpy
        b"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}",
        b"{'descr': 'not a dtype', 'fortran_order': False, 'shape': (2,), }",
        b"[1, 2, 3]",
        b"{'descr': '<f8', 'fortran_order': False, 'shape': (2,) + (2,), }",
        b"\xff\xfe",
    ],
)
def test_forged_npy_headers_are_422(client: TestClient, header: bytes) -> None:
    header += b" " * (63 - len(header) % 64) + b"\n"
    body = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b"\0" * 16
    r = client.post("/v1/entropy", content=body, headers=NPY)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["msg"].startswith("not an .npy array")

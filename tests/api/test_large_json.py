"""Large JSON bodies (over 1 MiB) are parsed in chunks of about a MiB (app/api/codec/
large_json.py), as strictly as one parse of the whole document: the same refusals, with the
same ``loc``, wherever the offending token falls, the last chunk and chunk boundaries
included."""

from __future__ import annotations

import itertools
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

from fastapi.exceptions import RequestValidationError

from app.api.codec import RawBody, parse_request
from app.api.codec.json_arrays import CHUNK_BYTES, cuts
from app.api.codec.json_layout import layout
from app.api.codec.simd_json import LARGE_JSON_BYTES
from app.config import Settings
from app.errors import CappedValidationError
from app.main import create_app
from app.schemas.measures import PairRequest, SingleRequest

N = 400_000  # 9 bytes a number: about 3.6 MB, four chunks
NUMBER = "0.0000025"  # 1 / N


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path / "data"))) as test_client:
        yield test_client


def _single(values: list[str], extra: str = "") -> bytes:
    body = ('{"p": [' + ",".join(values) + "]" + extra + "}").encode()
    assert len(body) > LARGE_JSON_BYTES
    return body


def _errors(body: bytes, pair: bool = False) -> tuple[list[dict[str, Any]], int]:
    model = PairRequest if pair else SingleRequest
    with pytest.raises(RequestValidationError) as caught:
        parse_request(RawBody("application/json", body, {}), model, pair)
    errors = [dict(e) for e in caught.value.errors()]
    exc = caught.value
    return errors, exc.total if isinstance(exc, CappedValidationError) else len(errors)


def _first(body: bytes, pair: bool = False) -> dict[str, Any]:
    return _errors(body, pair)[0][0]


def test_large_bodies_are_cut_into_chunks() -> None:
    body = _single([NUMBER] * N)
    lay = layout(body)
    assert lay is not None
    found = cuts(body, lay, body.index(b"[") + 1, body.rindex(b"]"), 2)
    assert len(found) == len(body) // CHUNK_BYTES
    assert all(body[c : c + 1] == b"," for c in found)
    assert all(CHUNK_BYTES - 10 <= b - a <= CHUNK_BYTES for a, b in itertools.pairwise(found))
    request = parse_request(RawBody("application/json", body, {}), SingleRequest, False)
    assert request.p.values.shape == (N,) and request.p.values.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("token", "msg"),
    [
        ("true", "expected a number, got bool"),
        ("false", "expected a number, got bool"),
        ("null", "expected a number, got null"),
        ('"x"', "expected a number, got str"),
        ('"a,[b],c"', "expected a number, got str"),  # separators inside a string
        ('"a\\",b"', "expected a number, got str"),  # an escaped quote, then a comma
        ("{}", "expected a number, got dict"),
        ("[0.5]", "expected a number, got list"),
    ],
)
@pytest.mark.parametrize("at", [1, 200_000, N - 1])  # first chunk, middle, last chunk
def test_values_that_are_not_numbers_are_named(token: str, msg: str, at: int) -> None:
    values = [NUMBER] * N
    values[at] = token
    errors, total = _errors(_single(values))
    assert total == 1
    assert errors[0] == {"loc": ("body", "p", at), "msg": msg, "type": "number_type"}


@pytest.mark.parametrize(
    "token",
    ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "01", "+1", ".5", "1.", "-", "0x10", "'a'"],
)
@pytest.mark.parametrize("at", [0, N - 1])
def test_tokens_json_forbids_make_the_body_invalid(token: str, at: int) -> None:
    values = [NUMBER] * N
    values[at] = token
    error = _first(_single(values))
    assert error["loc"] == ("body",) and error["type"] == "json_invalid"


def test_integers_beyond_float64_are_named_and_beyond_64_bits_read() -> None:
    values = [NUMBER] * N
    values[N - 3] = "123456789012345678901234567890"  # beyond 64 bits: still a number
    body = _single(values, ', "normalize": true')
    request = parse_request(RawBody("application/json", body, {}), SingleRequest, False)
    assert request.p.values[N - 3] == 1.2345678901234568e29
    values[N - 3] = "1" + "0" * 400  # beyond float64
    error = _first(_single(values))
    assert error["loc"] == ("body", "p", N - 3) and error["type"] == "number_range"


def _chunk_start(values: list[str]) -> int:
    """The index of the element the first chunk boundary falls into."""
    length = len('{"p": [')
    for index, value in enumerate(values):
        length += len(value) + 1
        if length > CHUNK_BYTES:
            return index
    raise AssertionError


@pytest.mark.parametrize("offset", range(-2, 3))
def test_an_error_straddling_a_chunk_boundary_is_named(offset: int) -> None:
    values = [NUMBER] * N
    at = _chunk_start(values) + offset
    values[at] = '"' + ",".join(["9"] * 40) + ',"'  # a string wide enough to cross it
    assert _first(_single(values)) == {
        "loc": ("body", "p", at),
        "msg": "expected a number, got str",
        "type": "number_type",
    }
    values[at] = "[" + ",".join(["0.1"] * 40) + "]"  # a nested array across the boundary
    assert _first(_single(values))["loc"] == ("body", "p", at)


def test_many_errors_across_chunks_are_counted() -> None:
    values = [NUMBER if i % 1000 else "null" for i in range(N)]
    errors, total = _errors(_single(values))
    assert total == N // 1000 and len(errors) == 20
    assert [e["loc"][2] for e in errors[:3]] == [0, 1000, 2000]


def _rows(count: int = 20_000, width: int = 20) -> list[str]:
    return ["[" + ",".join(["0.05"] * width) + "]"] * count


@pytest.mark.parametrize("row", [1, 7, 10_000, 19_999])
def test_batches_are_judged_row_by_row(row: int) -> None:
    rows = _rows()
    rows[row] = "[0.5,0.5]"
    assert _first(_single(rows)) == {
        "loc": ("body", "p", row),
        "msg": f"row {row} has 2 values, row 0 has 20",
        "type": "ragged_batch",
    }
    rows = _rows()
    rows[row] = "0.5"
    assert _first(_single(rows))["type"] == "batch_shape"
    rows = _rows()
    rows[row] = "[" + ",".join(["0.05"] * 19 + ["true"]) + "]"
    assert _first(_single(rows))["loc"] == ("body", "p", row, 19)
    rows = _rows()
    rows[row] = "[" + ",".join(["0.05"] * 19 + ["[0.05]"]) + "]"  # flattening would hide it
    assert _first(_single(rows))["loc"] == ("body", "p", row, 19)


def test_valid_batches_and_pairs_are_read_exactly() -> None:
    rng = np.random.default_rng(3)
    batch = rng.random((5_000, 40))
    body = json.dumps({"p": batch.tolist(), "normalize": True}).encode()
    assert len(body) > 3 * CHUNK_BYTES
    request = parse_request(RawBody("application/json", body, {}), SingleRequest, False)
    np.testing.assert_array_equal(request.p.values, batch)  # repr round-trips
    p, q = rng.random(100_000), rng.random(100_000)
    body = json.dumps({"unit": "bits", "p": p.tolist(), "q": q.tolist(), "normalize": True})
    request = parse_request(RawBody("application/json", body.encode(), {}), PairRequest, True)
    np.testing.assert_array_equal(request.q.values, q)
    assert request.unit == "bits"


@pytest.mark.parametrize(
    ("edit", "loc", "kind"),
    [
        (lambda b: b[:-2] + b",]}", ("body",), "json_invalid"),  # a trailing comma
        (lambda b: b.replace(b",", b",,", 1), ("body",), "json_invalid"),
        (lambda b: b[:-3], ("body",), "json_invalid"),  # cut short
        (lambda b: b + b"x", ("body",), "json_invalid"),
        (lambda b: b[:-2] + b"}}", ("body",), "json_invalid"),  # [ closed by }
        (lambda b: b[:-1] + b', "unit": "bits", "unit": "nats"}', ("body",), "duplicate_key"),
        (lambda b: b[:-1] + b', "tolerance": NaN}', ("body",), "json_invalid"),
        (lambda b: b[:-1] + b', "zzz": [1, 2]}', ("body", "zzz"), "extra_forbidden"),
        (lambda b: b[:-1] + b', "unit": "furlongs"}', ("body", "unit"), "literal_error"),
    ],
)
def test_the_top_level_is_as_strict_as_before(edit: Any, loc: tuple[Any, ...], kind: str) -> None:
    error = _first(edit(_single([NUMBER] * N)))
    assert error["loc"] == loc and error["type"] == kind


def test_over_http_the_same_locs(client: TestClient) -> None:
    values = [NUMBER] * N
    values[N - 1] = "1" + "0" * 400
    r = client.post("/v1/entropy", content=_single(values))
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "p", N - 1]
    values[N - 1] = NUMBER
    body = b'{"p": {"\\ud800": 0.5}, "q": [' + ",".join(values).encode() + b"]}"
    r = client.post("/v1/kl-divergence", content=body)
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "json_invalid"
    r = client.post("/v1/entropy", content=_single(values) + b"  \n")
    assert r.status_code == 200 and r.json()["value"] == pytest.approx(np.log(N))

"""Binary (.npy) bodies, the fast JSON path, and request size limits."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

NPY = {"content-type": "application/x-npy"}


def npy(array: np.ndarray, fortran: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asfortranarray(array) if fortran else array)
    return buffer.getvalue()


def _pair(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p, q = rng.random(n), rng.random(n)
    p[::7] = 0
    return p / p.sum(), q / q.sum()


def test_npy_pair_matches_json_and_scipy(client: TestClient) -> None:
    p, q = _pair(1000)
    binary = client.post("/v1/kl-divergence?unit=bits", content=npy(np.stack([p, q])), headers=NPY)
    as_json = client.post(
        "/v1/kl-divergence", json={"p": p.tolist(), "q": q.tolist(), "unit": "bits"}
    )
    assert binary.status_code == 200, binary.text
    assert binary.json() == as_json.json()
    assert binary.json()["value"] == pytest.approx(stats.entropy(p, q, base=2), rel=1e-12)


def test_npy_batches_dtypes_and_fortran_order(client: TestClient) -> None:
    p, q = _pair(60, seed=3)
    stacked = np.stack([p.reshape(6, 10), q.reshape(6, 10)])
    stacked /= stacked.sum(axis=-1, keepdims=True)
    body = client.post("/v1/js-divergence", content=npy(stacked, fortran=True), headers=NPY).json()
    expected = distance.jensenshannon(stacked[0], stacked[1], axis=1)
    assert body["distance"] == pytest.approx(expected.tolist(), rel=1e-12)
    counts = np.array([3, 1, 0, 4], dtype=np.int32)
    body = client.post(
        "/v1/entropy?normalize=true&unit=bits", content=npy(counts), headers=NPY
    ).json()
    assert body["value"] == pytest.approx(stats.entropy(counts, base=2), rel=1e-12)
    assert body["normalized"] is True
    f32 = np.array([0.25, 0.75], dtype=np.float32)
    assert client.post("/v1/information?unit=bits", content=npy(f32), headers=NPY).json()[
        "value"
    ] == pytest.approx([2.0, 0.4150374992788438])


def test_npy_smoothing_from_the_query(client: TestClient) -> None:
    pair = np.array([[0.5, 0.3, 0.2], [0.6, 0.4, 0.0]])
    r = client.post(
        "/v1/kl-divergence?smoothing_alpha=0.01&smoothing_apply_to=q",
        content=npy(pair),
        headers=NPY,
    )
    smoothed = (pair[1] + 0.01) / 1.03
    assert r.json()["value"] == pytest.approx(stats.entropy(pair[0], smoothed), rel=1e-12)
    assert r.json()["smoothing"]["alpha"] == 0.01


@pytest.mark.parametrize(
    ("path", "body", "loc", "kind"),
    [
        ("/v1/kl-divergence", npy(np.ones(4) / 4), ["body"], "npy"),  # not (2, n)
        (
            "/v1/kl-divergence",
            npy(np.array([[0.5, 0.5], [1.5, -0.5]])),
            ["body", "q", 1],
            "negative",
        ),
        ("/v1/entropy", npy(np.array([0.5, np.nan])), ["body", "p", 1], "not_finite"),
        ("/v1/entropy", npy(np.array([0.5, 0.6])), ["body", "p"], "sum_not_one"),
        ("/v1/entropy", npy(np.array(["a", "b"])), ["body"], "npy"),
        ("/v1/entropy", b"\x93NUMPY garbage", ["body"], "npy"),
        ("/v1/entropy", npy(np.ones(10) / 10)[:-8], ["body"], "npy"),  # truncated
        ("/v1/entropy", npy(np.ones((2, 2, 2)) / 2), ["body", "p"], "distribution_shape"),
    ],
)
def test_bad_npy_bodies(
    client: TestClient, path: str, body: bytes, loc: list[Any], kind: str
) -> None:
    r = client.post(path, content=body, headers=NPY)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["loc"] == loc and r.json()["errors"][0]["type"] == kind


def test_bad_npy_query_options(client: TestClient) -> None:
    r = client.post("/v1/entropy?unit=dits", content=npy(np.ones(2) / 2), headers=NPY)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "unit"]


def test_duplicate_keys_and_deep_nesting_are_refused(client: TestClient) -> None:
    raw = b'{"p": {"a": 0.5, "a": 0.5}, "q": {"a": 1.0}}'
    r = client.post("/v1/kl-divergence", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "duplicate_key"
    assert "'a'" in r.json()["detail"]
    deep = b'{"p": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    r = client.post("/v1/entropy", content=deep, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


def test_fast_json_path_keeps_strict_validation(client: TestClient) -> None:
    cases: list[tuple[dict[str, Any], list[Any]]] = [
        ({"p": [0.5, True], "q": [0.5, 0.5]}, ["body", "p", 1]),
        ({"p": [[0.5, 0.5], [0.5, "x"]], "q": [[0.5, 0.5], [0.5, 0.5]]}, ["body", "p", 1, 1]),
        ({"p": [0.5, 0.5], "q": [0.5, 0.5], "extra": 1}, ["body", "extra"]),
        ({"p": [0.5, 0.5], "q": [0.5, 0.5], "unit": None}, ["body", "unit"]),
        ({"p": [[0.5], [0.5]], "q": [0.5, 0.5]}, ["body", "q"]),  # 2-D p, 1-D q of another width
        ({"p": [[[1.0]], [[1.0]]], "q": [[1.0], [1.0]]}, ["body", "p", 0, 0]),  # nested singletons
        ({"p": [[0.5, [0.5]]], "q": [[0.5, 0.5]]}, ["body", "p", 0, 1]),
    ]
    for body, loc in cases:
        r = client.post("/v1/kl-divergence", json=body)
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == loc, (body, r.text)


@pytest.fixture
def small_limits(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, max_json_bytes=4096, max_binary_bytes=8192)
    with TestClient(create_app(settings)) as client:
        yield client


def test_size_limits_answer_413(small_limits: TestClient) -> None:
    big = {"p": [0.001] * 1000, "q": [0.001] * 1000}
    r = small_limits.post("/v1/kl-divergence", json=big)
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert (
        "DIVERGENCE_MAX_JSON_BYTES" in r.json()["detail"]
        and r.json()["title"] == "Content Too Large"
    )
    over = npy(np.ones((2, 520)) / 520)  # 8,320 bytes of data plus the header: over 8192
    r = small_limits.post("/v1/kl-divergence", content=over, headers=NPY)
    assert r.status_code == 413 and "DIVERGENCE_MAX_BINARY_BYTES" in r.json()["detail"]
    small = npy(np.ones((2, 400)) / 400)
    assert small_limits.post("/v1/kl-divergence", content=small, headers=NPY).status_code == 200

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"p": ['
        for _ in range(1000):
            yield b"0.001, "
        yield b'0.0], "q": [1.0]}'

    r = small_limits.post(
        "/v1/entropy", content=chunked(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413
    assert small_limits.get("/healthz").status_code == 200

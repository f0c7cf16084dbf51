"""POST /v1/matrix: every row of p against every row of q, over HTTP, JSON and .npy.

References: scipy (``cdist`` for JS, total variation and Hellinger, ``rel_entr`` and ``xlogy``
sums for KL and cross-entropy, ``chisquare`` for Pearson), and the single-pair endpoints'
own answers, entry by entry, to 1e-12."""

from __future__ import annotations

import asyncio
import io
import json
import math
import threading
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats
from scipy.spatial.distance import cdist

from app.config import Settings
from app.main import create_app
from app.schemas.matrix import MATRIX_MEASURE_NAMES, MatrixResponse, NearestResponse
from app.services import matrix as service
from divergence_client import AsyncDivergenceClient, DivergenceClient, cli

URL = "/v1/matrix"
NPY = "application/x-npy"
NPZ = "application/x-npz"
# each matrix measure's single-pair endpoint, and the field of its answer
PAIR_ENDPOINT = {
    "cross_entropy": ("/v1/cross-entropy", "value"),
    "kl_divergence": ("/v1/kl-divergence", "value"),
    "js_divergence": ("/v1/js-divergence", "value"),
    "js_distance": ("/v1/js-divergence", "distance"),
    "hellinger_distance": ("/v1/hellinger-distance", "value"),
    "bhattacharyya_coefficient": ("/v1/bhattacharyya-coefficient", "value"),
    "total_variation": ("/v1/total-variation", "value"),
    "pearson_chi_square": ("/v1/pearson-chi-square", "value"),
}


def _sets(m: int = 6, k: int = 4, n: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p, q = rng.random((m, n)), rng.random((k, n))
    p[0, 1] = 0.0  # zeros in both, and a zero of q under p's mass: infinite KL
    q[1, 2] = 0.0
    return p / p.sum(axis=1, keepdims=True), q / q.sum(axis=1, keepdims=True)


P, Q = _sets()


def _grid(values: list[list[Any]]) -> np.ndarray:
    return np.array([[float(v) for v in row] for row in values])


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _matrix(client: TestClient, **body: Any) -> np.ndarray:
    r = client.post(
        URL, json={k: v.tolist() if hasattr(v, "tolist") else v for k, v in body.items()}
    )
    assert r.status_code == 200, r.text
    assert r.json()["shape"] == [len(body["p"]), len(body.get("q", body["p"]))]
    return _grid(r.json()["value"])


def _scipy(measure: str, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The matrix by scipy: cdist where it has the measure, else its per-pair functions."""
    sqrt_p, sqrt_q = np.sqrt(p), np.sqrt(q)
    if measure in ("js_divergence", "js_distance"):
        distance = cdist(p, q, "jensenshannon")
        return distance if measure == "js_distance" else distance**2
    if measure == "total_variation":
        return cdist(p, q, "cityblock") / 2
    if measure == "hellinger_distance":  # ||sqrt p - sqrt q|| / sqrt 2 = sqrt(1 - BC)
        return cdist(sqrt_p, sqrt_q, "euclidean") / np.sqrt(2)
    if measure == "bhattacharyya_coefficient":
        return 1 - cdist(sqrt_p, sqrt_q, "sqeuclidean") / 2
    pair = {
        "kl_divergence": lambda u, v: special.rel_entr(u, v).sum(),
        "cross_entropy": lambda u, v: -special.xlogy(u, v).sum(),
        "pearson_chi_square": _pearson,
    }[measure]
    return np.array([[pair(u, v) for v in q] for u in p])


def _pearson(u: np.ndarray, v: np.ndarray) -> float:
    """scipy's statistic on the events where q > 0; infinite where p > 0 = q."""
    if (u[v == 0] > 0).any():
        return np.inf
    return float(stats.chisquare(u[v > 0], v[v > 0]).statistic)


@pytest.mark.parametrize("measure", MATRIX_MEASURE_NAMES)
def test_entries_equal_scipy_and_the_pair_endpoints(client: TestClient, measure: str) -> None:
    ours = _matrix(client, p=P, q=Q, measure=measure)
    expected = _scipy(measure, P, Q)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-14)
    path, field = PAIR_ENDPOINT[measure]
    for j, q_row in enumerate(Q):  # the batch p against one row of q is column j
        column = client.post(path, json={"p": P.tolist(), "q": q_row.tolist()}).json()[field]
        np.testing.assert_allclose(ours[:, j], [float(v) for v in column], rtol=1e-12, atol=1e-14)


def test_units_and_infinity(client: TestClient) -> None:
    nats = _matrix(client, p=P, q=Q, measure="kl_divergence")
    bits = _matrix(client, p=P, q=Q, measure="kl_divergence", unit="bits")
    np.testing.assert_allclose(bits, nats / np.log(2), rtol=1e-13)
    # q[1] has no mass on event 2, where every row of p has some: KL infinite, never NaN
    assert (nats[:, 1] == np.inf).all() and np.isfinite(np.delete(nats, 1, axis=1)).all()
    r = client.post(
        URL, json={"p": [[0.5, 0.5]], "q": [[1, 0], [0.5, 0.5]], "measure": "kl_divergence"}
    )
    assert r.json() == {
        "measure": "kl_divergence",
        "unit": "nats",
        "normalized": False,
        "smoothing": None,
        "shape": [1, 2],
        "value": [["Infinity", 0.0]],
    }
    js = _matrix(client, p=[[1, 0]], q=[[0, 1]], measure="js_divergence", unit="bits")
    assert js.tolist() == [[1.0]]  # disjoint supports: JS = 1 bit exactly
    unitless = client.post(URL, json={"p": P.tolist(), "measure": "total_variation"}).json()
    assert "unit" not in unitless and MatrixResponse.model_validate(unitless).unit is None


@pytest.mark.parametrize("measure", MATRIX_MEASURE_NAMES)
def test_self_matrix(client: TestClient, measure: str) -> None:
    alone = _matrix(client, p=P, measure=measure)
    off = ~np.eye(len(P), dtype=bool)  # scipy's JS of a row with itself may be NaN
    np.testing.assert_allclose(alone[off], _scipy(measure, P, P)[off], rtol=1e-12, atol=1e-14)
    if measure == "cross_entropy":  # H(p, p) = H(p)
        np.testing.assert_allclose(np.diag(alone), stats.entropy(P, axis=1), rtol=1e-12)
    else:  # exact: 0 for the divergences and distances, 1 for the coefficient
        assert (np.diag(alone) == (measure == "bhattacharyya_coefficient")).all()
    if measure not in ("kl_divergence", "cross_entropy", "pearson_chi_square"):
        assert (alone == alone.T).all()


@pytest.mark.parametrize("measure", ["kl_divergence", "js_distance", "bhattacharyya_coefficient"])
def test_top_k_is_the_sorted_matrix(client: TestClient, measure: str) -> None:
    full = _matrix(client, p=P, q=Q, measure=measure)
    r = client.post(URL, json={"p": P.tolist(), "q": Q.tolist(), "measure": measure, "top_k": 3})
    assert r.status_code == 200, r.text
    found = NearestResponse.model_validate_json(r.content)
    assert found.shape == [len(P), 3]
    key = -full if measure == "bhattacharyya_coefficient" else full  # a similarity: largest
    order = np.argsort(key, axis=1, kind="stable")[:, :3]
    assert np.array(found.indices).tolist() == order.tolist()
    np.testing.assert_array_equal(found.values, np.take_along_axis(full, order, axis=1))
    if measure == "kl_divergence":  # q[1] is infinitely far from every row: never among 3 of 4
        assert 1 not in np.array(found.indices)


def test_ties_go_to_the_lower_index_and_infinity_last(client: TestClient) -> None:
    q = [[0.5, 0.5, 0], [1, 0, 0], [0.5, 0.5, 0], [0, 0, 1]]
    r = client.post(
        URL, json={"p": [[0.5, 0.5, 0]], "q": q, "measure": "kl_divergence", "top_k": 4}
    )
    assert r.json()["indices"] == [[0, 2, 1, 3]]
    assert r.json()["values"] == [[0.0, 0.0, "Infinity", "Infinity"]]


def test_npy_in_and_out(client: TestClient) -> None:
    expected = _matrix(client, p=P, q=Q, measure="js_divergence")
    stacked = _npy(np.vstack([P, Q]))
    headers = {"content-type": NPY, "accept": NPY}
    r = client.post(
        f"{URL}?measure=js_divergence&p_rows={len(P)}", content=stacked, headers=headers
    )
    assert r.status_code == 200 and r.headers["content-type"] == NPY, r.text
    answer = np.load(io.BytesIO(r.content))
    assert answer.dtype == np.float64 and answer.shape == (len(P), len(Q))
    np.testing.assert_array_equal(answer, expected)  # JSON round-trips float64 exactly
    alone = client.post(
        f"{URL}?measure=kl_divergence&normalize=true",
        content=_npy(P.astype(np.float32) * 2),
        headers=headers,
    )
    assert alone.status_code == 200, alone.text
    kl = np.load(io.BytesIO(alone.content))
    np.testing.assert_allclose(kl, _scipy("kl_divergence", *[_f32(P)] * 2), rtol=1e-12)
    infinite = client.post(
        f"{URL}?measure=kl_divergence&p_rows=1",
        headers=headers,
        content=_npy(np.array([[0.5, 0.5], [1.0, 0.0]])),
    )
    assert np.load(io.BytesIO(infinite.content)).tolist() == [[np.inf]]
    nearest = client.post(
        f"{URL}?measure=kl_divergence&top_k=2&p_rows={len(P)}",
        content=stacked,
        headers={"content-type": NPY, "accept": f"{NPZ}, {NPY}"},
    )
    assert nearest.headers["content-type"] == NPZ, nearest.text
    with np.load(io.BytesIO(nearest.content)) as archive:
        indices, values = archive["indices"], archive["values"]
    as_json = client.post(
        URL, json={"p": P.tolist(), "q": Q.tolist(), "measure": "kl_divergence", "top_k": 2}
    ).json()
    assert (
        indices.tolist() == as_json["indices"]
        and values.tolist() == _grid(as_json["values"]).tolist()
    )


def _f32(p: np.ndarray) -> np.ndarray:
    wide = (p.astype(np.float32) * 2).astype(np.float64)
    return wide / wide.sum(axis=1, keepdims=True)


@pytest.mark.parametrize(
    ("accept", "top_k", "status"),
    [
        ("text/html", None, 406),
        (NPZ, None, 406),
        (NPY, 1, 406),
        ("*/*", None, 200),
        (f"{NPY};q=0.5, application/json", None, 200),
        (f"{NPY}, */*;q=0.1", None, 200),
    ],
)
def test_accept(client: TestClient, accept: str, top_k: int | None, status: int) -> None:
    body = {"p": [[0.5, 0.5]], "measure": "total_variation", "top_k": top_k}
    r = client.post(
        URL, json={k: v for k, v in body.items() if v is not None}, headers={"accept": accept}
    )
    assert r.status_code == status, r.text
    if status == 406:
        assert r.headers["content-type"] == "application/problem+json"
    else:
        wanted = NPY if accept.startswith(f"{NPY},") else "application/json"
        assert r.headers["content-type"] == wanted


BAD = [
    ({"measure": "kl"}, ["body", "measure"], "measure"),
    ({"measure": "hellinger_distance", "unit": "bits"}, ["body", "unit"], "unit_not_allowed"),
    ({"p": [[0.5, 0.5], [1.0]]}, ["body", "p", 1], "ragged_batch"),
    ({"p": [[0.5, 0.5], [1.2, -0.2]]}, ["body", "p", 1, 1], "negative"),
    ({"p": [[0.5, 0.5], [0.5, 0.4]]}, ["body", "p", 1], "sum_not_one"),
    ({"p": [0.5, 0.5]}, ["body", "p"], "rows_shape"),
    ({"q": [[0.2, 0.3, 0.5]]}, ["body", "q"], "length_mismatch"),
    ({"top_k": 0}, ["body", "top_k"], "greater_than_equal"),
    ({"top_k": 3}, ["body", "top_k"], "top_k_range"),
    ({"p": [[0, 0], [1, 1]], "normalize": True}, ["body", "p", 0], "zero_sum"),
]


@pytest.mark.parametrize(("change", "loc", "kind"), BAD)
def test_bad_input_is_422_naming_the_field(
    client: TestClient, change: dict[str, Any], loc: list[Any], kind: str
) -> None:
    body = {"p": [[0.5, 0.5], [0.9, 0.1]], "measure": "kl_divergence", **change}
    r = client.post(URL, json=body)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["loc"] == loc and r.json()["errors"][0]["type"] == kind, r.text


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("measure=hellinger_distance&unit=bits", ["query", "unit"]),
        ("measure=kl", ["query", "measure"]),
        ("measure=kl_divergence&p_rows=2", ["query", "p_rows"]),
        ("measure=js_divergence&top=1", ["query", "top"]),
        ("measure=js_divergence&top_k=3", ["query", "top_k"]),
        ("top_k=1", ["query", "measure"]),
    ],
)
def test_bad_npy_options_name_the_query(client: TestClient, query: str, loc: list[str]) -> None:
    body = _npy(np.array([[0.5, 0.5], [0.9, 0.1]]))
    r = client.post(f"{URL}?{query}", content=body, headers={"content-type": NPY})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == loc, r.text
    json_with_query = client.post(
        f"{URL}?unit=bits", json={"p": [[1.0]], "measure": "kl_divergence"}
    )
    assert json_with_query.status_code == 422
    assert json_with_query.json()["errors"][0]["loc"] == ["query", "unit"]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """An app whose matrix limits are small: 12 cells, 60 units of work, 6 JSON values."""
    limits = {"max_matrix_cells": 12, "max_matrix_work": 60, "max_matrix_json_cells": 6}
    data = tmp_path_factory.mktemp("matrix") / "data"
    return TestClient(create_app(Settings(data_dir=data, **limits)))


def test_over_the_settings_is_413_before_any_work(
    small: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_work(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("computed although over a limit")

    monkeypatch.setattr(service, "pairwise", no_work)
    monkeypatch.setattr(service, "nearest", no_work)
    row = [0.125] * 8
    cases = {  # top_k answers 13 values as JSON, within the JSON limit: the others speak
        "DIVERGENCE_MAX_MATRIX_CELLS": {"p": [[1.0]] * 13, "top_k": 1},  # 169 cells
        "DIVERGENCE_MAX_MATRIX_WORK": {"p": [row] * 3, "top_k": 1},  # 9 pairs x 8 events
        "DIVERGENCE_MAX_MATRIX_JSON_CELLS": {"p": [[1.0]] * 3},  # 9 values
    }
    for setting, body in cases.items():
        r = small.post(URL, json={**body, "measure": "kl_divergence"})
        assert r.status_code == 413 and setting in r.json()["detail"], (setting, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    monkeypatch.undo()
    # within the cells and the work, the JSON limit alone: .npy, or top_k, is answered
    binary = small.post(
        URL, json={"p": [[1.0]] * 3, "measure": "kl_divergence"}, headers={"accept": NPY}
    )
    assert binary.status_code == 200 and np.load(io.BytesIO(binary.content)).shape == (3, 3)
    nearest = small.post(URL, json={"p": [[1.0]] * 3, "measure": "kl_divergence", "top_k": 2})
    assert nearest.status_code == 200 and nearest.json()["shape"] == [3, 2]


def test_only_tiny_work_runs_on_the_event_loop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    threads: list[int] = []
    work = service.matrix

    def recorded(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return work(*args, **kwargs)

    monkeypatch.setattr(service, "matrix", recorded)
    app = create_app(Settings(data_dir=tmp_path / "data"))
    rows = np.full((20, 16), 1 / 16)  # 20 x 20 pairs x 16 events: over INLINE_MAX_WORK
    bodies = [
        {"json": {"p": [[0.5, 0.5]], "measure": "js_divergence"}},  # tiny: on the loop
        {"json": {"p": rows.tolist(), "measure": "js_divergence"}},  # a small body, more work
        {"content": _npy(np.full((200, 16), 1 / 16)), "headers": {"content-type": NPY}},
    ]

    async def call() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return [(await c.post(URL, params=_query(body), **body)).status_code for body in bodies]

    assert asyncio.run(call()) == [200, 200, 200]  # the loop runs in this thread
    loop = threading.get_ident()
    assert threads[0] == loop and loop not in threads[1:] and len(threads) == 3


def _query(body: dict[str, Any]) -> dict[str, str]:
    return {"measure": "js_divergence"} if "content" in body else {}


@settings(max_examples=25, deadline=None)
@given(
    measure=st.sampled_from(MATRIX_MEASURE_NAMES),
    seed=st.integers(0, 2**32 - 1),
    shape=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 6)),
)
def test_rows_equal_the_pair_endpoint(
    client: TestClient, measure: str, seed: int, shape: tuple[int, int, int]
) -> None:
    m, k, n = shape
    rng = np.random.default_rng(seed)
    p, q = rng.random((m, n)) * (rng.random((m, n)) < 0.8), rng.random((k, n))
    p[:, 0] += 1e-3  # no row of zeros
    q[:, -1] += 1e-3
    p, q = p / p.sum(axis=1, keepdims=True), q / q.sum(axis=1, keepdims=True)
    ours = _matrix(client, p=p, q=q, measure=measure)
    path, field = PAIR_ENDPOINT[measure]
    for i in range(m):
        row = client.post(path, json={"p": p[i].tolist(), "q": q.tolist()}).json()[field]
        np.testing.assert_allclose(ours[i], [float(v) for v in row], rtol=1e-12, atol=1e-14)


def _forwarding(server: TestClient, seen: list[str] | None = None) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request.headers.get("content-type", ""))
        answer = server.request(
            request.method,
            str(request.url.copy_with(scheme="http")),
            content=request.content,
            headers=request.headers,
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return httpx.MockTransport(handle)


def test_clients(client: TestClient) -> None:
    expected = _scipy("js_divergence", P, Q)
    seen: list[str] = []
    with DivergenceClient("http://test", transport=_forwarding(client, seen)) as sync:
        from_lists = sync.matrix(P.tolist(), Q.tolist(), measure="js_divergence")
        from_arrays = sync.matrix(P, Q, measure="js_divergence", tolerance=1e-9)
        alone = sync.matrix(P, measure="hellinger_distance")
        nearest = sync.matrix(P, Q, measure="kl_divergence", top_k=2, unit="bits")
    assert isinstance(from_lists, MatrixResponse) and isinstance(nearest, NearestResponse)
    np.testing.assert_allclose(from_lists.value, expected, rtol=1e-12, atol=1e-14)
    assert from_arrays.value == from_lists.value and alone.shape == [len(P), len(P)]
    assert seen == ["application/json", NPY, NPY, NPY]  # numpy arrays go as one .npy body
    assert nearest.unit == "bits" and np.array(nearest.indices).shape == (len(P), 2)

    async def asynchronous() -> Any:
        transport = httpx.ASGITransport(app=client.app)
        async with AsyncDivergenceClient("http://test", transport=transport) as c:
            return await c.matrix(P, Q, measure="js_divergence", smoothing={"alpha": 0.5})

    smoothed = asyncio.run(asynchronous())
    assert smoothed.smoothing is not None and smoothed.smoothing.alpha == 0.5
    sp, sq = (P + 0.5) / (1 + 0.5 * P.shape[1]), (Q + 0.5) / (1 + 0.5 * Q.shape[1])
    np.testing.assert_allclose(smoothed.value, _scipy("js_divergence", sp, sq), rtol=1e-12)


def test_cli(client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(
        cli,
        "DivergenceClient",
        lambda url, api_key=None: DivergenceClient(url, transport=_forwarding(client)),
    )
    (tmp_path / "p.json").write_text(json.dumps([[0.5, 0.5], [0.9, 0.1]]))
    (tmp_path / "q.json").write_text(json.dumps([[1, 0], [0.5, 0.5], [0.8, 0.2]]))
    files = [str(tmp_path / "p.json"), str(tmp_path / "q.json")]
    out = io.StringIO()
    args = ["matrix", *files, "--measure", "kl-divergence", "--top-k", "1", "--unit", "bits"]
    assert cli.main(args, out=out) == 0
    by_hand = 0.9 * math.log2(0.9 / 0.8) + 0.1 * math.log2(0.1 / 0.2)  # [0.9, 0.1] || [0.8, 0.2]
    assert out.getvalue().splitlines() == [
        "kl_divergence in bits, 2 x 1",
        "p[0]  1 (0)",
        f"p[1]  2 ({by_hand:.10g})",
    ]
    out = io.StringIO()
    assert cli.main(["matrix", files[0], "--measure", "total_variation", "--json"], out=out) == 0
    answer = json.loads(out.getvalue())
    assert answer["shape"] == [2, 2] and np.allclose(answer["value"], [[0, 0.4], [0.4, 0]])
    assert cli.main(["matrix", *files, "--measure", "total_variation", "--unit", "bits"]) == 1


def test_keyed_numeric_access_checks_the_key_first(tmp_path: Path) -> None:
    keyed = Settings(data_dir=tmp_path / "data", numeric_access="keyed", api_keys="secret-key")
    server = TestClient(create_app(keyed))
    body = {"p": [[0.5, 0.5]], "measure": "js_divergence"}
    assert server.post(URL, json=body).status_code == 401
    assert server.post(URL, json=body, headers={"x-api-key": "wrong"}).status_code == 403
    assert server.post(URL, json=body, headers={"x-api-key": "secret-key"}).status_code == 200

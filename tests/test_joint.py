"""Joint tables: mutual information and its relatives, against hand-computed tables, scipy's
entropies and contingency margins, high-precision sums (decimal), and their identities."""

from __future__ import annotations

import asyncio
import io
import json
import math
import warnings
from collections import Counter
from decimal import Decimal, getcontext
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.stats import contingency

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.config import Settings
from app.infotheory import joint
from app.main import create_app
from divergence_client import AsyncDivergenceClient, DivergenceClient, cli

LN2 = math.log(2)
INFO = "/v1/joint/information"
CMI = "/v1/joint/conditional-mutual-information"


def _h(p: Any) -> float:
    """Entropy in nats by scipy (an independent implementation)."""
    return float(stats.entropy(np.ravel(p)))


def _table_from_labels(*columns: list[int]) -> np.ndarray:
    """The joint distribution of paired labels, counted with collections.Counter."""
    sides = [sorted(set(c)) for c in columns]
    table = np.zeros([len(s) for s in sides])
    for key, count in Counter(zip(*columns, strict=True)).items():
        table[tuple(s.index(v) for s, v in zip(sides, key, strict=True))] = count
    return table / len(columns[0])


# -- reference values --------------------------------------------------------------------


def test_a_two_by_two_table_by_hand() -> None:
    # p(x) = (1/2, 1/2), p(y) = (1/4, 3/4); I = sum P log2(P / (p_x p_y)) over three cells
    info = joint.joint_information([[0.25, 0.25], [0.0, 0.5]], "bits")
    mi = 0.25 * math.log2(2) + 0.25 * math.log2(2 / 3) + 0.5 * math.log2(4 / 3)
    hy = -(0.25 * math.log2(0.25) + 0.75 * math.log2(0.75))
    assert info.mutual_information == pytest.approx(mi, abs=1e-15)
    assert info.entropy_x == 1.0 and info.joint_entropy == pytest.approx(1.5, abs=1e-15)
    assert info.entropy_y == pytest.approx(hy, abs=1e-15)
    assert info.conditional_entropy_x_given_y == pytest.approx(1.5 - hy, abs=1e-15)
    assert info.conditional_entropy_y_given_x == pytest.approx(0.5, abs=1e-15)
    assert info.variation_of_information == pytest.approx(1.5 - mi, abs=1e-15)


def test_an_independent_table_has_no_mutual_information() -> None:
    px, py = np.array([0.2, 0.3, 0.5]), np.array([0.1, 0.6, 0.3])
    info = joint.joint_information(np.outer(px, py))
    assert info.mutual_information == pytest.approx(0.0, abs=1e-15)
    assert info.conditional_entropy_x_given_y == pytest.approx(_h(px), abs=1e-15)
    assert all(v == pytest.approx(0.0, abs=1e-14) for v in info.normalized.values())
    assert info.normalized_variation_of_information == pytest.approx(1.0, abs=1e-14)


def test_a_diagonal_table_shares_everything() -> None:
    p = np.diag([0.1, 0.2, 0.3, 0.4])
    info = joint.joint_information(p)
    h = _h([0.1, 0.2, 0.3, 0.4])
    assert info.mutual_information == pytest.approx(h, abs=1e-15)
    assert info.joint_entropy == pytest.approx(h, abs=1e-15)
    assert info.variation_of_information == 0.0
    assert info.conditional_entropy_x_given_y == 0.0
    assert info.normalized == {v: 1.0 for v in joint.NMI_VARIANTS}


def test_marginals_and_entropies_against_scipy() -> None:
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 20, size=(7, 5)).astype(float)
    p = counts / counts.sum()
    info = joint.joint_information(p, "bans")
    mx, my = contingency.margins(p)
    np.testing.assert_allclose(info.marginal_x, mx.ravel(), rtol=1e-15)
    np.testing.assert_allclose(info.marginal_y, my.ravel(), rtol=1e-15)
    ln10 = math.log(10)
    assert info.entropy_x == pytest.approx(_h(mx) / ln10, rel=1e-13)
    assert info.entropy_y == pytest.approx(_h(my) / ln10, rel=1e-13)
    assert info.joint_entropy == pytest.approx(_h(p) / ln10, rel=1e-13)
    # the normalised variants from scipy's entropies (arithmetic: scikit-learn's default)
    hx, hy, hxy = _h(mx), _h(my), _h(p)
    mi = hx + hy - hxy
    assert info.normalized["arithmetic"] == pytest.approx(2 * mi / (hx + hy), rel=1e-12)
    assert info.normalized["geometric"] == pytest.approx(mi / math.sqrt(hx * hy), rel=1e-12)
    assert info.normalized["min"] == pytest.approx(mi / min(hx, hy), rel=1e-12)
    assert info.normalized["max"] == pytest.approx(mi / max(hx, hy), rel=1e-12)
    assert info.normalized["joint"] == pytest.approx(mi / hxy, rel=1e-12)


def _decimal_mi(p: np.ndarray) -> float:
    """sum P ln(P / (p_x p_y)) in 50-digit decimal arithmetic, from the same float cells."""
    getcontext().prec = 50
    cells = [[Decimal(float(v)) for v in row] for row in p]
    px = [sum(row, Decimal(0)) for row in cells]
    py = [sum(col, Decimal(0)) for col in zip(*cells, strict=True)]
    total = Decimal(0)
    for i, row in enumerate(cells):
        for j, v in enumerate(row):
            if v > 0:
                total += v * (v / (px[i] * py[j])).ln()
    return float(total)


def test_nearly_independent_tables_keep_their_digits() -> None:
    # I ~ 1e-13 here, 1e-14 of the entropies: their difference would keep no digit
    rng = np.random.default_rng(5)
    px, py = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(5))
    p = np.outer(px, py) * (1 + 1e-6 * rng.standard_normal((6, 5)))
    p /= p.sum()
    exact = _decimal_mi(p)
    assert 1e-14 < exact < 1e-11
    assert joint.mutual_information(p) == pytest.approx(exact, rel=1e-6)
    q = rng.dirichlet(np.ones(30)).reshape(6, 5)  # and a table far from independence
    assert joint.mutual_information(q) == pytest.approx(_decimal_mi(q), rel=1e-13)


def test_normalised_variants_of_constant_variables() -> None:
    both = joint.joint_information([[1.0]])
    assert both.normalized == {v: 1.0 for v in joint.NMI_VARIANTS}
    assert both.normalized_variation_of_information == 0.0
    one = joint.joint_information([[0.3, 0.7]])  # X constant, Y not: I = 0 = min(H) ...
    assert one.mutual_information == 0.0
    assert one.normalized == {v: 0.0 for v in joint.NMI_VARIANTS}


def test_conditional_mutual_information_of_xor() -> None:
    # Z = X xor Y with X, Y fair and independent: I(X; Y) = 0, I(X; Y | Z) = 1 bit
    p = np.zeros((2, 2, 2))
    for x in (0, 1):
        for y in (0, 1):
            p[x, y, x ^ y] = 0.25
    info = joint.conditional_information(p, "bits")
    assert info.conditional_mutual_information == pytest.approx(1.0, abs=1e-15)
    assert info.mutual_information == 0.0
    assert info.interaction_information == pytest.approx(-1.0, abs=1e-15)
    assert info.entropy_z == 1.0 and info.joint_entropy == pytest.approx(2.0, abs=1e-15)


def test_conditional_mutual_information_against_scipy_entropies() -> None:
    rng = np.random.default_rng(11)
    p = rng.dirichlet(np.ones(60)).reshape(3, 4, 5)
    expected = _h(p.sum(axis=1)) + _h(p.sum(axis=0)) - _h(p) - _h(p.sum(axis=(0, 1)))
    assert joint.conditional_mutual_information(p) == pytest.approx(expected, rel=1e-12)
    # with Z independent of (X, Y), conditioning changes nothing
    pxy = rng.dirichlet(np.ones(12)).reshape(3, 4)
    q = pxy[:, :, None] * np.array([0.2, 0.8])[None, None, :]
    info = joint.conditional_information(q)
    assert info.conditional_mutual_information == pytest.approx(
        joint.mutual_information(pxy), rel=1e-10
    )


# -- properties ---------------------------------------------------------------------------

tables = st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**32 - 1)).map(
    lambda t: np.random.default_rng(t[2]).integers(0, 5, size=t[:2]).astype(float)
)
labels = st.lists(st.integers(0, 3), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(tables)
def test_identities_and_bounds(counts: np.ndarray) -> None:
    if counts.sum() == 0:
        counts[0, 0] = 1
    p = counts / counts.sum()
    info = joint.joint_information(p)
    hx, hy, hxy, mi = info.entropy_x, info.entropy_y, info.joint_entropy, info.mutual_information
    assert abs(mi - (hx + hy - hxy)) <= 1e-12
    assert 0.0 <= mi <= min(hx, hy)
    assert 0.0 <= info.conditional_entropy_x_given_y <= hx
    assert 0.0 <= info.conditional_entropy_y_given_x <= hy
    assert abs(info.conditional_entropy_x_given_y - (hxy - hy)) <= 1e-12
    assert abs(info.variation_of_information - (hxy - mi)) <= 1e-12
    assert all(0.0 <= v <= 1.0 for v in info.normalized.values())
    assert abs(mi - _h(p.sum(1)) - _h(p.sum(0)) + _h(p)) <= 1e-12


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 40).flatmap(lambda n: st.tuples(*[st.lists(st.integers(0, 3), min_size=n,
       max_size=n)] * 3)))  # fmt: skip
def test_variation_of_information_is_a_metric(columns: tuple[list[int], ...]) -> None:
    a, b, c = columns

    def vi(u: list[int], v: list[int]) -> float:
        return joint.joint_information(_table_from_labels(u, v)).variation_of_information

    assert vi(a, b) == pytest.approx(vi(b, a), abs=1e-12)
    assert vi(a, c) <= vi(a, b) + vi(b, c) + 1e-12
    assert vi(a, a) == pytest.approx(0.0, abs=1e-15)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 40).flatmap(lambda n: st.tuples(*[st.lists(st.integers(0, 2), min_size=n,
       max_size=n)] * 3)))  # fmt: skip
def test_conditional_mutual_information_is_not_negative(columns: tuple[list[int], ...]) -> None:
    info = joint.conditional_information(_table_from_labels(*columns))
    cmi = info.conditional_mutual_information
    assert 0.0 <= cmi <= min(info.conditional_entropy_x_given_z, info.conditional_entropy_y_given_z)
    p = _table_from_labels(*columns)
    expected = _h(p.sum(axis=1)) + _h(p.sum(axis=0)) - _h(p) - _h(p.sum(axis=(0, 1)))
    assert cmi == pytest.approx(max(expected, 0.0), abs=1e-12)


# -- the endpoints -------------------------------------------------------------------------


def test_a_label_map_of_counts(client: TestClient) -> None:
    # an inner label missing from one map counts 0
    table = {"rain": {"umbrella": 30, "none": 5}, "sun": {"none": 60, "hat": 5}}
    r = client.post(INFO, json={"table": table, "normalize": True, "unit": "bits"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["labels_x"] == ["rain", "sun"] and body["labels_y"] == ["umbrella", "none", "hat"]
    p = np.array([[30, 5, 0], [0, 60, 5]]) / 100
    px, py = p.sum(1), p.sum(0)
    mi = sum(p[i, j] * math.log2(p[i, j] / (px[i] * py[j])) for i, j in np.argwhere(p))
    assert body["mutual_information"] == pytest.approx(mi, abs=1e-14)
    assert body["marginal_x"] == pytest.approx([0.35, 0.65], abs=1e-15)
    assert body["normalized"] is True and body["shape"] == [2, 3]


def test_paired_samples_equal_their_table(client: TestClient) -> None:
    x = ["a", "a", "b", "b", "c", "c", "c", "a"]
    y = [1, 1, 2, 2, 2, 1, 2, 3]
    from_samples = client.post(INFO, json={"x": x, "y": y}).json()
    codes_x = [sorted(set(x)).index(v) for v in x]
    table = _table_from_labels(codes_x, y)
    from_table = client.post(INFO, json={"table": table.tolist()}).json()
    assert from_samples["samples"] == 8 and from_samples["labels_y"] == ["1", "2", "3"]
    assert from_samples["labels_x"] == ["a", "b", "c"]
    for key in ("mutual_information", "joint_entropy", "variation_of_information"):
        assert from_samples[key] == pytest.approx(from_table[key], abs=1e-15)


def test_a_table_as_npy(client: TestClient) -> None:
    counts = np.array([[3, 1], [0, 4]], dtype=np.int16)
    buffer = io.BytesIO()
    np.save(buffer, counts)
    r = client.post(
        f"{INFO}?normalize=true&unit=bits",
        content=buffer.getvalue(),
        headers={"content-type": "application/x-npy"},
    )
    assert r.status_code == 200, r.text
    expected = joint.joint_information(counts / 8, "bits").mutual_information
    assert r.json()["mutual_information"] == expected and r.json()["unit"] == "bits"


def test_cmi_from_samples_and_units(client: TestClient) -> None:
    body = {"x": [0, 0, 1, 1], "y": [0, 1, 0, 1], "z": [0, 1, 1, 0]}
    bits = client.post(CMI, json={**body, "unit": "bits"}).json()
    nats = client.post(CMI, json=body).json()
    assert bits["conditional_mutual_information"] == 1.0
    assert nats["conditional_mutual_information"] == pytest.approx(LN2, abs=1e-15)


def _problem(r: Any, status: int = 422) -> tuple[list[Any], str]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    if status != 422:
        return [], ""
    error: dict[str, Any] = r.json()["errors"][0]
    return error["loc"], error["type"]


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"table": [[0.5, 0.5], [0.0]]}, ["body", "table", 1], "ragged_table"),
        ({"table": [[1, -2], [3, 4]], "normalize": True}, ["body", "table", 0, 1], "negative"),
        ({"table": {"a": {"u": 1, "v": -1}}}, ["body", "table", "a", "v"], "negative"),
        ({"table": [[0.5, 0.6]]}, ["body", "table"], "sum_not_one"),
        ({"table": [[0, 0]], "normalize": True}, ["body", "table"], "invalid"),
        ({"table": [0.5, 0.5]}, ["body", "table", 0], "table_shape"),
        ({"table": [[[1.0]]]}, ["body", "table", 0, 0], "table_shape"),
        ({"table": [[1.0]], "x": ["a"]}, ["body", "table"], "conflict"),
        ({"x": ["a", "b"]}, ["body", "y"], "missing"),
        ({"x": ["a", "b"], "y": ["a"]}, ["body", "y"], "length_mismatch"),
        ({"x": [], "y": []}, ["body", "x"], "too_few"),
        ({"x": ["a", 1], "y": ["a", "b"]}, ["body", "x", 1], "sample_type"),
        ({"table": [[1.0]], "unit": "bytes"}, ["body", "unit"], "literal_error"),
        ({}, ["body", "table"], "invalid"),
    ],
)
def test_bad_tables_are_422_naming_the_field(
    client: TestClient, body: dict[str, Any], loc: list[Any], kind: str
) -> None:
    assert _problem(client.post(INFO, json=body)) == (loc, kind)


def test_a_cmi_request_needs_z(client: TestClient) -> None:
    r = client.post(CMI, json={"x": [0, 1], "y": [1, 0]})
    assert _problem(r) == (["body", "z"], "missing")


def test_caps_are_settings(tmp_path: Path) -> None:
    small = TestClient(
        create_app(Settings(data_dir=tmp_path, max_table_cells=8, max_sample_size=5))
    )
    r = small.post(INFO, json={"table": np.full((3, 3), 1 / 9).tolist()})
    assert _problem(r) == (["body", "table"], "too_large")
    assert "DIVERGENCE_MAX_TABLE_CELLS" in r.json()["detail"]
    # a label map spans its labels' product, though it names only three cells
    sparse = {"a": {"u": 1}, "b": {"v": 1}, "c": {"w": 1}}
    r = small.post(INFO, json={"table": sparse, "normalize": True})
    assert _problem(r) == (["body", "table"], "too_large")
    r = small.post(INFO, json={"x": [1, 2, 3], "y": [4, 5, 6]})
    assert _problem(r) == (["body", "y"], "too_large")
    r = small.post(INFO, json={"x": list(range(6)), "y": [0] * 6})
    assert _problem(r) == (["body", "x"], "too_large")
    buffer = io.BytesIO()
    np.save(buffer, np.ones((700, 2)))  # more bytes than 8 cells could take: refused unread
    r = small.post(INFO, content=buffer.getvalue(), headers={"content-type": "application/x-npy"})
    _problem(r, 413)
    assert "DIVERGENCE_MAX_TABLE_CELLS" in r.json()["detail"]


def test_options_in_the_query_string(client: TestClient) -> None:
    body = {"table": [[3, 1], [0, 4]], "normalize": True}
    bits = client.post(f"{INFO}?unit=bits", json=body)
    assert bits.status_code == 200 and bits.json()["unit"] == "bits"
    assert _problem(client.post(f"{INFO}?unit=bytes", json=body)) == (
        ["query", "unit"],
        "literal_error",
    )
    r = client.post(f"{INFO}?normalize=false", json=body)  # given twice, differently
    assert _problem(r) == (["query", "normalize"], "conflict")


def _transport(client: TestClient) -> httpx.MockTransport:
    """The clients' requests, answered by the app in-process."""

    def handle(request: httpx.Request) -> httpx.Response:
        answer = client.request(
            request.method, request.url.raw_path.decode(), content=request.content,
            headers=request.headers,
        )  # fmt: skip
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return httpx.MockTransport(handle)


def test_both_clients_and_the_cli(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    transport = _transport(client)
    table = [[3, 1], [0, 4]]
    expected = joint.joint_information(np.array(table) / 8, "bits").mutual_information
    with DivergenceClient("http://test", transport=transport) as sync:
        assert sync.joint_information(table, normalize=True, unit="bits").mutual_information == (
            expected
        )
        paired = sync.joint_information(x=np.array([0, 0, 1, 1]), y=["a", "a", "b", "b"])
        assert paired.mutual_information == pytest.approx(LN2, abs=1e-15)
        xor = sync.conditional_mutual_information(x=[0, 0, 1, 1], y=[0, 1, 0, 1], z=[0, 1, 1, 0])
        assert xor.conditional_mutual_information == pytest.approx(LN2, abs=1e-15)

    async def from_async() -> float:
        async with AsyncDivergenceClient("http://test", transport=transport) as aclient:
            answer = await aclient.joint_information(table, normalize=True, unit="bits")
            return answer.mutual_information

    assert asyncio.run(from_async()) == expected
    monkeypatch.setattr(
        cli,
        "DivergenceClient",
        lambda url, api_key=None: DivergenceClient(url, transport=transport),
    )
    path = tmp_path / "table.json"
    path.write_text(json.dumps(table))
    out = io.StringIO()
    assert cli.main(["joint", str(path), "--normalize", "--unit", "bits", "--json"], out=out) == 0
    assert json.loads(out.getvalue())["mutual_information"] == expected
    path.write_text(json.dumps([[[0.25, 0], [0, 0.25]], [[0, 0.25], [0.25, 0]]]))
    out = io.StringIO()
    assert cli.main(["joint", str(path), "--unit", "bits"], out=out) == 0
    assert "conditional_mutual_information" in out.getvalue()


@pytest.mark.parametrize(
    ("raw", "loc"),
    [
        (b'{"x": ["b", "\\ud800"], "y": ["a", "b"]}', ["body", "x", 1]),
        (b'{"table": {"a": {"\\udc00": 1}}, "normalize": true}', ["body", "table", "a"]),
    ],
)
def test_lone_surrogates_are_422(client: TestClient, raw: bytes, loc: list[Any]) -> None:
    r = client.post(INFO, content=raw, headers={"content-type": "application/json"})
    assert _problem(r) == (loc, "unicode")

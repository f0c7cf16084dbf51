"""Samples in, distributions out: histograms against numpy on the same edges, numpy's bin
rules, counts of labels, and the measures of two samples against scipy."""

from __future__ import annotations

import asyncio
import io
import json
import math
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial import distance

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.config import Settings
from app.infotheory import histograms as hist
from app.main import create_app
from divergence_client import AsyncDivergenceClient, DivergenceClient, cli

HISTOGRAM = "/v1/samples/histogram"
COMPARE = "/v1/samples/compare"

finite = st.floats(-1e6, 1e6, allow_nan=False)


def _ok(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


# -- the kernels against numpy --------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(finite, min_size=1, max_size=60),
    st.lists(finite, min_size=2, max_size=12, unique=True),
)
def test_counts_on_given_edges_equal_numpy(values: list[float], edges: list[float]) -> None:
    e = np.sort(np.array(edges))
    v = np.array(values)
    h = hist.histogram(v, hist.check_edges(e))
    inside = (v >= e[0]) & (v <= e[-1])
    np.testing.assert_array_equal(h.counts, np.histogram(v[inside], bins=e)[0])
    assert h.underflow == int((v < e[0]).sum()) and h.overflow == int((v > e[-1]).sum())
    assert h.counts.sum() + h.underflow + h.overflow == v.size  # nothing dropped


@settings(max_examples=100, deadline=None)
@given(st.lists(finite, min_size=1, max_size=80), st.lists(finite, min_size=1, max_size=80))
def test_rules_give_numpys_edges(x: list[float], y: list[float]) -> None:
    pooled = np.array(x + y)
    for rule in ("fd", "sturges"):
        count = hist.rule_bin_count(x, y, rule)
        if count > 10_000:  # numpy would build them all (the service refuses first)
            continue
        expected = np.histogram_bin_edges(pooled, bins=rule)
        assert count == expected.size - 1
        np.testing.assert_array_equal(hist.pooled_edges(x, y, count), expected)
    np.testing.assert_array_equal(
        hist.pooled_edges(x, y, 7), np.histogram_bin_edges(pooled, bins=7)
    )


def test_too_narrow_a_range_for_the_bins_is_refused_as_numpy_does() -> None:
    x, y = [1.0, 1.0000000000000002], [1.0, 1.0]
    with pytest.raises(ValueError, match="Too many bins"):
        np.histogram_bin_edges(np.array(x + y), bins=5)
    with pytest.raises(hist.TooManyBinsError, match="too narrow for 5 bins"):
        hist.pooled_edges(x, y, 5)
    # one bin fits: the two values themselves, as numpy gives them
    np.testing.assert_array_equal(
        hist.pooled_edges(x, y, 1), np.histogram_bin_edges(np.array(x + y), bins=1)
    )


def test_quantile_edges_are_the_reference_quantiles() -> None:
    x = np.random.default_rng(1).normal(size=1001)
    edges = hist.quantile_edges(x, 4)
    np.testing.assert_array_equal(edges, np.quantile(x, [0, 0.25, 0.5, 0.75, 1]))
    assert hist.histogram(x, edges).counts.tolist() == [250, 250, 250, 251]
    # ties merge bins: a reference with three distinct values has at most two bins
    assert hist.quantile_edges([1, 1, 1, 2, 3], 4).tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="one distinct value"):
        hist.quantile_edges([5.0, 5.0], 3)


def test_label_counts_on_the_union() -> None:
    x, y = ["b", "a", "b", "c"], ["d", "b", "d"]
    labels, cx, cy = hist.label_counts(x, y)
    assert labels.tolist() == ["a", "b", "c", "d"]
    assert dict(zip(labels.tolist(), cx.tolist(), strict=True)) == {**dict.fromkeys("abcd", 0),
                                                                   **Counter(x)}  # fmt: skip
    assert cy.tolist() == [0, 1, 0, 2]


# -- the endpoints ---------------------------------------------------------------------------


def test_given_edges_keep_what_falls_outside(client: TestClient) -> None:
    x = [0.1, 0.4, 0.5, 1.2, 1.9, 2.2, 2.8]
    y = [-0.5, 1.1, 1.4, 1.8, 2.5, 3.0, 3.9]
    body = _ok(client.post(HISTOGRAM, json={"x": x, "y": y, "edges": [0, 1, 2, 3]}))
    assert body["edges"] == [0, 1, 2, 3] and body["rule"] == "edges"
    assert body["x"] == {"n": 7, "counts": np.histogram(x, [0, 1, 2, 3])[0].tolist(),
                         "underflow": 0, "overflow": 0}  # fmt: skip
    # 3.0 is in the last (closed) bin, as in numpy; 3.9 above it, -0.5 below the first
    assert body["y"] == {"n": 7, "counts": [0, 3, 2], "underflow": 1, "overflow": 1}


def test_rules_through_the_api(client: TestClient) -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=300), rng.normal(0.5, 2, size=200)
    for rule in ("fd", "sturges"):
        body = _ok(client.post(HISTOGRAM, json={"x": x.tolist(), "y": y.tolist(), "rule": rule}))
        edges = np.histogram_bin_edges(np.concatenate([x, y]), bins=rule)
        assert body["edges"] == edges.tolist()
        assert body["x"]["counts"] == np.histogram(x, edges)[0].tolist()
        assert body["y"]["counts"] == np.histogram(y, edges)[0].tolist()
        assert body["x"]["overflow"] == body["y"]["underflow"] == 0
    body = _ok(client.post(HISTOGRAM, json={"x": x.tolist(), "y": y.tolist(), "rule": "quantiles",
                                            "bins": 5}))  # fmt: skip
    assert body["x"]["counts"] == [60] * 5
    assert body["y"]["underflow"] == int((y < x.min()).sum())
    assert body["y"]["overflow"] == int((y > x.max()).sum())


def test_default_is_ten_equal_bins(client: TestClient) -> None:
    body = _ok(client.post(HISTOGRAM, json={"x": [0, 1, 2], "y": [5, 10]}))
    assert body["edges"] == np.histogram_bin_edges([0, 1, 2, 5, 10], 10).tolist()
    assert body["rule"] == "bins"


def test_categorical_samples(client: TestClient) -> None:
    body = _ok(client.post(HISTOGRAM, json={"x": ["cat", "dog", "dog"], "y": ["dog", "ant"]}))
    assert body["kind"] == "categorical" and body["labels"] == ["ant", "cat", "dog"]
    assert body["x"]["counts"] == [0, 1, 2] and body["y"]["counts"] == [1, 0, 1]
    assert body["edges"] is None and body["x"]["underflow"] is None
    # integer codes as categories, sorted as numbers
    codes = _ok(client.post(HISTOGRAM, json={"x": [10, 2, 2], "y": [3, 10], "kind": "categorical"}))
    assert codes["labels"] == ["2", "3", "10"] and codes["x"]["counts"] == [2, 0, 1]


def test_measures_against_scipy(client: TestClient) -> None:
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=500), rng.normal(0.3, 1.2, size=400)
    edges = np.linspace(-6, 6, 25)
    measures = ["kl_divergence", "js_divergence", "hellinger_distance", "total_variation",
                "wasserstein_distance", "population_stability_index"]  # fmt: skip
    body = _ok(client.post(COMPARE, json={"x": x.tolist(), "y": y.tolist(), "edges": edges.tolist(),
                                          "measures": measures, "unit": "bits"}))  # fmt: skip
    p = np.histogram(x, edges)[0] / x.size
    q = np.histogram(y, edges)[0] / y.size
    assert body["p"] == pytest.approx(p.tolist(), abs=1e-16)
    assert len(body["events"]) == 24  # every bin, and no underflow or overflow bin
    value = body["value"]
    if ((p > 0) & (q == 0)).any():
        assert value["kl_divergence"] == "Infinity"
    else:
        assert value["kl_divergence"] == pytest.approx(stats.entropy(p, q, base=2), rel=1e-12)
    js = distance.jensenshannon(p, q, base=2) ** 2
    assert value["js_divergence"] == pytest.approx(js, rel=1e-10)
    hellinger = math.sqrt(0.5 * ((np.sqrt(p) - np.sqrt(q)) ** 2).sum())
    assert value["hellinger_distance"] == pytest.approx(hellinger, rel=1e-12)
    assert value["total_variation"] == pytest.approx(0.5 * np.abs(p - q).sum(), rel=1e-12)
    centres = (edges[:-1] + edges[1:]) / 2
    w = stats.wasserstein_distance(centres, centres, p, q)
    assert value["wasserstein_distance"] == pytest.approx(w, rel=1e-10)
    assert set(value) == set(measures)


def test_an_infinite_kl_names_its_bins(client: TestClient) -> None:
    x = [0.5, 1.5, 1.6, 2.5, 3.5]
    y = [0.2, 0.8, 1.2, 2.2, 2.9]
    body = _ok(client.post(COMPARE, json={"x": x, "y": y, "edges": [0, 1, 2, 3],
                                          "measures": ["kl_divergence", "neyman_chi_square"]}))  # fmt: skip
    assert body["events"] == ["[0.0, 1.0)", "[1.0, 2.0)", "[2.0, 3.0]", "> 3.0"]
    assert body["value"]["kl_divergence"] == "Infinity"
    assert body["infinite_events"] == {"kl_divergence": ["> 3.0"]}
    assert body["value"]["neyman_chi_square"] != "Infinity"
    assert "zero count" in body["notes"][0] and "> 3.0" in body["notes"][0]
    # smoothing, asked for, makes it finite: scipy on the smoothed counts
    smoothed = _ok(client.post(COMPARE, json={"x": x, "y": y, "edges": [0, 1, 2, 3],
                                              "smoothing": {"alpha": 0.1},
                                              "measures": ["kl_divergence"]}))  # fmt: skip
    p, q = np.array([1, 2, 1, 1]) / 5 + 0.1, np.array([2, 1, 2, 0]) / 5 + 0.1
    expected = stats.entropy(p / p.sum(), q / q.sum())
    assert smoothed["value"]["kl_divergence"] == pytest.approx(expected, rel=1e-12)
    assert smoothed["smoothing"]["alpha"] == 0.1 and smoothed["infinite_events"] == {}


def test_categorical_kl_names_the_label(client: TestClient) -> None:
    body = _ok(client.post(COMPARE, json={"x": ["cat", "dog", "fish"], "y": ["dog", "cat"]}))
    assert body["infinite_events"] == {"kl_divergence": ["fish"]}
    assert body["value"]["js_divergence"] == pytest.approx(
        distance.jensenshannon([1, 1, 1], [1, 1, 0]) ** 2, rel=1e-12
    )


def _problem(r: Any) -> tuple[list[Any], str]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    error = r.json()["errors"][0]
    return error["loc"], error["type"]


XY = {"x": [0.0, 1.0, 2.0], "y": [0.5, 1.5]}


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"x": [1.0], "y": [1.0, 2.0]}, ["body", "x"], "too_few"),
        ({**XY, "edges": [0, 2, 1]}, ["body", "edges"], "edges"),
        ({**XY, "edges": [0, 0]}, ["body", "edges"], "edges"),
        ({**XY, "edges": [1]}, ["body", "edges"], "too_short"),
        ({**XY, "edges": [0, 1], "outside": "refuse"}, ["body", "x", 2], "outside_edges"),
        ({**XY, "edges": [0, 1.8], "outside": "refuse"}, ["body", "x", 2], "outside_edges"),
        ({**XY, "edges": [0, 2], "bins": 3}, ["body", "bins"], "conflict"),
        ({**XY, "edges": [0, 2], "rule": "fd"}, ["body", "rule"], "conflict"),
        ({**XY, "rule": "fd", "bins": 3}, ["body", "bins"], "conflict"),
        ({"x": ["a", "b"], "y": [1, 2]}, ["body", "y"], "kind_mismatch"),
        ({"x": ["a", "b"], "y": ["a"], "kind": "numeric"}, ["body", "y"], "too_few"),
        ({"x": ["a", "b"], "y": ["a", "c"], "kind": "numeric"}, ["body", "kind"], "kind"),
        ({"x": ["a", "b"], "y": ["a", "c"], "bins": 3}, ["body", "bins"], "not_numeric"),
        ({"x": [1, "b"], "y": ["a", "c"]}, ["body", "x", 1], "sample_type"),
        ({"x": [1, None], "y": [1, 2]}, ["body", "x", 1], "sample_type"),
        ({"x": [-1e308, 1e308], "y": [0, 1]}, ["body", "x"], "range"),
        # a range one ulp wide: 5 equal bins would have zero width (numpy raises too)
        (
            {"x": [1.0, 1.0000000000000002], "y": [1.0, 1.0], "bins": 5},
            ["body", "bins"],
            "too_many_bins",
        ),
        ({**XY, "bins": 0}, ["body", "bins"], "greater_than_equal"),
        ({**XY, "measures": ["kl"]}, ["body", "measures", 0], "literal_error"),
    ],
)
def test_bad_samples_are_422_naming_the_field(
    client: TestClient, body: dict[str, Any], loc: list[Any], kind: str
) -> None:
    assert _problem(client.post(COMPARE, json=body)) == (loc, kind)


def test_wasserstein_needs_positions(client: TestClient) -> None:
    labels = {
        "x": ["a", "b"],
        "y": ["b", "c"],
        "measures": ["js_divergence", "wasserstein_distance"],
    }
    assert _problem(client.post(COMPARE, json=labels)) == (["body", "measures", 1], "not_numeric")
    outside = {**XY, "edges": [0, 1], "measures": ["wasserstein_distance"]}
    assert _problem(client.post(COMPARE, json=outside)) == (
        ["body", "measures", 0],
        "outside_edges",
    )


def test_caps_are_settings_checked_first(tmp_path: Path) -> None:
    small = TestClient(create_app(Settings(data_dir=tmp_path, max_bins=50, max_sample_size=100)))
    assert _problem(small.post(HISTOGRAM, json={**XY, "bins": 51})) == (
        ["body", "bins"],
        "too_many_bins",
    )
    edges = list(range(52))
    assert _problem(small.post(HISTOGRAM, json={**XY, "edges": edges})) == (
        ["body", "edges"],
        "too_many_bins",
    )
    r = small.post(HISTOGRAM, json={"x": list(range(101)), "y": [0, 1]})
    assert _problem(r) == (["body", "x"], "too_large")
    assert "DIVERGENCE_MAX_SAMPLE_SIZE" in r.json()["detail"]
    # Freedman-Diaconis on 50 zeros, 50 ones and one outlier asks for ~2e12 bins: refused
    # from the count alone, at once
    outlier = [0.0] * 25 + [1.0] * 25 + [1e12]
    start = time.perf_counter()
    r = small.post(HISTOGRAM, json={"x": outlier, "y": [0.0, 1.0], "rule": "fd"})
    assert _problem(r) == (["body", "rule"], "too_many_bins")
    assert time.perf_counter() - start < 1.0
    assert "DIVERGENCE_MAX_BINS" in r.json()["detail"]


def test_both_clients_and_the_cli(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        answer = client.request(
            request.method, request.url.raw_path.decode(), content=request.content,
            headers=request.headers,
        )  # fmt: skip
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    transport = httpx.MockTransport(handle)
    x, y = np.array([0.1, 0.4, 0.5, 1.2, 1.9]), [0.3, 1.1, 1.4, 1.8, 2.5]
    with DivergenceClient("http://test", transport=transport) as sync:
        counts = sync.histogram(x, y, edges=[0, 1, 2])
        assert counts.x.counts == [3, 2] and counts.y.overflow == 1
        compared = sync.compare_samples(x, y, edges=[0, 1, 2, 3], measures=["total_variation"])
        assert compared.value == {"total_variation": pytest.approx(0.4, abs=1e-15)}

    async def from_async() -> Any:
        async with AsyncDivergenceClient("http://test", transport=transport) as aclient:
            return await aclient.compare_samples(["a", "b"], ["b", "b"], measures=["kl_divergence"])

    assert asyncio.run(from_async()).infinite_events == {"kl_divergence": ["a"]}
    monkeypatch.setattr(
        cli,
        "DivergenceClient",
        lambda url, api_key=None: DivergenceClient(url, transport=transport),
    )
    (tmp_path / "x.json").write_text(json.dumps(x.tolist()))
    (tmp_path / "y.json").write_text(json.dumps(y))
    files = [str(tmp_path / "x.json"), str(tmp_path / "y.json")]
    out = io.StringIO()
    args = ["samples", *files, "--measure", "js", "--measure", "tv", "--edges", "0,1,2,3", "--json"]
    assert cli.main(args, out=out) == 0
    answer = json.loads(out.getvalue())
    assert set(answer["value"]) == {"js_divergence", "total_variation"}
    assert answer["value"]["total_variation"] == pytest.approx(0.4, abs=1e-15)
    out = io.StringIO()
    assert cli.main(["samples", *files, "--bins", "2"], out=out) == 0
    assert "kl_divergence" in out.getvalue() and "events" in out.getvalue()


def test_a_lone_surrogate_is_422(client: TestClient) -> None:
    raw = b'{"x": ["a", "b"], "y": ["\\ud800", "b"]}'
    r = client.post(COMPARE, content=raw, headers={"content-type": "application/json"})
    assert _problem(r) == (["body", "y", 0], "unicode")

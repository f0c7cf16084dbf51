"""The numeric endpoints over HTTP: values, forms, options and what the responses report."""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient
from scipy import stats
from scipy.spatial import distance


def test_entropy_of_a_coin_in_bits(client: TestClient) -> None:
    r = client.post("/v1/entropy", json={"p": [0.5, 0.5], "unit": "bits"})
    assert r.status_code == 200
    assert r.json() == {"value": 1.0, "unit": "bits", "normalized": False, "smoothing": None}


def test_information_with_labels_and_an_impossible_event(client: TestClient) -> None:
    r = client.post("/v1/information", json={"p": {"a": 0.25, "b": 0.75, "c": 0}, "unit": "bits"})
    body = r.json()
    assert body["labels"] == ["a", "b", "c"]
    assert body["value"][0] == 2.0
    assert body["value"][1] == pytest.approx(-math.log2(0.75), rel=1e-15)
    assert body["value"][2] == "Infinity"


def test_kl_matches_scipy_and_reports_infinity(client: TestClient) -> None:
    p, q = [0.1, 0.2, 0.7], [0.3, 0.3, 0.4]
    body = client.post("/v1/kl-divergence", json={"p": p, "q": q}).json()
    assert body["value"] == pytest.approx(stats.entropy(p, q), rel=1e-12)
    assert body["infinite_events"] == []
    body = client.post("/v1/kl-divergence", json={"p": [0.5, 0.5, 0], "q": [1, 0, 0]}).json()
    assert body["value"] == "Infinity"
    assert body["infinite_events"] == [1]


def test_cross_entropy_value(client: TestClient) -> None:
    body = client.post(
        "/v1/cross-entropy", json={"p": [0.5, 0.5], "q": [0.25, 0.75], "unit": "bits"}
    ).json()
    assert body["value"] == pytest.approx(0.5 * 2 + 0.5 * -math.log2(0.75), rel=1e-15)


def test_js_value_and_distance(client: TestClient) -> None:
    p, q = [0.1, 0.2, 0.7], [0.3, 0.3, 0.4]
    body = client.post("/v1/js-divergence", json={"p": p, "q": q, "unit": "bits"}).json()
    expected = distance.jensenshannon(p, q, base=2)
    assert body["distance"] == pytest.approx(expected, rel=1e-12)
    assert body["value"] == pytest.approx(expected**2, rel=1e-12)


def test_labels_align_on_the_union(client: TestClient) -> None:
    body = client.post(
        "/v1/kl-divergence",
        json={"p": {"x": 0.5, "y": 0.5}, "q": {"y": 0.5, "z": 0.25, "x": 0.25}},
    ).json()
    assert body["value"] == pytest.approx(stats.entropy([0.5, 0.5, 0], [0.25, 0.5, 0.25]))
    body = client.post(
        "/v1/kl-divergence", json={"p": {"x": 0.5, "y": 0.5}, "q": {"x": 1.0}}
    ).json()
    assert body["value"] == "Infinity"
    assert body["infinite_events"] == ["y"]


def test_batch_gives_one_value_per_row(client: TestClient) -> None:
    body = client.post(
        "/v1/kl-divergence",
        json={"p": [[0.5, 0.5], [0.9, 0.1], [1, 0]], "q": [[0.5, 0.5], [0.5, 0.5], [0, 1]]},
    ).json()
    assert body["value"][0] == 0.0
    assert body["value"][1] == pytest.approx(stats.entropy([0.9, 0.1], [0.5, 0.5]), rel=1e-12)
    assert body["value"][2] == "Infinity"
    assert body["infinite_events"] == [[], [], [0]]


def test_one_q_against_a_batch_of_p(client: TestClient) -> None:
    body = client.post(
        "/v1/entropy", json={"p": [[0.5, 0.5], [1, 0], [0.25, 0.75]], "unit": "bits"}
    ).json()
    assert body["value"][:2] == [1.0, 0.0]
    body = client.post(
        "/v1/cross-entropy", json={"p": [[0.5, 0.5], [1, 0]], "q": [0.5, 0.5], "unit": "bits"}
    ).json()
    assert body["value"] == [1.0, 1.0]


def test_normalize_treats_numbers_as_counts(client: TestClient) -> None:
    body = client.post("/v1/entropy", json={"p": [3, 1], "normalize": True, "unit": "bits"}).json()
    assert body["value"] == pytest.approx(stats.entropy([0.75, 0.25], base=2), rel=1e-15)
    assert body["normalized"] is True


def test_tolerance_admits_rounded_input(client: TestClient) -> None:
    p = [0.333, 0.333, 0.333]
    assert client.post("/v1/entropy", json={"p": p}).status_code == 422
    r = client.post("/v1/entropy", json={"p": p, "tolerance": 0.01})
    assert r.status_code == 200
    assert r.json()["value"] == pytest.approx(-3 * 0.333 * math.log(0.333), rel=1e-12)


def test_smoothing_is_applied_and_echoed(client: TestClient) -> None:
    smoothing = {"method": "additive", "alpha": 0.01, "apply_to": "q"}
    body = client.post(
        "/v1/kl-divergence",
        json={"p": [0.5, 0.3, 0.2], "q": [0.6, 0.4, 0.0], "smoothing": smoothing},
    ).json()
    smoothed_q = [(x + 0.01) / 1.03 for x in (0.6, 0.4, 0.0)]
    assert body["value"] == pytest.approx(stats.entropy([0.5, 0.3, 0.2], smoothed_q), rel=1e-12)
    assert body["smoothing"] == smoothing
    assert body["infinite_events"] == []


def test_compare_shows_the_asymmetry(client: TestClient) -> None:
    p, q = [0.8, 0.15, 0.05], [0.4, 0.3, 0.3]
    body = client.post("/v1/compare", json={"p": p, "q": q, "unit": "bits"}).json()
    v = body["value"]
    assert v["kl_pq"] == pytest.approx(stats.entropy(p, q, base=2), rel=1e-12)
    assert v["kl_qp"] == pytest.approx(stats.entropy(q, p, base=2), rel=1e-12)
    assert v["kl_pq"] != pytest.approx(v["kl_qp"], rel=1e-3)
    assert v["cross_entropy_pq"] == pytest.approx(v["entropy_p"] + v["kl_pq"], rel=1e-12)
    assert v["cross_entropy_qp"] == pytest.approx(v["entropy_q"] + v["kl_qp"], rel=1e-12)
    assert v["js_distance"] == pytest.approx(distance.jensenshannon(p, q, base=2), rel=1e-12)
    assert body["unit"] == "bits"


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}

"""POST /v1/model-fit over HTTP: forms, custom models, bootstrap, pictures, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

WORMS = [2, 3, 5, 14, 16, 15, 12, 8, 10, 8, 7]
PNG = b"\x89PNG\r\n\x1a\n"


def test_three_forms_give_the_same_fit(client: TestClient) -> None:
    samples = [k for k, c in enumerate(WORMS) for _ in range(c)]
    labels = {str(k): c for k, c in enumerate(WORMS)}
    bodies: list[dict[str, Any]] = [{"counts": WORMS}, {"samples": samples[::-1]},
                                    {"label_counts": labels}]  # fmt: skip
    answers = [client.post("/v1/model-fit", json={**b, "unit": "bits"}).json() for b in bodies]
    assert answers[0] == answers[1] == answers[2]
    fit = answers[0]
    assert fit["observed"]["n"] == 100 and fit["observed"]["support"] == list(range(11))
    assert [m["family"] for m in fit["models"]] == ["poisson", "uniform", "binomial", "geometric"]
    assert fit["best"] == "poisson" and fit["unit"] == "bits"
    binomial = fit["models"][2]
    assert binomial["parameters"] == {"n": 10.0, "p": pytest.approx(0.544)}
    interval = binomial["interval"]
    assert interval["low"] <= interval["high"] and interval["resamples"] == 1000
    assert interval["confidence"] == 0.95


def test_bootstrap_is_seeded(client: TestClient) -> None:
    body = {"counts": WORMS, "bootstrap": {"resamples": 200, "seed": 5}}
    first = client.post("/v1/model-fit", json=body).json()
    assert first == client.post("/v1/model-fit", json=body).json()
    other = client.post("/v1/model-fit", json={**body, "bootstrap": {"resamples": 200, "seed": 6}})
    assert other.json()["models"][0]["interval"] != first["models"][0]["interval"]


def test_custom_model_that_misses_an_event_is_infinite(client: TestClient) -> None:
    body = {
        "counts": [3, 5, 2],
        "families": ["uniform"],
        "custom": [{"name": "two-sided", "p": [0.5, 0.5, 0.0]}, {"name": "good", "p": [0.3, 0.5, 0.2]}],
        "bootstrap": {"resamples": 0},
    }  # fmt: skip
    fit = client.post("/v1/model-fit", json=body).json()
    assert [m["family"] for m in fit["models"]] == ["custom:good", "uniform", "custom:two-sided"]
    assert fit["models"][0]["divergence"] == 0.0
    assert fit["models"][2]["divergence"] == "Infinity"
    assert fit["models"][2]["infinite_events"] == [2]
    assert fit["models"][2]["interval"] is None


def test_support_max_extends_the_support(client: TestClient) -> None:
    fit = client.post(
        "/v1/model-fit", json={"label_counts": {"0": 5, "2": 9}, "support_max": 4}
    ).json()
    assert fit["observed"]["counts"] == [5, 0, 9, 0, 0]
    uniform = next(m for m in fit["models"] if m["family"] == "uniform")
    assert uniform["probabilities"] == [0.2] * 5


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body"]),
        ({"counts": [1, 2], "samples": [1]}, ["body"]),
        ({"counts": [0, 0]}, ["body", "counts"]),
        ({"counts": [1, -2]}, ["body", "counts", 1]),
        ({"samples": [1.5]}, ["body", "samples", 0]),
        ({"label_counts": {"x": 3}}, ["body", "label_counts", "x"]),
        ({"counts": [1, 2, 3], "support_max": 1}, ["body", "support_max"]),
        ({"counts": [1, 2], "custom": [{"name": "c", "p": [1.0]}]}, ["body", "custom", 0, "p"]),
        (
            {"counts": [1, 2], "custom": [{"name": "c", "p": [0.7, 0.7]}]},
            ["body", "custom", 0, "p"],
        ),
        ({"counts": [1, 2], "families": ["normal"]}, ["body", "families", 0]),
        ({"counts": [1, 2], "bootstrap": {"resamples": -1}}, ["body", "bootstrap", "resamples"]),
        ({"counts": [1, 2], "families": []}, ["body"]),
    ],
)
def test_bad_input(client: TestClient, body: dict[str, Any], loc: list[Any]) -> None:
    r = client.post("/v1/model-fit", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["loc"] == loc


def test_pictures_by_accept_format_and_sibling(client: TestClient) -> None:
    body = {"counts": WORMS, "bootstrap": {"resamples": 0}}
    svg = client.post("/v1/model-fit", json=body, headers={"accept": "image/svg+xml"})
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.startswith("<svg") and svg.text.count("<rect") > 5 * 11
    assert "best: poisson" in svg.text
    png = client.post("/v1/model-fit", json=body, headers={"accept": "image/png"})
    assert png.headers["content-type"] == "image/png" and png.content.startswith(PNG)
    assert client.post("/v1/model-fit?format=png", json=body).content.startswith(PNG)
    sibling = client.post("/v1/model-fit/plot", json=body)
    assert sibling.headers["content-type"] == "image/svg+xml" and sibling.text == svg.text
    assert client.post("/v1/model-fit/plot?format=png", json=body).content.startswith(PNG)
    assert client.post("/v1/model-fit", json=body).headers["content-type"] == "application/json"


def test_binary_entropy_picture(client: TestClient) -> None:
    svg = client.get("/v1/plots/binary-entropy", params={"points": 11})
    assert svg.headers["content-type"] == "image/svg+xml"
    points = svg.text.split('<polyline points="')[1].split('"')[0].split()
    assert len(points) == 11
    ys = [float(p.split(",")[1]) for p in points]
    assert ys.index(min(ys)) == 5  # highest (smallest SVG y) at p = 0.5
    assert ys[0] == ys[-1] == max(ys)  # zero at both ends
    assert "entropy (nats)" in client.get("/v1/plots/binary-entropy?unit=nats").text
    png = client.get("/v1/plots/binary-entropy", params={"format": "png"})
    assert png.content.startswith(PNG)
    assert client.get("/v1/plots/binary-entropy", params={"points": 1}).status_code == 422

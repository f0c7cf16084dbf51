"""The classification losses over HTTP: exact per-sample values, logits, smoothing, errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy import special, stats

Y = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
P = [0.8, 0.9, 0.9, 0.6, 0.8, 0.1, 0.4, 0.2, 0.1, 0.3]


def test_article_binary_cross_entropy_is_per_sample(client: TestClient) -> None:
    body = client.post("/v1/losses/binary-cross-entropy", json={"labels": Y, "predictions": P})
    result = body.json()
    expected = [-math.log(p) if y else -math.log(1 - p) for y, p in zip(Y, P, strict=True)]
    assert result["per_sample"] == pytest.approx(expected, rel=1e-15)
    # the article printed the whole-vector value on every row; each row differs here
    assert len(set(np.round(result["per_sample"], 12))) == 4
    assert result["value"] == pytest.approx(sum(expected) / 10, rel=1e-15)
    assert result["per_sample"][0] == pytest.approx(0.2231435513142097)  # -ln 0.8


def test_logits_and_units(client: TestClient) -> None:
    logits = [math.log(p / (1 - p)) for p in P]
    by_logits = client.post(
        "/v1/losses/binary-cross-entropy",
        json={"labels": Y, "predictions": logits, "from_logits": True, "unit": "bits"},
    ).json()
    by_probs = client.post(
        "/v1/losses/binary-cross-entropy", json={"labels": Y, "predictions": P, "unit": "bits"}
    ).json()
    assert by_logits["per_sample"] == pytest.approx(by_probs["per_sample"], rel=1e-12)
    extreme = client.post(
        "/v1/losses/binary-cross-entropy",
        json={"labels": [1, 0, 1], "predictions": [800.0, -800.0, -800.0], "from_logits": True,
              "reduction": "none"},
    ).json()  # fmt: skip
    assert extreme["per_sample"] == [0.0, 0.0, 800.0] and extreme["value"] == [0.0, 0.0, 800.0]


def test_certain_wrong_prediction_is_infinite(client: TestClient) -> None:
    result = client.post(
        "/v1/losses/binary-cross-entropy",
        json={"labels": [1, 0, 0], "predictions": [0.0, 0.0, 1.0], "reduction": "sum"},
    ).json()
    assert result["per_sample"] == ["Infinity", 0.0, "Infinity"]
    assert result["value"] == "Infinity"


def test_binary_label_smoothing_and_two_dimensions(client: TestClient) -> None:
    labels, preds = [[1, 0], [0, 1]], [[0.9, 0.2], [0.3, 0.6]]
    result = client.post(
        "/v1/losses/binary-cross-entropy",
        json={"labels": labels, "predictions": preds, "label_smoothing": 0.2},
    ).json()
    y = np.array(labels) * 0.8 + 0.1
    p = np.array(preds)
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(axis=1)
    assert result["per_sample"] == pytest.approx(expected.tolist(), rel=1e-12)


def test_categorical_sparse_and_one_hot_agree(client: TestClient) -> None:
    preds = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]]
    sparse = client.post(
        "/v1/losses/categorical-cross-entropy", json={"labels": [0, 1, 2], "predictions": preds}
    ).json()
    dense = client.post(
        "/v1/losses/categorical-cross-entropy",
        json={"labels": np.eye(3).tolist(), "predictions": preds},
    ).json()
    assert sparse == dense
    assert sparse["per_sample"] == pytest.approx([-math.log(0.7), -math.log(0.8), -math.log(0.4)])


def test_categorical_logits_with_smoothing(client: TestClient) -> None:
    logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
    result = client.post(
        "/v1/losses/categorical-cross-entropy",
        json={"labels": [0, 2], "predictions": logits.tolist(), "from_logits": True,
              "label_smoothing": 0.1, "reduction": "sum"},
    ).json()  # fmt: skip
    y = np.eye(3)[[0, 2]] * 0.9 + 0.1 / 3
    expected = -(y * special.log_softmax(logits, axis=1)).sum(axis=1)
    assert result["per_sample"] == pytest.approx(expected.tolist(), rel=1e-12)
    assert result["value"] == pytest.approx(expected.sum(), rel=1e-12)


def test_kl_per_sample_against_scipy(client: TestClient) -> None:
    labels, preds = [[0.9, 0.1], [0.5, 0.5], [1.0, 0.0]], [[0.8, 0.2], [0.6, 0.4], [0.5, 0.5]]
    result = client.post(
        "/v1/losses/kl-divergence", json={"labels": labels, "predictions": preds}
    ).json()
    expected = [stats.entropy(y, q) for y, q in zip(labels, preds, strict=True)]
    assert result["per_sample"] == pytest.approx(expected, rel=1e-12)
    assert result["value"] == pytest.approx(np.mean(expected), rel=1e-12)


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("binary-cross-entropy", {"labels": [1, 0], "predictions": [0.5]}, ["body", "predictions"]),
        ("binary-cross-entropy", {"labels": [1, 2], "predictions": [0.5, 0.5]}, ["body", "labels", 1]),
        ("binary-cross-entropy", {"labels": [1, 0], "predictions": [0.5, 1.5]}, ["body", "predictions", 1]),
        ("binary-cross-entropy", {"labels": [1, 0], "predictions": [0.5, "x"]}, ["body", "predictions", 1]),
        ("binary-cross-entropy", {"labels": [1], "predictions": [0.5], "reduction": "max"}, ["body", "reduction"]),
        ("categorical-cross-entropy", {"labels": [0, 3], "predictions": [[0.5, 0.5], [0.5, 0.5]]}, ["body", "labels", 1]),
        ("categorical-cross-entropy", {"labels": [[1, 0]], "predictions": [[0.5, 0.6]]}, ["body", "predictions", 0]),
        ("categorical-cross-entropy", {"labels": [[1, 0]], "predictions": [0.5, 0.5]}, ["body", "predictions"]),
        ("kl-divergence", {"labels": [0, 1], "predictions": [[0.5, 0.5], [0.5, 0.5]]}, ["body", "predictions"]),
        ("kl-divergence", {"labels": [[1, 0]], "predictions": [[-0.5, 1.5]]}, ["body", "predictions", 0, 0]),
        ("kl-divergence", {"labels": [[1, 0]], "predictions": [[0.5, 0.5]], "label_smoothing": 2}, ["body", "label_smoothing"]),
    ],
)  # fmt: skip
def test_bad_input(client: TestClient, path: str, body: dict[str, Any], loc: list[Any]) -> None:
    r = client.post(f"/v1/losses/{path}", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["loc"] == loc

"""POST /v1/hellinger-distance: the measure added through the registry, end to end.

Reference values by hand: H(p, q) = sqrt(1 - sum sqrt(p q)), unitless, in [0, 1]."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from fastapi.testclient import TestClient

URL = "/v1/hellinger-distance"
# [0.5, 0.5] against [0.9, 0.1]: sum sqrt(p q) = sqrt(0.45) + sqrt(0.05)
BY_HAND = math.sqrt(1 - (math.sqrt(0.45) + math.sqrt(0.05)))


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_reference_value(client: TestClient) -> None:
    r = client.post(URL, json={"p": [0.5, 0.5], "q": [0.9, 0.1]})
    assert r.status_code == 200, r.text
    assert r.json() == {"normalized": False, "smoothing": None, "value": pytest.approx(BY_HAND)}
    assert r.json()["value"] == pytest.approx(0.32491969623290634, rel=1e-12)


def test_identical_inputs_are_0_and_disjoint_supports_1(client: TestClient) -> None:
    same = client.post(URL, json={"p": [0.2, 0.3, 0.5], "q": [0.2, 0.3, 0.5]})
    assert same.json()["value"] == 0.0
    disjoint = client.post(URL, json={"p": [0.5, 0.5, 0, 0], "q": [0, 0, 0.25, 0.75]})
    assert disjoint.json()["value"] == 1.0


def test_symmetric_batches_labels_and_counts(client: TestClient) -> None:
    forward = client.post(URL, json={"p": [0.9, 0.1], "q": [0.5, 0.5]}).json()["value"]
    assert forward == pytest.approx(BY_HAND, rel=1e-12)
    batch = client.post(URL, json={"p": [[0.5, 0.5], [0.9, 0.1], [1, 0]], "q": [0.9, 0.1]})
    assert batch.json()["value"] == pytest.approx([BY_HAND, 0.0, math.sqrt(1 - math.sqrt(0.9))])
    labels = client.post(URL, json={"p": {"a": 0.5, "b": 0.5}, "q": {"b": 0.1, "a": 0.9}})
    assert labels.json()["value"] == pytest.approx(BY_HAND, rel=1e-12)
    counts = client.post(URL, json={"p": [5, 5], "q": [9, 1], "normalize": True}).json()
    assert counts["value"] == pytest.approx(BY_HAND, rel=1e-12) and counts["normalized"] is True


def test_npy_body(client: TestClient) -> None:
    headers = {"content-type": "application/x-npy"}
    r = client.post(URL, content=_npy(np.array([[0.5, 0.5], [0.9, 0.1]])), headers=headers)
    assert r.status_code == 200 and r.json()["value"] == pytest.approx(BY_HAND, rel=1e-12)
    assert "unit" not in r.json()


def test_unit_is_refused(client: TestClient) -> None:
    for unit in ("bits", "nats"):
        r = client.post(URL, json={"p": [0.5, 0.5], "q": [0.9, 0.1], "unit": unit})
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["loc"] == ["body", "unit"]
    npy = _npy(np.array([[0.5, 0.5], [0.9, 0.1]]))
    r = client.post(f"{URL}?unit=bits", content=npy, headers={"content-type": "application/x-npy"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "unit"]


def test_bad_input_names_the_field(client: TestClient) -> None:
    r = client.post(URL, json={"p": [0.5, 0.5], "q": [0.9, 0.2]})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"][:2] == ["body", "q"]
    r = client.post(URL, json={"p": [0.5, 0.5], "q": [0.3, 0.3, 0.4]})
    assert r.status_code == 422
    r = client.post(URL, json={"p": [0.5, 0.5]})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "q"]

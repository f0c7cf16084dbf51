"""The unitless pair measures served through the registry: total variation, Bhattacharyya
coefficient, Pearson and Neyman chi-square, each against scipy's same-work call or the
defining sum by hand, with their edge cases over HTTP."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy import stats
from scipy.spatial import distance

P = [0.1, 0.2, 0.3, 0.4]
Q = [0.25, 0.25, 0.25, 0.25]
REFERENCE = {
    "/v1/total-variation": distance.cityblock(P, Q) / 2,
    "/v1/bhattacharyya-coefficient": math.fsum(math.sqrt(a * b) for a, b in zip(P, Q, strict=True)),
    "/v1/pearson-chi-square": stats.chisquare(P, Q).statistic,
    "/v1/neyman-chi-square": stats.power_divergence(P, Q, lambda_="neyman").statistic,
}


@pytest.mark.parametrize(("path", "expected"), REFERENCE.items())
def test_reference_values(client: TestClient, path: str, expected: float) -> None:
    r = client.post(path, json={"p": P, "q": Q})
    assert r.status_code == 200, r.text
    echo = {"normalized": False, "smoothing": None, "value": pytest.approx(expected)}
    if "chi-square" in path:  # may be infinite: the events that make it so (none here)
        echo["infinite_events"] = []
    assert r.json() == echo
    assert r.json()["value"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("path", REFERENCE)
def test_unit_is_refused_and_batches_work(client: TestClient, path: str) -> None:
    refused = client.post(path, json={"p": P, "q": Q, "unit": "bits"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["body", "unit"]
    batch = client.post(path, json={"p": [P, Q], "q": Q})
    assert batch.json()["value"][0] == pytest.approx(REFERENCE[path], rel=1e-12)
    same = 1.0 if path.endswith("coefficient") else 0.0
    assert batch.json()["value"][1] == same


def test_edges_disjoint_supports_and_infinities(client: TestClient) -> None:
    p, q = [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]
    assert client.post("/v1/total-variation", json={"p": p, "q": q}).json()["value"] == 1.0
    assert client.post("/v1/bhattacharyya-coefficient", json={"p": p, "q": q}).json()["value"] == 0
    # mass where the denominator is 0: infinite, written as the string "Infinity"
    pearson = client.post("/v1/pearson-chi-square", json={"p": p, "q": q}).json()
    neyman = client.post("/v1/neyman-chi-square", json={"p": p, "q": q}).json()
    assert pearson["value"] == "Infinity" and neyman["value"] == "Infinity"
    # Neyman(p, q) is Pearson(q, p)
    swapped = client.post("/v1/pearson-chi-square", json={"p": Q, "q": P}).json()["value"]
    neyman_pq = client.post("/v1/neyman-chi-square", json={"p": P, "q": Q}).json()["value"]
    assert neyman_pq == pytest.approx(swapped, rel=1e-12)
    assert not np.isnan(neyman_pq)

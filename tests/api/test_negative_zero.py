"""A probability written -0.0 is 0: ``p / -0.0`` is ``-inf`` where ``p / 0.0`` is ``+inf``, so
a -0.0 in ``q`` under mass in ``p`` once turned an infinite KL divergence (and cross-entropy)
into a finite one (0.0 for a batch of 3000 events). Every body form goes through the same
check: short JSON (Python numbers), long JSON (numpy), batches and .npy."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from fastapi.testclient import TestClient

NPY = {"content-type": "application/x-npy"}


def _pair(n: int) -> tuple[list[float], list[float]]:
    p = [1.0 / n] * n
    q = [-0.0] + [1.0 / (n - 1)] * (n - 1)  # p[0] > 0 = q[0] only: the value is infinite
    return p, q


@pytest.mark.parametrize("n", [4, 3000])  # the short path of Python numbers, the numpy path
@pytest.mark.parametrize("measure", ["kl-divergence", "cross-entropy"])
def test_negative_zero_in_q_is_an_impossible_event(
    client: TestClient, n: int, measure: str
) -> None:
    p, q = _pair(n)
    assert math.copysign(1.0, q[0]) < 0
    body = client.post(f"/v1/{measure}", json={"p": p, "q": q}).json()
    assert body["value"] == "Infinity"
    assert body["infinite_events"] == [0]
    batch = client.post(f"/v1/{measure}", json={"p": [p, p], "q": [q, q]}).json()
    assert batch["value"] == ["Infinity", "Infinity"]
    assert batch["infinite_events"] == [[0], [0]]


def test_negative_zero_in_a_npy_body(client: TestClient) -> None:
    p, q = _pair(3000)
    buffer = io.BytesIO()
    np.save(buffer, np.array([p, q]))
    assert np.signbit(np.array(q)[0])
    body = client.post("/v1/kl-divergence", content=buffer.getvalue(), headers=NPY).json()
    assert body["value"] == "Infinity"
    assert body["infinite_events"] == [0]


def test_negative_zero_in_p_counts_as_zero(client: TestClient) -> None:
    # the same event with p = -0.0: it contributes nothing, as p = 0 does (scipy: 0.5 ln 2)
    body = client.post("/v1/kl-divergence", json={"p": [-0.0, 0.5, 0.5], "q": [0.0, 0.25, 0.75]})
    expected = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert body.json()["value"] == pytest.approx(expected, rel=1e-15)

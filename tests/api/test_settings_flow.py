"""Settings reach the numeric endpoints from create_app, not from the process environment:
a deployment's default tolerance decides which sums are accepted, on every path."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

OFF = [0.5, 0.55]  # sums to 1.05


def _app(tmp_path: Path, **settings: float) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path / "data", **settings)))


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _wide(total: float, n: int = 5000) -> list[float]:
    """A distribution of n events (a body over the 16 KiB computed inline) summing to ``total``."""
    return [total / n] * n


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        # small JSON: computed on the event loop
        ("/v1/entropy", {"p": OFF}, -(0.5 * np.log(0.5) + 0.55 * np.log(0.55))),
        # large JSON: computed in the thread pool
        ("/v1/entropy", {"p": _wide(1.05)}, -1.05 * np.log(1.05 / 5000)),
        ("/v1/kl-divergence", {"p": OFF, "q": [0.5, 0.5]}, None),
    ],
)
def test_a_non_default_tolerance_takes_effect(
    tmp_path: Path, path: str, body: dict[str, object], expected: float | None
) -> None:
    strict = _app(tmp_path / "strict")  # the default, 1e-6
    loose = _app(tmp_path / "loose", default_tolerance=0.1)
    refused = strict.post(path, json=body)
    assert refused.status_code == 422 and "tolerance 1e-06" in refused.json()["detail"]
    answered = loose.post(path, json=body)
    assert answered.status_code == 200, answered.text
    if expected is not None:
        assert answered.json()["value"] == pytest.approx(expected, rel=1e-12)
    # a tolerance in the request still wins over the deployment's default
    assert loose.post(path, json={**body, "tolerance": 1e-3}).status_code == 422


def test_the_default_tolerance_applies_to_npy_bodies(tmp_path: Path) -> None:
    body = _npy(np.array(OFF))
    headers = {"content-type": "application/x-npy"}
    assert (
        _app(tmp_path / "a").post("/v1/entropy", content=body, headers=headers).status_code == 422
    )
    loose = _app(tmp_path / "b", default_tolerance=0.1)
    answered = loose.post("/v1/entropy", content=body, headers=headers)
    assert answered.status_code == 200
    assert answered.json()["value"] == pytest.approx(-(0.5 * np.log(0.5) + 0.55 * np.log(0.55)))

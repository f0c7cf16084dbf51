"""What a request may make the service do: classes, bootstrap work, integer ranges, keys.

Values are checked against independent computations (scipy, the one-hot formula, numpy's
quantiles); costs against tracemalloc, which sees numpy's allocations.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from scipy.special import log_softmax

from app import infotheory as it
from app.config import Settings
from app.fitting.families import FAMILIES
from app.main import create_app
from app.schemas.losses import LossRequest
from app.schemas.modelfit import ModelFitRequest
from app.services import losses, modelfit
from app.services.figures import MAX_BARS, model_fit_svg

CCE = "/v1/losses/categorical-cross-entropy"
WORMS = [2, 3, 5, 14, 16, 15, 12, 8, 10, 8, 7]


def _peak_bytes(call: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _post_raw(client: TestClient, url: str, raw: bytes) -> Any:
    return client.post(url, content=raw, headers={"content-type": "application/json"})


# -- categorical losses: class indices are gathered, never expanded --------------------------


def _one_hot_reference(indices: list[int], z: Any, logits: bool, alpha: float) -> Any:
    """-sum y log q with explicit (smoothed) one-hot rows, through scipy."""
    y = np.eye(z.shape[1])[indices] * (1.0 - alpha) + alpha / z.shape[1]
    log_q = log_softmax(z, axis=1) if logits else np.log(z)
    return -(y * log_q).sum(axis=1)


@pytest.mark.parametrize("logits", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 0.1, 1.0])
def test_class_indices_equal_the_one_hot_computation(
    client: TestClient, logits: bool, alpha: float
) -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(size=(6, 5)) * 3 if logits else rng.dirichlet(np.ones(5), size=6)
    indices = [0, 4, 2, 2, 1, 3]
    body = {"labels": indices, "predictions": z.tolist(), "from_logits": logits,
            "label_smoothing": alpha, "reduction": "none"}  # fmt: skip
    sparse = client.post(CCE, json=body).json()
    one_hot = client.post(CCE, json={**body, "labels": np.eye(5)[indices].tolist()}).json()
    reference = _one_hot_reference(indices, z, logits, alpha)
    assert sparse["per_sample"] == pytest.approx(reference.tolist(), rel=1e-12, abs=1e-15)
    assert sparse["per_sample"] == pytest.approx(one_hot["per_sample"], rel=1e-12, abs=1e-15)


def test_class_indices_against_an_impossible_prediction(client: TestClient) -> None:
    body = {"labels": [0, 1], "predictions": [[0.0, 1.0], [0.0, 1.0]], "reduction": "none"}
    assert client.post(CCE, json=body).json()["per_sample"] == ["Infinity", 0.0]
    smoothed = client.post(CCE, json={**body, "label_smoothing": 0.2, "unit": "bits"}).json()
    assert smoothed["per_sample"] == ["Infinity", "Infinity"]


def test_sixteen_thousand_classes_cost_what_the_request_is() -> None:
    """One label against a 16,000-wide row: np.eye(16000) took 1.95 GiB; now a few rows."""
    classes = 16_000
    row = np.full((1, classes), 1.0 / classes)
    request = LossRequest.model_validate({"labels": [7], "predictions": row.tolist()})
    answer = losses.categorical_cross_entropy(request, 100_000)
    assert answer.value == pytest.approx(np.log(classes), rel=1e-12)
    peak = _peak_bytes(lambda: losses.categorical_cross_entropy(request, 100_000))
    assert peak < 4 * row.nbytes + 64 * 1024, f"{peak} bytes for a {row.nbytes}-byte row"


def _labels(url: str, classes: int) -> list[Any]:
    if url.endswith("kl-divergence"):
        return [[1.0] + [0.0] * (classes - 1)]
    if url.endswith("binary-cross-entropy"):
        return [[1.0] * classes]
    return [0]


@pytest.mark.parametrize(
    "url", [CCE, "/v1/losses/kl-divergence", "/v1/losses/binary-cross-entropy"]
)
def test_more_classes_than_the_setting_allows_is_422(url: str, tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "d", keras_home=tmp_path / "k", max_classes=8))
    with TestClient(app) as client:
        r = client.post(url, json={"labels": _labels(url, 9), "predictions": [[1.0 / 9] * 9]})
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        error = r.json()["errors"][0]
        assert error["loc"] == ["body", "predictions"]
        assert "DIVERGENCE_MAX_CLASSES" in error["msg"] and "limit of 8" in error["msg"]
        ok = client.post(url, json={"labels": _labels(url, 8), "predictions": [[0.125] * 8]})
        assert ok.status_code == 200, ok.text


def test_one_hundred_thousand_and_one_classes_is_422_by_default(client: TestClient) -> None:
    body = {"labels": [0], "predictions": [[1.0] + [0.0] * 100_000]}
    r = client.post(CCE, json=body)
    assert r.status_code == 422 and "DIVERGENCE_MAX_CLASSES" in r.text
    at_limit = client.post(CCE, json={"labels": [0], "predictions": [[1.0] + [0.0] * 99_999]})
    assert at_limit.status_code == 200 and at_limit.json()["value"] == 0.0


# -- model-fit bootstrap: capped, and computed in bounded chunks ----------------------------


def test_bootstrap_over_the_work_limit_is_422(client: TestClient) -> None:
    r = client.post("/v1/model-fit", json={"counts": [1] * 2501, "bootstrap": {"resamples": 20000}})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    error = r.json()["errors"][0]
    assert error["loc"] == ["body", "bootstrap", "resamples"]
    assert "DIVERGENCE_MAX_BOOTSTRAP_WORK" in error["msg"] and "3998" in error["msg"]


def test_bootstrap_limit_is_a_setting(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", keras_home=tmp_path / "k", max_bootstrap_work=1000)
    with TestClient(create_app(settings)) as client:
        body = {"counts": WORMS, "bootstrap": {"resamples": 91}}
        assert client.post("/v1/model-fit", json=body).status_code == 422
        body["bootstrap"] = {"resamples": 90}
        assert client.post("/v1/model-fit", json=body).status_code == 200


def test_chunked_bootstrap_equals_numpy_in_one_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    request = ModelFitRequest(counts=WORMS, bootstrap={"resamples": 500, "seed": 3})
    whole = modelfit.fit(request, 10**7)
    monkeypatch.setattr(modelfit, "CHUNK_CELLS", 37)  # 3 resamples a chunk
    assert modelfit.fit(request, 10**7) == whole
    # the reference: every resample at once, numpy's quantiles
    counts = np.array(WORMS, dtype=np.float64)
    n = counts.sum()
    resampled = np.random.default_rng(3).multinomial(n, counts / n, size=500).astype(np.float64)
    for model in whole.models:
        pmf = FAMILIES[model.family](resampled).probabilities
        scores = np.asarray(it.kl_divergence(resampled / n, pmf))
        low, high = np.quantile(scores, [0.025, 0.975])
        assert model.interval is not None
        assert (model.interval.low, model.interval.high) == pytest.approx((low, high), rel=1e-12)


def test_bootstrap_at_the_limit_stays_small_and_quick() -> None:
    """2501 values x 3998 resamples (10**7 cells): 20,000 resamples peaked at 4.7 GiB, 15 s."""
    request = ModelFitRequest(counts=[1] * 2501, bootstrap={"resamples": 3998})
    start = time.perf_counter()
    peak = _peak_bytes(lambda: modelfit.fit(request, 10**7))
    elapsed = time.perf_counter() - start
    assert peak < 48 * 2**20, f"peak {peak / 2**20:.1f} MiB"
    assert elapsed < 10, f"{elapsed:.1f} s"


def test_infinite_divergences_give_infinite_intervals_not_nan(client: TestClient) -> None:
    # Binomial(2500, 1/2) underflows to 0 at the ends of the support: D is infinite
    body = {"counts": [1] * 2501, "families": ["binomial"], "bootstrap": {"resamples": 20}}
    fit = client.post("/v1/model-fit", json=body).json()
    binomial = next(m for m in fit["models"] if m["family"] == "binomial")
    assert binomial["divergence"] == "Infinity"
    assert binomial["interval"]["low"] == binomial["interval"]["high"] == "Infinity"


# -- model-fit integers and keys: 422 before anything is allocated --------------------------


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"counts": [2**64, 0]}, ["body", "counts", 0]),
        ({"counts": [2**62, 2**62]}, ["body", "counts", 0]),
        ({"counts": [2**53, 1]}, ["body", "counts"]),
        ({"samples": [2**63]}, ["body", "samples", 0]),
        ({"samples": [3, 10**9]}, ["body", "samples", 1]),
        ({"label_counts": {"1": 2**63 - 1, "2": 2**63 - 1}}, ["body", "label_counts", "1"]),
        ({"label_counts": {"1": 2**53, "2": 2**53}}, ["body", "label_counts"]),
        ({"label_counts": {"999999": 1}}, ["body", "label_counts", "999999"]),
        ({"label_counts": {"1" + "0" * 5000: 1}}, ["body", "label_counts", "1" + "0" * 5000]),
        ({"label_counts": {"\u00b2": 1}}, ["body", "label_counts", "\u00b2"]),
        ({"label_counts": {"-1": 1}}, ["body", "label_counts", "-1"]),
    ],
)
def test_integers_past_the_bounds_are_422(
    client: TestClient, body: dict[str, Any], loc: list[Any]
) -> None:
    r = client.post("/v1/model-fit", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == loc


def test_leading_zeros_in_a_label_are_fine(client: TestClient) -> None:
    fit = client.post("/v1/model-fit", json={"label_counts": {"0000002": 3, "0": 1}}).json()
    assert fit["observed"]["counts"] == [1, 0, 3]


def test_a_sample_of_a_billion_is_refused_before_allocating() -> None:
    """np.bincount([10**9]) allocated 8 GB before its 422."""
    body = json.dumps({"samples": [10**9]})

    def refuse() -> None:
        with pytest.raises(ValidationError) as error:
            ModelFitRequest.model_validate_json(body)
        assert error.value.errors()[0]["loc"] == ("samples", 0)

    assert _peak_bytes(refuse) < 2**20


@pytest.mark.parametrize(
    ("raw", "loc"),
    [
        (b'{"label_counts": {"\\ud800": 1}}', ["body", "label_counts", "\\ud800"]),
        (b'{"label_counts": {"1": 2, "x\\udfff": 1}}', ["body", "label_counts", "x\\udfff"]),
        (b'{"counts": [1, 2], "custom": [{"name": "\\ud800", "p": [0.5, 0.5]}]}',
         ["body", "custom", 0, "name"]),
    ],
)  # fmt: skip
def test_lone_surrogates_are_422(client: TestClient, raw: bytes, loc: list[Any]) -> None:
    r = _post_raw(client, "/v1/model-fit", raw)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["loc"] == loc


# -- pictures: bounded whatever the support -------------------------------------------------


def test_a_wide_support_is_drawn_in_bins() -> None:
    counts = np.bincount(np.random.default_rng(0).poisson(3000, 20_000), minlength=10_001)
    request = ModelFitRequest(counts=counts.tolist(), bootstrap={"resamples": 0})
    fit = modelfit.fit(request, 10**7)
    svg = model_fit_svg(fit)
    bars = svg.count("<rect") - 2  # the background and the frame are rects too
    assert bars <= MAX_BARS * (1 + len(fit.models))
    assert "bins of 167 values" in svg and "3006-3172" in svg
    assert len(svg) < 100_000
    small = modelfit.fit(ModelFitRequest(counts=WORMS, bootstrap={"resamples": 0}), 10**7)
    assert model_fit_svg(small).count("<rect") - 2 == 11 * 5

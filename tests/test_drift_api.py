"""/v1/drift through the API: references and versions, checks and verdicts, overflow,
thresholds, history pages, gauges, the picture, tenancy, caps and bad input."""

from __future__ import annotations

import hashlib
import math
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.stats

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.api.metrics import _DriftCollector
from app.config import Settings
from app.jobs.models import DriftReferenceRow
from app.main import create_app
from app.schemas.drift import CheckRequest, ReferenceCreate
from app.services.drift import compute_check
from app.services.drift_features import build_feature

REFS = "/v1/drift/references"
ALPHA, BETA, ADMIN = {"x-api-key": "alpha"}, {"x-api-key": "beta"}, {"x-api-key": "root"}


def _settings(tmp: Path, **kw: Any) -> Settings:
    return Settings(data_dir=tmp / "data", keras_home=tmp / "keras", **kw)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(tmp_path))) as made:
        yield made


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[TestClient]:
    settings = _settings(tmp_path, api_keys="alpha,beta", admin_api_keys="root")
    with TestClient(create_app(settings)) as made:
        yield made


def _normal(seed: int, n: int, shift: float = 0.0) -> list[float]:
    values: list[float] = (np.random.default_rng(seed).normal(size=n) + shift).tolist()
    return values


def _reference(
    client: TestClient, name: str = "shop", headers: dict[str, str] | None = None, **features: Any
) -> dict[str, Any]:
    features = features or {"amount": {"kind": "numeric", "samples": _normal(1, 2000)}}
    r = client.post(REFS, json={"name": name, "features": features}, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _check(client: TestClient, window: dict[str, Any], name: str = "shop", **body: Any) -> Any:
    r = client.post(f"{REFS}/{name}/checks", json={"window": window, **body})
    assert r.status_code == 201, r.text
    return r.json()


def test_reference_bins_once_by_quantiles_and_versions(client: TestClient) -> None:
    x = _normal(1, 2000)
    ref = _reference(
        client, amount={"kind": "numeric", "samples": x, "bins": {"rule": "quantiles", "count": 5}}
    )
    amount = ref["features"]["amount"]
    assert amount["edges"] == pytest.approx(np.quantile(x, np.linspace(0, 1, 6)).tolist())
    assert amount["counts"] == [400] * 5 and amount["open_ends"] is True
    assert ref["version"] == 1 and ref["versions"] == [1]
    again = _reference(client, country={"kind": "categorical", "labels": ["b", "a", "b", 3]})
    assert again["version"] == 2 and again["versions"] == [1, 2]
    assert again["features"]["country"]["labels"] == ["3", "a", "b"]
    assert again["features"]["country"]["counts"] == [1, 1, 2]
    assert client.get(f"{REFS}/shop").json()["version"] == 2
    assert "amount" in client.get(f"{REFS}/shop?version=1").json()["features"]
    listed = client.get(REFS).json()["items"]
    assert [(r["name"], r["version"]) for r in listed] == [("shop", 2)]
    assert client.delete(f"{REFS}/shop?version=2").status_code == 204
    assert client.get(f"{REFS}/shop").json()["version"] == 1
    assert client.delete(f"{REFS}/shop").status_code == 204
    assert client.get(f"{REFS}/shop").status_code == 404
    assert client.delete(f"{REFS}/shop").status_code == 404


def test_same_law_is_no_drift_and_a_shift_is_drift(client: TestClient) -> None:
    _reference(client)
    same = _check(client, {"amount": _normal(2, 1000)}, bootstrap={"seed": 1})
    assert same["verdict"] == "no drift"
    shifted = _check(client, {"amount": _normal(3, 1000, shift=1.0)}, bootstrap={"seed": 1})
    assert shifted["verdict"] == "drift"
    psi = shifted["features"]["amount"]["measures"]["population_stability_index"]
    assert psi["significant"] is True and psi["value"] >= 0.25
    low, high = psi["interval"]
    assert low <= psi["value"] <= high
    assert shifted["bootstrap"] == {"resamples": 200, "seed": 1, "confidence": 0.95}


def _row(request: ReferenceCreate, settings: Settings) -> DriftReferenceRow:
    features = {
        n: build_feature(n, f, settings).model_dump(mode="json")
        for n, f in request.features.items()
    }
    shared = {m: t.model_dump() for m, t in (request.thresholds or {}).items()}
    return DriftReferenceRow(
        name=request.name, version=1, spec={"features": features, "thresholds": shared}
    )


def test_no_drift_in_about_the_nominal_share_of_seeded_trials(tmp_path: Path) -> None:
    """With thresholds at 0 the verdict is the test alone: at confidence 0.9 about 90% of
    windows from the reference's own law are "no drift" (binomial(120, 0.9): sd 3.3)."""
    settings = _settings(tmp_path)
    zero = {"population_stability_index": {"moderate": 0.0, "drift": 0.0}}
    quiet = alarms = 0
    trials = 120
    for trial in range(trials):
        rng = np.random.default_rng(trial)
        request = ReferenceCreate.model_validate(
            {
                "name": "t",
                "thresholds": zero,
                "features": {"x": {"kind": "numeric", "samples": rng.normal(size=1000).tolist()}},
            }
        )
        check = CheckRequest.model_validate(
            {
                "window": {"x": rng.normal(size=300).tolist()},
                "measures": ["population_stability_index"],
                "bootstrap": {"resamples": 99, "seed": trial, "confidence": 0.9},
            }
        )
        result = compute_check(_row(request, settings), check, settings)
        quiet += result.verdict == "no drift"
        # the customary bands alone: PSI of 10 bins at these sizes is about 9 (1/1000 +
        # 1/300) = 0.04 on average, rarely 0.1
        psi = result.features["x"].measures["population_stability_index"].value
        alarms += psi >= 0.1
    assert 0.8 * trials <= quiet <= 0.98 * trials
    assert alarms <= 0.05 * trials


def test_overflow_is_counted_and_reported(client: TestClient) -> None:
    _reference(
        client,
        amount={"kind": "numeric", "samples": [1.0, 2.0, 3.0, 4.0], "bins": {"edges": [0, 2, 5]}},
    )
    window = {"amount": [-1.0, 1.0, 3.0, 3.0, 6.0, 7.0]}
    found = _check(client, window, bootstrap={"resamples": 0})["features"]["amount"]
    assert (found["underflow"], found["overflow"], found["n"]) == (1, 2, 6)
    psi = found["measures"]["population_stability_index"]
    assert psi["value"] == "Infinity"
    assert psi["infinite_bins"] == ["underflow (< 0)", "overflow (> 5)"]
    # smoothed by hand: slots [under, [0,2), [2,5], over], alpha on all four (closed ends)
    alpha = 0.01
    smoothed = _check(client, window, bootstrap={"resamples": 0}, smoothing={"alpha": alpha})
    p = (np.array([1, 1, 2, 2]) / 6 + alpha) / (1 + 4 * alpha)
    q = (np.array([0, 1, 3, 0]) / 4 + alpha) / (1 + 4 * alpha)
    value = smoothed["features"]["amount"]["measures"]["population_stability_index"]["value"]
    assert value == pytest.approx(float(np.sum((p - q) * np.log(p / q))), rel=1e-12)
    # open ends fold them into the outer bins, and still report them
    _reference(
        client,
        name="open",
        amount={
            "kind": "numeric",
            "samples": [1.0, 2.0, 3.0, 4.0],
            "bins": {"edges": [0, 2, 5], "open_ends": True},
        },
    )
    folded = _check(client, window, name="open", bootstrap={"resamples": 0})
    amount = folded["features"]["amount"]
    assert (amount["underflow"], amount["overflow"]) == (1, 2)
    p, q = np.array([2, 4]) / 6, np.array([1, 3]) / 4
    assert amount["measures"]["population_stability_index"]["value"] == pytest.approx(
        float(np.sum((p - q) * np.log(p / q))), rel=1e-12
    )


def test_thresholds_per_feature_win_over_shared_and_defaults(client: TestClient) -> None:
    counts = {"a": 50, "b": 50}
    strict = {"js_divergence": {"moderate": 0.001, "drift": 0.002}}
    r = client.post(
        REFS,
        json={
            "name": "t",
            "thresholds": {"population_stability_index": {"moderate": 5, "drift": 10}},
            "features": {
                "loose": {"kind": "categorical", "counts": counts},
                "strict": {"kind": "categorical", "counts": counts, "thresholds": strict},
            },
        },
    )
    assert r.status_code == 201, r.text
    window = {"loose": {"a": 60, "b": 40}, "strict": {"a": 60, "b": 40}}
    found = _check(client, window, name="t", bootstrap={"resamples": 0})["features"]
    p, q = np.array([0.6, 0.4]), np.array([0.5, 0.5])
    m = (p + q) / 2
    js = float(np.sum(p * np.log(p / m)) + np.sum(q * np.log(q / m))) / 2
    assert found["strict"]["measures"]["js_divergence"]["value"] == pytest.approx(js, 1e-12)
    assert found["strict"]["measures"]["js_divergence"]["verdict"] == "drift"
    assert found["loose"]["measures"]["js_divergence"]["verdict"] == "no drift"  # default 0.05
    assert found["loose"]["measures"]["population_stability_index"]["thresholds"] == {
        "moderate": 5.0,
        "drift": 10.0,
    }
    assert found["strict"]["verdict"] == "drift" and found["loose"]["verdict"] == "no drift"
    r = client.post(
        REFS,
        json={
            "name": "bad",
            "features": {
                "x": {
                    "kind": "categorical",
                    "counts": counts,
                    "thresholds": {"js_divergence": {"moderate": 0.2, "drift": 0.1}},
                }
            },
        },
    )
    assert r.status_code == 422


def test_unseen_labels_are_counted(client: TestClient) -> None:
    _reference(client, country={"kind": "categorical", "counts": {"DE": 60, "FR": 40}})
    found = _check(client, {"country": ["DE", "FR", "ES", "ES", "PT"]}, bootstrap={"resamples": 0})[
        "features"
    ]["country"]
    assert found["unseen"] == 3 and found["unseen_labels"] == ["ES", "PT"]
    assert found["measures"]["population_stability_index"]["infinite_bins"] == ["(unseen labels)"]


def test_history_pages_newest_first_with_since(client: TestClient) -> None:
    _reference(client)
    ids = [
        _check(client, {"amount": _normal(i, 50)}, bootstrap={"resamples": 0})["id"]
        for i in range(5)
    ]
    first = client.get(f"{REFS}/shop/checks?limit=2").json()
    assert [c["id"] for c in first["items"]] == ids[::-1][:2]
    second = client.get(f"{REFS}/shop/checks?limit=2&cursor={first['next_cursor']}").json()
    assert [c["id"] for c in second["items"]] == ids[::-1][2:4]
    third = client.get(f"{REFS}/shop/checks?limit=2&cursor={second['next_cursor']}").json()
    assert [c["id"] for c in third["items"]] == ids[:1] and third["next_cursor"] is None
    one = client.get(f"{REFS}/shop/checks/{ids[2]}").json()
    since = one["created_at"]
    newer = client.get(f"{REFS}/shop/checks", params={"since": since}).json()
    assert [c["id"] for c in newer["items"]] == ids[::-1][:2]
    assert client.get(f"{REFS}/shop/checks?cursor=nonsense").status_code == 422


def test_the_oldest_checks_are_dropped_beyond_the_cap(tmp_path: Path) -> None:
    with TestClient(create_app(_settings(tmp_path, drift_max_checks=3))) as client:
        _reference(client)
        ids = [
            _check(client, {"amount": [0.1, 0.2]}, bootstrap={"resamples": 0})["id"]
            for _ in range(5)
        ]
        kept = client.get(f"{REFS}/shop/checks").json()["items"]
        assert [c["id"] for c in kept] == ids[::-1][:3]


@pytest.fixture
def gauged(tmp_path: Path) -> Iterator[TestClient]:
    """Drift gauges on (they are off by default)."""
    with TestClient(create_app(_settings(tmp_path, drift_metrics_max_series=10_000))) as made:
        yield made


def test_gauges_appear_in_metrics_and_go_with_the_reference(gauged: TestClient) -> None:
    client = gauged
    _reference(client)
    found = _check(client, {"amount": _normal(3, 1000, shift=1.0)}, bootstrap={"seed": 1})
    value = found["features"]["amount"]["measures"]["population_stability_index"]["value"]
    text = client.get("/metrics").text
    assert "testclient" not in text  # keys off: the owner is "anonymous", not the address
    labels = 'feature="amount",measure="population_stability_index",owner="anonymous",'
    line = next(
        x
        for x in text.splitlines()
        if x.startswith(f'divergence_drift_value{{{labels}reference="shop"}}')
    )
    assert float(line.split()[-1]) == pytest.approx(value)
    assert (
        'divergence_drift_verdict{feature="amount",owner="anonymous",reference="shop"} 2.0' in text
    )
    assert 'divergence_drift_reference_verdict{owner="anonymous",reference="shop"} 2.0' in text
    client.delete(f"{REFS}/shop")
    assert 'reference="shop"' not in client.get("/metrics").text


def test_anonymous_owners_share_one_label_the_newest_reference_wins() -> None:
    summary = {"at": 1.0, "verdict": "drift", "features": {}}
    older = {"at": 0.5, "verdict": "no drift", "features": {}}
    rows = [("ip:10.0.0.1", "shop", summary), ("ip:10.0.0.2", "shop", older)]
    families = {f.name: f for f in _DriftCollector(lambda limit: rows, 100).collect()}
    samples = families["divergence_drift_reference_verdict"].samples
    assert [(s.labels, s.value) for s in samples] == [
        ({"owner": "anonymous", "reference": "shop"}, 2.0)
    ]
    assert families["divergence_drift_series_dropped"].samples[0].value == 2.0


def test_no_drift_gauges_by_default(client: TestClient) -> None:
    _reference(client)
    _check(client, {"amount": [0.5, 0.6]}, bootstrap={"resamples": 0})
    text = client.get("/metrics").text
    assert "divergence_drift_value{" not in text and 'reference="shop"' not in text
    assert "testclient" not in text


def test_gauges_name_owners_by_key_fingerprint_only(tmp_path: Path) -> None:
    settings = _settings(tmp_path, api_keys="alpha,beta", drift_metrics_max_series=100)
    with TestClient(create_app(settings)) as client:
        _reference(client, headers=ALPHA)
        r = client.post(
            f"{REFS}/shop/checks", headers=ALPHA, json={"window": {"amount": [0.5, 0.6]}}
        )
        assert r.status_code == 201, r.text
        text = client.get("/metrics").text
    fingerprint = "key:" + hashlib.sha256(b"alpha").hexdigest()[:16]
    assert f'divergence_drift_reference_verdict{{owner="{fingerprint}",reference="shop"}}' in text
    assert "alpha" not in text and "testclient" not in text


def test_metrics_series_are_capped(tmp_path: Path) -> None:
    with TestClient(create_app(_settings(tmp_path, drift_metrics_max_series=5))) as client:
        for name in ("a", "b"):  # each: 2 per reference + 1 verdict + 2 values = 5 series
            _reference(client, name=name)
            _check(client, {"amount": [0.5, 0.6]}, name=name, bootstrap={"resamples": 0})
        text = client.get("/metrics").text
        assert 'reference="b"' in text and 'reference="a"' not in text  # newest first
        assert "divergence_drift_series_dropped 5.0" in text


def test_picture_of_a_feature_over_its_checks(client: TestClient) -> None:
    _reference(client)
    for i in range(3):
        _check(client, {"amount": _normal(i, 100, shift=i)}, bootstrap={"resamples": 0})
    r = client.get(f"{REFS}/shop/plot?feature=amount")
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
    assert "Drift of amount against shop: 3 checks" in r.text
    assert r.text.count("<polyline") == 6  # 2 measures x (values, moderate, drift)
    assert client.get(f"{REFS}/shop/plot?feature=nope").status_code == 422


def test_tenancy(keyed: TestClient) -> None:
    _reference(keyed, headers=ALPHA)
    assert keyed.post(REFS, json={"name": "x", "features": {}}).status_code == 401
    assert keyed.get(f"{REFS}/shop", headers=BETA).status_code == 404
    assert keyed.delete(f"{REFS}/shop", headers=BETA).status_code == 404
    r = keyed.post(f"{REFS}/shop/checks", json={"window": {"amount": [1.0]}}, headers=BETA)
    assert r.status_code == 404
    assert keyed.get(f"{REFS}/shop/checks", headers=BETA).status_code == 404
    assert keyed.get(REFS, headers=BETA).json()["items"] == []
    owner = keyed.get(REFS, headers=ADMIN).json()["items"][0]["owner"]
    assert owner.startswith("key:")
    assert keyed.get(f"{REFS}/shop?owner={owner}", headers=BETA).status_code == 404
    assert keyed.get(f"{REFS}/shop?owner={owner}", headers=ADMIN).status_code == 200
    _reference(keyed, headers=BETA)  # the same name in another namespace: its own version 1
    assert keyed.get(f"{REFS}/shop", headers=BETA).json()["version"] == 1
    assert keyed.delete(f"{REFS}/shop?owner={owner}", headers=ADMIN).status_code == 204
    assert keyed.get(f"{REFS}/shop", headers=ALPHA).status_code == 404
    assert keyed.get(f"{REFS}/shop", headers=BETA).status_code == 200


@pytest.mark.parametrize(
    ("window", "loc"),
    [
        ({"height": [1.0, 2.0]}, ["body", "window", "height"]),
        ({"amount": []}, ["body", "window", "amount"]),
        ({"amount": [1.0, "x"]}, ["body", "window", "amount", 1]),
        ({"amount": {"counts": [1, 2]}}, ["body", "window", "amount", "counts"]),
        (
            {"amount": {"counts": [0] * 10, "underflow": -1}},
            ["body", "window", "amount", "underflow"],
        ),
        ({"country": ["DE", 1.5]}, ["body", "window", "country", 1]),
        ({"country": {"DE": "many"}}, ["body", "window", "country", "DE"]),
        ({"country": {"DE": 0}}, ["body", "window", "country"]),
        # counts above MAX_COUNT (1e12), refused before an int64 array could overflow or wrap
        ({"country": {"DE": 10**30}}, ["body", "window", "country", "DE"]),
        ({"country": {"DE": 2**62, "FR": 2**62}}, ["body", "window", "country", "DE"]),
        ({"country": {"DE": 10**12, "FR": 1}}, ["body", "window", "country"]),
        ({"amount": {"counts": [10**20] + [0] * 9}}, ["body", "window", "amount", "counts", 0]),
        (
            {"amount": {"counts": [1] * 10, "underflow": 2**63 - 1, "overflow": 2**63 - 1}},
            ["body", "window", "amount", "underflow"],
        ),
        ({"amount": {"counts": [10**12] * 10}}, ["body", "window", "amount"]),
    ],
)
def test_bad_windows_are_422_naming_the_feature(
    client: TestClient, window: dict[str, Any], loc: list[Any]
) -> None:
    _reference(
        client,
        amount={"kind": "numeric", "samples": _normal(1, 100)},
        country={"kind": "categorical", "counts": {"DE": 1}},
    )
    r = client.post(f"{REFS}/shop/checks", json={"window": window})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["loc"] == loc


def test_reference_counts_above_the_maximum_name_the_label(client: TestClient) -> None:
    features = {"c": {"kind": "categorical", "counts": {"a": 1, "b": 10**30}}}
    r = client.post(REFS, json={"name": "big", "features": features})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["body", "features", "c", "counts", "b"]


def test_bad_references_are_422(client: TestClient) -> None:
    cases = [
        {"name": "a b", "features": {"x": {"kind": "categorical", "counts": {"a": 1}}}},
        {"name": "a", "features": {}},
        {"name": "a", "features": {"x": {"kind": "numeric", "samples": [1.0, 1.0]}}},
        {"name": "a", "features": {"x": {"kind": "numeric", "counts": [1, 2]}}},
        {
            "name": "a",
            "features": {"x": {"kind": "numeric", "counts": [1], "bins": {"edges": [0, 1, 2]}}},
        },
        {
            "name": "a",
            "features": {
                "x": {"kind": "numeric", "samples": [1.0, 2.0], "bins": {"edges": [0, 0]}}
            },
        },
        {"name": "a", "features": {"x": {"kind": "categorical", "counts": {"a": 0}}}},
        {"name": "a", "features": {"x": {"kind": "other", "counts": {"a": 1}}}},
    ]
    for body in cases:
        r = client.post(REFS, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"


def test_caps_are_checked_before_the_work(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        drift_max_bins=8,
        drift_max_features=2,
        drift_max_bootstrap_work=1000,
        drift_max_references=2,
    )
    with TestClient(create_app(settings)) as client:

        def create(**features: Any) -> Any:
            return client.post(REFS, json={"name": "c", "features": features})

        many = create(x={"kind": "numeric", "samples": [1.0, 2.0], "bins": {"count": 9}})
        assert many.status_code == 422 and many.json()["errors"][0]["loc"] == [
            "body",
            "features",
            "x",
            "bins",
        ]
        c = {"kind": "categorical", "counts": {"a": 1}}
        assert create(a=c, b=c, d=c).status_code == 422
        assert create(a=c).status_code == 201
        r = client.post(
            f"{REFS}/c/checks", json={"window": {"a": ["a"]}, "bootstrap": {"resamples": 251}}
        )
        assert r.status_code == 422 and "DRIFT_MAX_BOOTSTRAP_WORK" in r.json()["detail"]
        assert create(a=c).status_code == 201
        quota = create(a=c)
        assert quota.status_code == 409 and "DRIFT_MAX_REFERENCES" in quota.json()["detail"]


def test_five_hundred_features_in_one_check(client: TestClient) -> None:
    """The batch form: 500 numeric features (10 quantile bins each), one check with the
    default measures and 200 resamples. The time is printed (docs/api.md states it)."""
    rng = np.random.default_rng(0)
    edges = np.array([-9.0, *scipy.stats.norm.ppf(np.linspace(0.1, 0.9, 9)), 9.0])  # deciles
    features = {}
    for i in range(500):  # counts on given edges: 500 samples each would pass 4 MB of JSON
        counts, _ = np.histogram(rng.normal(size=1000), edges)
        features[f"f{i}"] = {
            "kind": "numeric",
            "counts": counts.tolist(),
            "bins": {"edges": edges.tolist(), "open_ends": True},
        }
    made = client.post(REFS, json={"name": "wide", "features": features})
    assert made.status_code == 201, made.text
    window = {f"f{i}": rng.normal(size=200, loc=0.8 if i < 50 else 0).tolist() for i in range(500)}
    started = time.perf_counter()
    found = _check(client, window, name="wide", bootstrap={"seed": 5})
    print(f"\n500 features, 200 resamples: {time.perf_counter() - started:.2f} s")
    verdicts = [found["features"][f"f{i}"]["verdict"] for i in range(500)]
    assert all(v == "drift" for v in verdicts[:50])
    assert verdicts[50:].count("no drift") >= 0.9 * 450
    assert found["verdict"] == "drift"
    assert all(
        math.isfinite(f["measures"]["js_divergence"]["value"]) for f in found["features"].values()
    )


def test_the_same_on_postgresql(tmp_path: Path) -> None:
    from tests.e2e.servers import PrivateDatabase

    db = PrivateDatabase()
    try:
        settings = _settings(
            tmp_path, database_url=db.url, api_keys="alpha,beta", drift_metrics_max_series=100
        )
        with TestClient(create_app(settings)) as client:
            _reference(client, headers=ALPHA)
            r = client.post(
                f"{REFS}/shop/checks",
                headers=ALPHA,
                json={"window": {"amount": _normal(3, 1000, shift=1.0)}, "bootstrap": {"seed": 1}},
            )
            assert r.status_code == 201 and r.json()["verdict"] == "drift"
            assert client.get(f"{REFS}/shop/checks", headers=BETA).status_code == 404
            items = client.get(f"{REFS}/shop/checks", headers=ALPHA).json()["items"]
            assert [c["id"] for c in items] == [r.json()["id"]]
            assert "divergence_drift_reference_verdict{" in client.get("/metrics").text
    finally:
        db.drop()

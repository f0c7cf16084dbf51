"""The experiment API in-process: bad configs, limits, 404/409, data sets; no worker needed."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

PROBLEM = "application/problem+json"
CE = "categorical_crossentropy"


@pytest.fixture
def jobs(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", keras_home=tmp_path / "keras", max_epochs=30)
    with TestClient(create_app(settings)) as client:
        yield client


BAD: list[tuple[str, dict[str, Any], list[Any]]] = [
    ("unknown dataset", {"dataset": "imagenet"}, ["body", "dataset"]),
    ("unknown loss", {"losses": ["hinge"]}, ["body", "losses", 0]),
    ("no losses", {"losses": []}, ["body", "losses"]),
    ("repeated loss", {"losses": ["kl_divergence", "kl_divergence"]}, ["body", "losses"]),
    ("zero epochs", {"epochs": 0}, ["body", "epochs"]),
    ("epochs over the limit", {"epochs": 31}, ["body", "epochs"]),
    ("negative batch", {"batch_size": -5}, ["body", "batch_size"]),
    ("validation split too big", {"validation_split": 0.9}, ["body", "validation_split"]),
    ("tiny sample cap", {"train_samples": 3}, ["body", "train_samples"]),
    ("sample cap over the limit", {"train_samples": 10**6}, ["body", "train_samples"]),
    ("string epochs", {"epochs": "many"}, ["body", "epochs"]),
    ("unknown field", {"learning_rate": 0.1}, ["body", "learning_rate"]),
    ("label smoothing of 1", {"label_smoothing": 1.0}, ["body", "label_smoothing"]),
    ("negative label smoothing", {"label_smoothing": -0.1}, ["body", "label_smoothing"]),
    ("zero repeats", {"repeats": 0}, ["body", "repeats"]),
    ("repeats over the limit", {"repeats": 11}, ["body", "repeats"]),
    # the fuzzer's: the limit was once checked on the list of seeds, built first (OOM)
    ("astronomical repeats", {"repeats": 70901149830990602240}, ["body", "repeats"]),
    ("mixup above 100", {"mixup": 100.5}, ["body", "mixup"]),
    ("seeds over the limit", {"seeds": list(range(11))}, ["body", "seeds"]),
    ("repeated seed", {"seeds": [1, 1]}, ["body", "seeds"]),
    ("negative seed", {"seeds": [-1]}, ["body", "seeds", 0]),
    ("seeds and repeats", {"seeds": [1, 2], "repeats": 2}, ["body", "seeds"]),
    ("baseline not trained", {"losses": ["kl_divergence"], "baseline": CE}, ["body", "baseline"]),
]


@pytest.mark.parametrize(("body", "loc"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_configs_are_refused(jobs: TestClient, body: dict[str, Any], loc: list[Any]) -> None:
    r = jobs.post("/v1/experiments", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["errors"][0]["loc"] == loc
    assert jobs.get("/v1/experiments").json() == {"items": [], "next_cursor": None}


def test_missing_experiment_and_conflicts(jobs: TestClient) -> None:
    for method, path in [
        ("GET", "/v1/experiments/nope"),
        ("POST", "/v1/experiments/nope/cancel"),
        ("DELETE", "/v1/experiments/nope"),
        ("GET", "/v1/experiments/nope/plot.svg"),
        ("GET", "/v1/experiments/nope/events"),
    ]:
        r = jobs.request(method, path)
        assert (r.status_code, r.headers["content-type"]) == (404, PROBLEM), (method, path)
    job = jobs.post("/v1/experiments", json={"dataset": "synthetic", "epochs": 1}).json()
    assert job["status"] == "queued" and job["progress"]["runs"] == 2
    r = jobs.delete(f"/v1/experiments/{job['id']}")
    assert r.status_code == 409 and "cancel it first" in r.json()["detail"]
    assert jobs.get("/v1/experiments", params={"cursor": "bogus"}).status_code == 422


def test_datasets_list_shapes_and_offline_availability(jobs: TestClient, tmp_path: Path) -> None:
    items = {d["name"]: d for d in jobs.get("/v1/datasets").json()["items"]}
    assert set(items) == {"cifar10", "mnist", "fashion_mnist", "synthetic"}
    assert items["cifar10"]["shape"] == [32, 32, 3] and items["cifar10"]["classes"] == 10
    assert items["mnist"]["shape"] == [28, 28, 1]
    assert items["synthetic"]["available_offline"] is True
    assert items["cifar10"]["available_offline"] is False
    (tmp_path / "keras" / "datasets").mkdir(parents=True)
    (tmp_path / "keras" / "datasets" / "mnist.npz").write_bytes(b"cached")
    items = {d["name"]: d for d in jobs.get("/v1/datasets").json()["items"]}
    assert items["mnist"]["available_offline"] is True

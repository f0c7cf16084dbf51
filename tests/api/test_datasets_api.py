"""``GET /v1/datasets``: availability and where each set was found, from DIVERGENCE_DATA_DIRS."""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.worker.test_datasets import write_fashion


def _items(tmp_path: Path, **settings: object) -> dict[str, dict[str, object]]:
    app = create_app(
        Settings(data_dir=tmp_path / "data", keras_home=tmp_path / "keras", **settings)
    )  # type: ignore[arg-type]
    with TestClient(app) as client:
        return {d["name"]: d for d in client.get("/v1/datasets").json()["items"]}


def test_datasets_say_where_they_were_found(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write_fashion(second, train=2, test=1)
    (second / "mnist.npz").write_bytes(b"cached")
    dirs = f"{tmp_path / 'missing'},{first},{second}"
    items = _items(tmp_path, data_dirs=dirs)
    assert items["fashion_mnist"]["location"] == str(second / "fashion-mnist")
    assert items["fashion_mnist"]["available_offline"] is True
    assert items["mnist"]["location"] == str(second / "mnist.npz")
    assert items["cifar10"] == {**items["cifar10"], "location": None, "available_offline": False}
    assert items["synthetic"]["location"] is None and items["synthetic"]["available_offline"]
    # CIFAR-sized, and what an uncapped run really uses
    assert (items["synthetic"]["train_size"], items["synthetic"]["test_size"]) == (50000, 10000)

    write_fashion(first, train=2, test=1)  # an earlier directory wins
    assert _items(tmp_path, data_dirs=dirs)["fashion_mnist"]["location"] == str(
        first / "fashion-mnist"
    )
    # a directory holding only some of the files does not count
    (tmp_path / "partial" / "fashion-mnist").mkdir(parents=True)
    (tmp_path / "partial" / "fashion-mnist" / "train-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(np.zeros(4, np.uint8).tobytes())
    )
    items = _items(tmp_path, data_dirs=str(tmp_path / "partial"))
    assert items["fashion_mnist"]["location"] is None
    assert items["fashion_mnist"]["available_offline"] is False


def test_the_keras_cache_is_searched_by_default(tmp_path: Path) -> None:
    cache = tmp_path / "keras" / "datasets"
    write_fashion(cache, train=2, test=1)
    found = _items(tmp_path)["fashion_mnist"]["location"]
    debian = Path("/usr/share/datasets/fashion-mnist")  # first in the default order
    assert found == str(debian if debian.is_dir() else cache / "fashion-mnist")

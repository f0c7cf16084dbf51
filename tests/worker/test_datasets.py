"""Data sets: the synthetic generator, and CIFAR-10 read from a Keras cache the test writes."""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from app.catalog import DATASETS, cifar10_archive, is_cached
from app.worker import datasets


def test_synthetic_is_deterministic_and_cifar_shaped() -> None:
    (x1, y1), (t1, u1) = datasets.synthetic(200, 50, seed=3)
    (x2, y2), _ = datasets.synthetic(200, 50, seed=3)
    (x3, _), _ = datasets.synthetic(200, 50, seed=4)
    assert x1.shape == (200, 32, 32, 3) and x1.dtype == np.uint8
    assert t1.shape == (50, 32, 32, 3) and u1.shape == (50,)
    assert set(np.unique(y1)) <= set(range(10)) and len(np.unique(y1)) == 10
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)


def _batch(n: int, seed: int) -> tuple[bytes, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n)
    payload = {b"batch_label": b"test", b"labels": labels.tolist(), b"data": data}
    return pickle.dumps(payload, protocol=2), data, labels


def _write_cifar_archive(keras_home: Path, per_batch: int) -> tuple[np.ndarray, np.ndarray]:
    """A tiny CIFAR-10 in the layout keras.datasets.cifar10 downloads and caches."""
    archive = cifar10_archive(keras_home)
    archive.parent.mkdir(parents=True)
    train_data, test_data = [], None
    with tarfile.open(archive, "w:gz") as tar:
        for i, name in enumerate([*(f"data_batch_{k}" for k in range(1, 6)), "test_batch"]):
            blob, data, _ = _batch(per_batch, seed=i)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
            if name == "test_batch":
                test_data = data
            else:
                train_data.append(data)
    assert test_data is not None
    return np.concatenate(train_data), test_data


def test_cifar10_reads_the_keras_cache(tmp_path: Path) -> None:
    assert not is_cached(DATASETS["cifar10"], tmp_path)
    train_rows, test_rows = _write_cifar_archive(tmp_path, per_batch=4)
    assert is_cached(DATASETS["cifar10"], tmp_path)
    (x, y), (xt, yt) = datasets.load("cifar10", tmp_path, train=None, test=None, seed=0)
    assert x.shape == (20, 32, 32, 3) and xt.shape == (4, 32, 32, 3)
    assert y.shape == (20,) and yt.shape == (4,)
    # channel-first rows of 3072 bytes become channels-last images
    np.testing.assert_array_equal(x[0, :, :, 0].ravel(), train_rows[0, :1024])
    np.testing.assert_array_equal(xt[3, :, :, 2].ravel(), test_rows[3, 2048:])
    # extracted once, then read from the extracted batches
    assert (
        tmp_path / "datasets/cifar-10-batches-py-target/cifar-10-batches-py/test_batch"
    ).is_file()
    (x2, _), _ = datasets.load("cifar10", tmp_path, train=6, test=2, seed=0)
    assert x2.shape == (6, 32, 32, 3)


def test_cifar10_unavailable_offline_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keras

    def offline() -> None:
        raise OSError("network is unreachable")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    with pytest.raises(
        datasets.DatasetUnavailableError, match=r"not in the Keras cache.*synthetic"
    ):
        datasets.load("cifar10", tmp_path, train=None, test=None, seed=0)


def test_catalog_availability(tmp_path: Path) -> None:
    assert is_cached(DATASETS["synthetic"], tmp_path)
    assert not is_cached(DATASETS["mnist"], tmp_path)
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "mnist.npz").write_bytes(b"x")
    assert is_cached(DATASETS["mnist"], tmp_path)

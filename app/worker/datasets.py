"""Loading data sets: CIFAR-10, MNIST and Fashion-MNIST through the Keras cache, and the
project's own synthetic set.

Every loader returns ``(x_train, y_train), (x_test, y_test)`` with uint8 images of shape
``(n, height, width, channels)`` and integer labels of shape ``(n,)``.
"""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from app.catalog import DATASETS, cifar10_archive, cifar10_dir

__all__ = ["DatasetUnavailableError", "Split", "load", "synthetic"]

Images = NDArray[np.uint8]
Labels = NDArray[np.int64]
Split = tuple[tuple[Images, Labels], tuple[Images, Labels]]


class DatasetUnavailableError(RuntimeError):
    """The data set is neither in the cache nor downloadable now."""


def synthetic(train: int, test: int, seed: int) -> Split:
    """CIFAR-shaped images (32x32x3, 10 classes), deterministic from ``seed``.

    Each class has a smooth random prototype (a 4x4 colour pattern scaled up to 32x32);
    an image is its class prototype blended with uniform noise and a random brightness
    shift. Mostly noise, so it is not trivial: the article's ConvNet reaches about 80% test
    accuracy (chance: 10%) after two epochs on 3,000 images.
    """
    rng = np.random.default_rng(seed)
    prototypes = rng.random((10, 4, 4, 3), dtype=np.float32)
    prototypes = np.kron(prototypes, np.ones((1, 8, 8, 1), dtype=np.float32))

    def draw(n: int) -> tuple[Images, Labels]:
        labels = rng.integers(0, 10, size=n)
        noise = rng.random((n, 32, 32, 3), dtype=np.float32)
        shift = rng.uniform(-0.2, 0.2, size=(n, 1, 1, 1)).astype(np.float32)
        images = 0.2 * prototypes[labels] + 0.8 * noise + shift
        pixels = np.clip(images * 255.0, 0, 255).astype(np.uint8)
        return pixels, labels.astype(np.int64)

    return draw(train), draw(test)


def _read_cifar_batch(path: Path) -> tuple[Images, Labels]:
    with path.open("rb") as f:
        batch = pickle.load(f, encoding="bytes")
    data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    return data.transpose(0, 2, 3, 1), labels


def _extract_cifar_archive(archive: Path, target: Path) -> None:
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")


def load_cifar10(keras_home: Path) -> Split:
    """Read CIFAR-10 from the Keras cache, downloading it through keras.datasets if absent."""
    batches = cifar10_dir(keras_home)
    if not (batches / "test_batch").is_file():
        archive = cifar10_archive(keras_home)
        if archive.is_file():
            _extract_cifar_archive(archive, batches.parent)
        else:
            _download("cifar10", keras_home)
    parts = [_read_cifar_batch(batches / f"data_batch_{i}") for i in range(1, 6)]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    return (x_train, y_train), _read_cifar_batch(batches / "test_batch")


def _download(name: str, keras_home: Path) -> Split:
    """Load ``name`` through keras.datasets (which downloads into KERAS_HOME)."""
    import os

    os.environ["KERAS_HOME"] = str(keras_home)
    import keras

    loader = getattr(keras.datasets, name)
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as exc:  # network errors come as many types
        raise DatasetUnavailableError(
            f"data set {name!r} is not in the Keras cache under {keras_home / 'datasets'} "
            f"and could not be downloaded ({type(exc).__name__}: {exc}); "
            "use dataset 'synthetic' offline, or copy the data set into that cache"
        ) from exc
    return (x_train, y_train.reshape(-1)), (x_test, y_test.reshape(-1))


def _with_channel(split: Split) -> Split:
    (x_train, y_train), (x_test, y_test) = split
    if x_train.ndim == 3:
        x_train, x_test = x_train[..., np.newaxis], x_test[..., np.newaxis]
    return (x_train, y_train.astype(np.int64)), (x_test, y_test.astype(np.int64))


def load(name: str, keras_home: Path, train: int | None, test: int | None, seed: int) -> Split:
    """Load data set ``name``, keeping the first ``train`` and ``test`` samples if given."""
    spec = DATASETS[name]
    if name == "synthetic":
        return synthetic(train or 5000, test or 1000, seed)
    if name == "cifar10":
        split = load_cifar10(keras_home)
    else:
        split = _with_channel(_download(name, keras_home))
    (x_train, y_train), (x_test, y_test) = split
    assert x_train.shape[1:] == spec.shape, (x_train.shape, spec.shape)
    return (x_train[:train], y_train[:train]), (x_test[:test], y_test[:test])

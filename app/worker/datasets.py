"""Loading data sets: CIFAR-10, MNIST and Fashion-MNIST from the data directories, and the
project's own synthetic set.

Every loader returns ``(x_train, y_train), (x_test, y_test)`` with uint8 images of shape
``(n, height, width, channels)`` and integer labels of shape ``(n,)``.

Files are read with numpy alone (gzipped IDX files, Keras' ``mnist.npz``, pickled CIFAR-10
batches or their tarball) from the first data directory that holds a set (see
:func:`app.catalog.locate`); only a set found nowhere goes through ``keras.datasets``, which
downloads into the Keras cache when there is a network.
"""

from __future__ import annotations

import gzip
import os
import pickle
import tarfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from app.catalog import DATASETS, Found, available, default_data_dirs, locate

__all__ = [
    "DIFFICULTY",
    "CorruptDatasetError",
    "DatasetUnavailableError",
    "Split",
    "load",
    "read_idx",
    "synthetic",
]

Images = NDArray[np.uint8]
Labels = NDArray[np.int64]
Split = tuple[tuple[Images, Labels], tuple[Images, Labels]]


class DatasetUnavailableError(RuntimeError):
    """The data set is in no data directory and cannot be downloaded now."""


class CorruptDatasetError(DatasetUnavailableError):
    """A data set's file is there but is not what its format says (truncated, wrong header)."""


# --- the synthetic set -------------------------------------------------------------------

# Calibrated against the article's ConvNet (batch 250, validation split 0.2, Adam) so that
# difficulty 1 behaves like CIFAR-10: see docs/api.md for the measured accuracies.
DIFFICULTY = 1.0
_MODES = 64  # patterns per class: each must be seen many times before it is learnt
_SHIFT = 6  # pixels a pattern moves each way: position tells nothing
_LABEL_NOISE = 0.2  # at difficulty 1: the fraction of labels replaced by another class
_CHUNK = 2048  # images drawn per random stream: a prefix of a larger draw is a smaller draw


def _upsampling(low: int, high: int) -> NDArray[np.float32]:
    """The (high, low) matrix of linear interpolation from ``low`` points to ``high``."""
    position = np.linspace(0, low - 1, high)
    left = np.floor(position).astype(np.int64).clip(0, low - 2)
    weight = (position - left).astype(np.float32)
    matrix = np.zeros((high, low), np.float32)
    matrix[np.arange(high), left] = 1 - weight
    matrix[np.arange(high), left + 1] = weight
    return matrix


def _smooth(rng: np.random.Generator, n: int, low: int, size: int) -> NDArray[np.float32]:
    """``n`` smooth random colour fields, size x size, interpolated from low x low normals."""
    m = _upsampling(low, size)
    g = rng.standard_normal((n, low, low, 3), dtype=np.float32)
    fields: NDArray[np.float32] = np.einsum("hi,nijc,wj->nhwc", m, g, m, optimize=True)
    return fields


def _patterns(seed: int) -> NDArray[np.float32]:
    """Per class ``_MODES`` smooth patterns, padded by ``_SHIFT``: a part shared with the
    paired class (classes 2k and 2k+1 overlap, as cats and dogs do), a part of the class's
    own, and a part of the mode's own; each scaled to unit deviation."""
    rng = np.random.default_rng([seed, 0])
    size = 32 + 2 * _SHIFT
    pairs = _smooth(rng, 5, 6, size)[np.arange(10) // 2][:, np.newaxis]
    own = _smooth(rng, 10, 6, size)[:, np.newaxis]
    modes = _smooth(rng, 10 * _MODES, 6, size).reshape(10, _MODES, size, size, 3)
    patterns = 0.5 * pairs + 0.3 * own + modes
    patterns /= patterns.std(axis=(2, 3, 4), keepdims=True)
    return patterns.reshape(10 * _MODES, size, size, 3)


def synthetic(train: int, test: int, seed: int, difficulty: float = DIFFICULTY) -> Split:
    """CIFAR-shaped images (32x32x3, 10 classes), deterministic from ``seed``, exactly
    ``train`` and ``test`` of them.

    An image is one of its class's patterns, shifted up to ``_SHIFT`` pixels each way, with a
    random contrast and colour cast, plus smooth and white noise; then ``_LABEL_NOISE``
    (times ``difficulty``) of the labels are replaced by another class at random, which caps
    the reachable accuracy at 1 minus that fraction. ``difficulty`` scales the noise and the
    label noise: 0 gives clean patterns (easy), 1 the calibrated CIFAR-like set, up to 2.
    """
    if not 0 <= difficulty <= 2:
        raise ValueError(f"difficulty must be in [0, 2], got {difficulty}")
    windows = np.lib.stride_tricks.sliding_window_view(_patterns(seed), (32, 32), axis=(1, 2))

    def chunk(split: int, index: int) -> tuple[Images, Labels]:
        rng = np.random.default_rng([seed, split, index])
        labels = rng.integers(0, 10, _CHUNK)
        mode = labels * _MODES + rng.integers(0, _MODES, _CHUNK)
        dy, dx = rng.integers(0, 2 * _SHIFT + 1, (2, _CHUNK))
        shifted = windows[mode, dy, dx].transpose(0, 2, 3, 1)  # window axes come last
        contrast = rng.uniform(0.5, 1.5, (_CHUNK, 1, 1, 1)).astype(np.float32)
        cast = rng.normal(0, 0.3, (_CHUNK, 1, 1, 3)).astype(np.float32)
        noise = 0.5 * _smooth(rng, _CHUNK, 8, 32)
        noise += 0.6 * rng.standard_normal((_CHUNK, 32, 32, 3), dtype=np.float32)
        images = contrast * shifted + cast + difficulty * noise
        pixels = np.clip(127.5 + 40.0 * images, 0, 255).astype(np.uint8)
        flip = rng.random(_CHUNK) < min(_LABEL_NOISE * difficulty, 0.5)
        labels = np.where(flip, (labels + rng.integers(1, 10, _CHUNK)) % 10, labels)
        return pixels, labels.astype(np.int64)

    def draw(split: int, n: int) -> tuple[Images, Labels]:
        parts = [chunk(split, i) for i in range(-(-n // _CHUNK))]
        if not parts:
            return np.empty((0, 32, 32, 3), np.uint8), np.empty(0, np.int64)
        images = np.concatenate([p[0] for p in parts])[:n]
        return images, np.concatenate([p[1] for p in parts])[:n]

    return draw(1, train), draw(2, test)


# --- files -------------------------------------------------------------------------------

_IDX_TYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: Path) -> NDArray[np.generic]:
    """An IDX file (gzipped if its name ends in .gz) as an array of its declared shape.

    The header is two zero bytes, a type code (0x08 uint8 ... 0x0E float64), the number of
    dimensions, and each dimension as a big-endian uint32; the data follows, big-endian.
    Anything else (a bad magic number, too few or too many bytes) raises CorruptDatasetError.
    """
    try:
        blob = _bytes(path)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise CorruptDatasetError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from exc
    if len(blob) < 4 or blob[:2] != b"\0\0" or blob[2] not in _IDX_TYPES or blob[3] == 0:
        raise CorruptDatasetError(f"{path}: not an IDX file (magic number {blob[:4].hex()})")
    dtype, ndim = _IDX_TYPES[blob[2]], blob[3]
    start = 4 + 4 * ndim
    if len(blob) < start:
        raise CorruptDatasetError(f"{path}: truncated IDX header ({ndim} dimensions)")
    shape = tuple(int(d) for d in np.frombuffer(blob, ">u4", ndim, offset=4))
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(blob) - start != expected:
        raise CorruptDatasetError(
            f"{path}: IDX shape {shape} needs {expected} data bytes, the file has "
            f"{len(blob) - start}"
        )
    data: NDArray[np.generic] = np.frombuffer(blob, dtype, offset=start).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def _bytes(path: Path) -> bytes:
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as f:
            return f.read()
    return path.read_bytes()


def _read_idx_split(paths: Sequence[Path]) -> Split:
    x_train, y_train, x_test, y_test = (read_idx(p) for p in paths)
    for images, labels, what in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise CorruptDatasetError(
                f"{paths[0].parent}: {what} images {images.shape} and labels {labels.shape} "
                "do not match (want images (n, rows, columns) and labels (n,))"
            )
    return (x_train.astype(np.uint8), y_train.astype(np.int64)), (
        x_test.astype(np.uint8),
        y_test.astype(np.int64),
    )


def _read_npz(path: Path) -> Split:
    with np.load(path) as data:
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def _cifar_batch(f: IO[bytes]) -> tuple[Images, Labels]:
    batch = pickle.load(f, encoding="bytes")
    data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    return data.transpose(0, 2, 3, 1), np.asarray(batch[b"labels"], dtype=np.int64)


def _join(parts: list[tuple[Images, Labels]]) -> Split:
    *train, test = parts
    return (np.concatenate([p[0] for p in train]), np.concatenate([p[1] for p in train])), test


def _read_cifar_batches(paths: Sequence[Path]) -> Split:
    parts = []
    for path in paths:  # the five training batches, then the test batch
        with path.open("rb") as f:
            parts.append(_cifar_batch(f))
    return _join(parts)


def _read_cifar_archive(path: Path) -> Split:
    """The batches straight from the tarball: nothing is written beside it."""
    with tarfile.open(path) as tar:
        members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
        names = [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]
        if missing := [n for n in names if n not in members]:
            raise CorruptDatasetError(f"{path}: no {', '.join(missing)} in the archive")
        parts = []
        for name in names:
            f = tar.extractfile(members[name])
            assert f is not None  # a regular file
            parts.append(_cifar_batch(f))
    return _join(parts)


def _read(found: Found) -> Split:
    form, paths = found.layout.form, found.paths
    try:
        if form == "idx":
            return _read_idx_split(paths)
        if form == "npz":
            return _read_npz(paths[0])
        if form == "cifar-batches":
            return _read_cifar_batches(paths)
        return _read_cifar_archive(paths[0])
    except CorruptDatasetError:
        raise
    except (OSError, EOFError, KeyError, ValueError, pickle.UnpicklingError) as exc:
        raise CorruptDatasetError(
            f"cannot read {found.location} ({type(exc).__name__}: {exc})"
        ) from exc


def _download(name: str, keras_home: Path, data_dirs: Sequence[Path]) -> Split:
    """Load ``name`` through keras.datasets (which downloads into KERAS_HOME)."""
    os.environ["KERAS_HOME"] = str(keras_home)
    import keras

    loader = getattr(keras.datasets, name)
    try:
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as exc:  # network errors come as many types
        here = [n for n, s in DATASETS.items() if available(s, data_dirs)]
        raise DatasetUnavailableError(
            f"data set {name!r} is in none of the data directories "
            f"({', '.join(map(str, data_dirs))}) and could not be downloaded "
            f"({type(exc).__name__}: {exc}); available here: {', '.join(here)}"
        ) from exc
    return (x_train, y_train.reshape(-1)), (x_test, y_test.reshape(-1))


def load(
    name: str,
    keras_home: Path,
    train: int | None,
    test: int | None,
    seed: int,
    data_dirs: Sequence[Path] | None = None,
) -> Split:
    """Load data set ``name``: the first ``train`` and ``test`` samples if given, else the
    catalog's sizes. Real sets come from the first of ``data_dirs`` (default: Debian's
    folder, then ``keras_home/datasets``) that holds them, else from a download."""
    spec = DATASETS[name]
    if name == "synthetic":
        train = spec.train_size if train is None else train
        return synthetic(train, spec.test_size if test is None else test, seed)
    dirs = default_data_dirs(keras_home) if data_dirs is None else tuple(data_dirs)
    found = locate(spec, dirs)
    split = _read(found) if found else _download(name, keras_home, dirs)
    (x_train, y_train), (x_test, y_test) = split
    if x_train.ndim == 3:
        x_train, x_test = x_train[..., np.newaxis], x_test[..., np.newaxis]
    if x_train.shape[1:] != spec.shape or x_test.shape[1:] != spec.shape:
        where = found.location if found else "the download"
        raise CorruptDatasetError(
            f"{where}: images of shape {x_train.shape[1:]}, {name} has {spec.shape}"
        )
    y_train, y_test = y_train.reshape(-1).astype(np.int64), y_test.reshape(-1).astype(np.int64)
    return (x_train[:train], y_train[:train]), (x_test[:test], y_test[:test])

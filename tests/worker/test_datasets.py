"""Data sets: the IDX reader, the data directories, CIFAR-10 in its formats (small files the
tests write), and the synthetic generator's sizes and determinism."""

from __future__ import annotations

import dataclasses
import gzip
import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest

from app.catalog import DATASETS, available, default_data_dirs, locate
from app.config import Settings
from app.worker import datasets
from app.worker.datasets import CorruptDatasetError, DatasetUnavailableError, read_idx

_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i4"): 0x0C}


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` in the IDX format: 0, 0, type code, dimensions; big-endian sizes and data."""
    big = array.astype(array.dtype.newbyteorder(">")) if array.dtype.itemsize > 1 else array
    code = _CODES[big.dtype]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + big.tobytes()


def write_idx(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = idx_bytes(array)
    path.write_bytes(gzip.compress(blob) if path.suffix == ".gz" else blob)
    return path


def write_fashion(directory: Path, train: int, test: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """A tiny Fashion-MNIST in Debian's (and Keras') layout: fashion-mnist/*-ubyte.gz."""
    rng = np.random.default_rng(seed)
    arrays = (
        rng.integers(0, 256, (train, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, train).astype(np.uint8),
        rng.integers(0, 256, (test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, test).astype(np.uint8),
    )
    for path, array in zip(locate_files("fashion_mnist", directory), arrays, strict=True):
        write_idx(path, array)
    return arrays


def locate_files(name: str, directory: Path) -> list[Path]:
    return [directory / f for f in DATASETS[name].layouts[-1].files]


# --- the IDX reader ------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_idx_reader_reads_header_shape_and_big_endian_data(tmp_path: Path, suffix: str) -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    assert read_idx(write_idx(tmp_path / f"i{suffix}", images)).tolist() == images.tolist()
    values = np.array([1, -2, 70000], dtype=np.int32)
    raw = idx_bytes(values)
    assert raw[:4] == b"\x00\x00\x0c\x01" and raw[4:8] == b"\x00\x00\x00\x03"
    assert raw[8:12] == b"\x00\x00\x00\x01"  # big-endian data
    got = read_idx(write_idx(tmp_path / f"v{suffix}", values))
    assert got.tolist() == [1, -2, 70000] and got.dtype.byteorder in "=|"
    labels = read_idx(write_idx(tmp_path / f"l{suffix}", np.array([9, 0, 3], np.uint8)))
    assert labels.shape == (3,) and labels.dtype == np.uint8


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01\x08\x01\x00\x00\x00\x01\x07", "not an IDX file .magic number 0001"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x07", "not an IDX file"),  # unknown type code
        (b"\x00\x00\x08\x03\x00\x00\x00\x01", "truncated IDX header"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x03\x01\x02", r"needs 3 data bytes, the file has 2"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", r"needs 1 data bytes, the file has 2"),
        (b"\x00\x00", "not an IDX file"),
    ],
)
def test_idx_reader_refuses_corrupt_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(content))
    with pytest.raises(CorruptDatasetError, match=message):
        read_idx(path)


def test_idx_reader_refuses_broken_gzip(tmp_path: Path) -> None:
    whole = gzip.compress(idx_bytes(np.zeros((50, 28, 28), np.uint8)))
    (tmp_path / "cut.gz").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "plain.gz").write_bytes(b"not gzip at all")
    for name in ("cut.gz", "plain.gz"):
        with pytest.raises(CorruptDatasetError, match=rf"{name}: cannot read"):
            read_idx(tmp_path / name)


# --- data directories ----------------------------------------------------------------------


def test_fashion_mnist_from_the_first_data_directory_holding_it(tmp_path: Path) -> None:
    first, second, empty = tmp_path / "a", tmp_path / "b", tmp_path / "none"
    write_fashion(second, train=5, test=3, seed=2)
    x_train, _, _, y_test = write_fashion(first, train=7, test=4, seed=1)
    spec = DATASETS["fashion_mnist"]
    found = locate(spec, [empty, first, second])
    assert found is not None and found.location == first / "fashion-mnist"
    assert locate(spec, [empty, second, first]).location == second / "fashion-mnist"  # type: ignore[union-attr]
    assert not available(spec, [empty]) and available(DATASETS["synthetic"], [empty])

    (x, y), (xt, yt) = datasets.load(
        "fashion_mnist", tmp_path / "keras", None, None, 0, data_dirs=[empty, first, second]
    )
    assert x.shape == (7, 28, 28, 1) and xt.shape == (4, 28, 28, 1)
    assert x.dtype == np.uint8 and y.dtype == np.int64
    np.testing.assert_array_equal(x[..., 0], x_train)
    np.testing.assert_array_equal(yt, y_test)
    (x, y), (xt, _) = datasets.load("fashion_mnist", tmp_path, 5, 2, 0, data_dirs=[first])
    assert (len(x), len(y), len(xt)) == (5, 5, 2)


def test_mismatched_idx_files_are_a_clear_error(tmp_path: Path) -> None:
    write_fashion(tmp_path, train=6, test=2)
    write_idx(locate_files("fashion_mnist", tmp_path)[1], np.zeros(5, np.uint8))  # 5 labels
    with pytest.raises(CorruptDatasetError, match=r"train images \(6, 28, 28\) and labels \(5,\)"):
        datasets.load("fashion_mnist", tmp_path, None, None, 0, data_dirs=[tmp_path])


def test_mnist_from_keras_npz_or_idx_files(tmp_path: Path) -> None:
    keras_dir, idx_dir = tmp_path / "keras", tmp_path / "idx"
    keras_dir.mkdir()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    np.savez(keras_dir / "mnist.npz", x_train=images, y_train=np.arange(6),
             x_test=images[:2], y_test=np.arange(2))  # fmt: skip
    for path, array in zip(locate_files("mnist", idx_dir), (images[:3], np.arange(3, dtype=np.uint8), images[:1], np.zeros(1, np.uint8)), strict=True):  # fmt: skip
        write_idx(path, array)
    (x, y), _ = datasets.load("mnist", tmp_path, None, None, 0, data_dirs=[keras_dir])
    assert x.shape == (6, 28, 28, 1) and y.tolist() == list(range(6))
    (x, y), _ = datasets.load("mnist", tmp_path, None, None, 0, data_dirs=[idx_dir, keras_dir])
    assert x.shape == (3, 28, 28, 1) and y.tolist() == [0, 1, 2]


def test_data_dirs_setting(tmp_path: Path) -> None:
    default = Settings(keras_home=tmp_path / "k")
    assert default.dataset_dirs == (Path("/usr/share/datasets"), tmp_path / "k" / "datasets")
    assert default.dataset_dirs == default_data_dirs(tmp_path / "k")
    assert Settings(data_dirs=" /a, ~/b ,,").dataset_dirs == (Path("/a"), Path.home() / "b")


# --- CIFAR-10 -------------------------------------------------------------------------------


def _batch(n: int, seed: int) -> tuple[bytes, np.ndarray]:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n)
    payload = {b"batch_label": b"test", b"labels": labels.tolist(), b"data": data}
    return pickle.dumps(payload, protocol=2), data


def _write_cifar_archive(archive: Path, per_batch: int) -> tuple[np.ndarray, np.ndarray]:
    """A tiny CIFAR-10 tarball in the layout of cifar-10-python.tar.gz."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    train_data, test_data = [], np.empty(0)
    with tarfile.open(archive, "w:gz") as tar:
        for i, name in enumerate([*(f"data_batch_{k}" for k in range(1, 6)), "test_batch"]):
            blob, data = _batch(per_batch, seed=i)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
            if name == "test_batch":
                test_data = data
            else:
                train_data.append(data)
    return np.concatenate(train_data), test_data


@pytest.mark.parametrize(
    "archive", ["cifar-10-batches-py-target_archive", "cifar-10-python.tar.gz"]
)
def test_cifar10_from_its_archive_without_writing(tmp_path: Path, archive: str) -> None:
    keras_home = tmp_path / "keras"
    assert not available(DATASETS["cifar10"], default_data_dirs(keras_home)[1:])
    train_rows, test_rows = _write_cifar_archive(keras_home / "datasets" / archive, per_batch=4)
    assert locate(DATASETS["cifar10"], [keras_home / "datasets"]) is not None
    before = sorted((keras_home / "datasets").iterdir())
    (x, y), (xt, yt) = datasets.load("cifar10", keras_home, train=None, test=None, seed=0)
    assert x.shape == (20, 32, 32, 3) and xt.shape == (4, 32, 32, 3)
    assert y.shape == (20,) and yt.shape == (4,)
    # channel-first rows of 3072 bytes become channels-last images
    np.testing.assert_array_equal(x[0, :, :, 0].ravel(), train_rows[0, :1024])
    np.testing.assert_array_equal(xt[3, :, :, 2].ravel(), test_rows[3, 2048:])
    assert sorted((keras_home / "datasets").iterdir()) == before
    (x2, _), _ = datasets.load("cifar10", keras_home, train=6, test=2, seed=0)
    assert x2.shape == (6, 32, 32, 3)


def test_cifar10_from_extracted_batches(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for i, name in enumerate([*(f"data_batch_{k}" for k in range(1, 6)), "test_batch"]):
        (folder / name).write_bytes(_batch(3, seed=i)[0])
    found = locate(DATASETS["cifar10"], [tmp_path])
    assert found is not None and found.location == folder
    (x, _), (xt, _) = datasets.load("cifar10", tmp_path, None, None, 0, data_dirs=[tmp_path])
    assert x.shape == (15, 32, 32, 3) and xt.shape == (3, 32, 32, 3)
    (folder / "test_batch").write_bytes(b"\x80\x02 not a pickle")
    with pytest.raises(CorruptDatasetError, match="cannot read"):
        datasets.load("cifar10", tmp_path, None, None, 0, data_dirs=[tmp_path])


def test_absent_set_names_the_directories_and_the_sets_available(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keras

    def offline() -> None:
        raise OSError("network is unreachable")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    write_fashion(tmp_path / "data", train=2, test=1)
    with pytest.raises(DatasetUnavailableError) as caught:
        datasets.load("cifar10", tmp_path, None, None, 0, data_dirs=[tmp_path / "data"])
    message = str(caught.value)
    assert f"in none of the data directories ({tmp_path / 'data'})" in message
    assert "network is unreachable" in message
    assert message.endswith("available here: fashion_mnist, synthetic")


# --- the synthetic set ----------------------------------------------------------------------


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
    # a larger draw starts with the smaller one; the test set does not depend on the train size
    (big, big_labels), (t4, _) = datasets.synthetic(3000, 50, seed=3)
    np.testing.assert_array_equal(big[:200], x1)
    np.testing.assert_array_equal(big_labels[:200], y1)
    np.testing.assert_array_equal(t4, t1)


def test_synthetic_sizes_requested_are_sizes_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (x, y), (xt, yt) = datasets.load("synthetic", tmp_path, 2345, 678, seed=0)
    assert (len(x), len(y), len(xt), len(yt)) == (2345, 2345, 678, 678)
    # no cap: exactly what /v1/datasets says (the catalog's sizes), here shrunk to stay quick
    small = dataclasses.replace(DATASETS["synthetic"], train_size=300, test_size=70)
    monkeypatch.setitem(DATASETS, "synthetic", small)
    (x, _), (xt, _) = datasets.load("synthetic", tmp_path, None, None, seed=0)
    assert (len(x), len(xt)) == (300, 70)
    assert (DATASETS["cifar10"].train_size, DATASETS["cifar10"].test_size) == (50000, 10000)


def test_synthetic_label_noise_and_difficulty() -> None:
    # clean patterns (difficulty 0): a class's images correlate with each other far more
    (x, y), _ = datasets.synthetic(2048, 0, seed=5, difficulty=0.0)
    (xn, yn), _ = datasets.synthetic(2048, 0, seed=5)
    np.testing.assert_array_equal(x.shape, xn.shape)
    assert np.abs(x.astype(int) - xn.astype(int)).mean() > 10  # noise was added
    assert 0.15 < np.mean(y != yn) < 0.25  # about 20% of the labels replaced
    with pytest.raises(ValueError, match="difficulty"):
        datasets.synthetic(1, 1, seed=0, difficulty=3.0)

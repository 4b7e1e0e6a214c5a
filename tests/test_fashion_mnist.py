"""Fashion-MNIST: official files, or Debian's recompressed copies of the same content; clear errors otherwise."""

import gzip

import numpy as np
import pytest

import dgm.data.fashion_mnist as fashion
from dgm.data import DatasetFileError, load_fashion_mnist


def write_idx_gz(path, array, magic, level=9):
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb", compresslevel=level) as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def small_set(tmp_path, monkeypatch):
    """A 3-image 'test split' whose checksums are registered as if it were the official one."""
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (3, 28, 28)), np.array([9, 0, 4])
    write_idx_gz(tmp_path / "t10k-images-idx3-ubyte.gz", images, 2051)
    write_idx_gz(tmp_path / "t10k-labels-idx1-ubyte.gz", labels, 2049)
    checksums = {name: (fashion.md5sum(tmp_path / name), fashion._content_md5(tmp_path / name))
                 for name in fashion.FILES["test"]}
    monkeypatch.setattr(fashion, "_CHECKSUMS", checksums)
    monkeypatch.setattr(fashion, "SIZES", {"train": 60_000, "test": 3})
    fashion._load.cache_clear()
    yield tmp_path, images, labels
    fashion._load.cache_clear()


def test_reads_files_with_the_official_checksum(small_set):
    folder, images, labels = small_set
    x, y = load_fashion_mnist("test", root=folder)
    assert tuple(x.shape) == (3, 1, 28, 28) and np.array_equal(x[:, 0].numpy(), images)
    assert y.tolist() == labels.tolist()


def test_accepts_a_recompressed_file_with_the_official_content(small_set):
    folder, images, _ = small_set
    write_idx_gz(folder / "t10k-images-idx3-ubyte.gz", images, 2051, level=1)  # other bytes, same content
    assert fashion.md5sum(folder / "t10k-images-idx3-ubyte.gz") != fashion._CHECKSUMS["t10k-images-idx3-ubyte.gz"][0]
    x, _ = load_fashion_mnist("test", root=folder)
    assert np.array_equal(x[:, 0].numpy(), images)


def test_rejects_other_content_and_names_the_file(small_set):
    folder, images, _ = small_set
    write_idx_gz(folder / "t10k-images-idx3-ubyte.gz", 255 - images, 2051)
    with pytest.raises(DatasetFileError, match="t10k-images-idx3-ubyte.gz is not the official"):
        load_fashion_mnist("test", root=folder)


def test_missing_files_say_where_to_get_them(tmp_path):
    with pytest.raises(DatasetFileError, match="dataset-fashion-mnist.*download=True"):
        load_fashion_mnist("train", root=tmp_path / "empty")
    with pytest.raises(ValueError, match="split must be"):
        load_fashion_mnist("valid")


@pytest.mark.skipif(not (fashion.DEBIAN_FOLDER / "t10k-images-idx3-ubyte.gz").is_file(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_the_real_test_split():
    x, y = load_fashion_mnist("test", root=fashion.DEBIAN_FOLDER)
    assert tuple(x.shape) == (10_000, 1, 28, 28) and y[:5].tolist() == [9, 2, 1, 1, 6]
    assert np.bincount(y.numpy()).tolist() == [1000] * 10

import shutil

import pytest
import torch

from dgm.data import DatasetFileError, IdxFormatError, data_root, load_mnist

# Class counts of the official MNIST test set.
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_test_split_is_the_official_one():
    images, labels = load_mnist("test")
    assert images.shape == (10_000, 1, 28, 28) and images.dtype == torch.uint8
    assert labels.dtype == torch.int64
    assert torch.bincount(labels).tolist() == TEST_COUNTS
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert images.max() == 255 and images.min() == 0


def test_train_split_has_60000_images():
    images, labels = load_mnist("train")
    assert images.shape == (60_000, 1, 28, 28) and len(labels) == 60_000
    assert labels[:5].tolist() == [5, 0, 4, 1, 9]


def test_bad_split():
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_mnist("validation")


def copy_mnist(tmp_path):
    folder = tmp_path / "mnist"
    shutil.copytree(data_root() / "mnist", folder)
    return folder


def test_missing_file_is_named(tmp_path):
    folder = copy_mnist(tmp_path)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetFileError, match="t10k-labels-idx1-ubyte.gz is missing"):
        load_mnist("test", root=folder)


def test_truncated_file_is_named_and_not_used(tmp_path):
    folder = copy_mnist(tmp_path)
    f = folder / "t10k-images-idx3-ubyte.gz"
    f.write_bytes(f.read_bytes()[:100_000])
    with pytest.raises(DatasetFileError, match="t10k-images-idx3-ubyte.gz is corrupt"):
        load_mnist("test", root=folder)


def test_file_that_passes_md5_but_is_malformed_is_refused(tmp_path, monkeypatch):
    # A well-formed IDX of the wrong shape, accepted by a patched checksum, must still be refused.
    import gzip

    import dgm.data.mnist as mnist
    from dgm.data import RemoteFile, md5sum

    folder = copy_mnist(tmp_path)
    f = folder / "t10k-labels-idx1-ubyte.gz"
    f.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3])))
    images, labels = mnist.FILES["test"]
    monkeypatch.setitem(mnist.FILES, "test", (images, RemoteFile(labels.filename, labels.urls, md5sum(f))))
    with pytest.raises(IdxFormatError, match="expected 10000 labels"):
        load_mnist("test", root=folder)

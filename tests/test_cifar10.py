import io
import pickle
import tarfile

import numpy as np
import pytest

import dgm.data.cifar10 as cifar10
from dgm.data import DatasetFileError, RemoteFile, load_cifar10, md5sum


def write_archive(path, n=4, skip=()):
    """A small archive in the official format: cifar-10-batches-py/{data_batch_1..5,test_batch}."""
    rng = np.random.default_rng(0)
    batches = {}
    with tarfile.open(path, "w:gz") as tar:
        for i, name in enumerate(cifar10.BATCHES["train"] + cifar10.BATCHES["test"]):
            data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
            data[0, 5 * 32 + 7] = 250 - i  # red plane, row 5, column 7 of the batch's first image
            data[0, 1024 + 5 * 32 + 7] = 3  # green plane, same pixel
            labels = [(i + j) % 10 for j in range(n)]
            batches[name] = (data, labels)
            if name in skip:
                continue
            entry = {b"batch_label": name.encode(), b"labels": labels, b"data": data,
                     b"filenames": [f"img_{j}.png".encode() for j in range(n)]}
            raw = pickle.dumps(entry, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return batches


@pytest.fixture
def archive(tmp_path, monkeypatch):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    path = folder / cifar10.ARCHIVE.filename
    batches = write_archive(path)
    monkeypatch.setattr(cifar10, "ARCHIVE", RemoteFile(path.name, cifar10.ARCHIVE.urls, md5sum(path)))
    return folder, batches


def test_train_and_test_splits(archive):
    folder, batches = archive
    images, labels = load_cifar10("train", root=folder)
    assert tuple(images.shape) == (20, 3, 32, 32) and str(images.dtype) == "torch.uint8"
    assert labels.tolist() == sum((batches[b][1] for b in cifar10.BATCHES["train"]), [])
    test_images, test_labels = load_cifar10("test", root=folder)
    assert tuple(test_images.shape) == (4, 3, 32, 32)
    np.testing.assert_array_equal(test_images.reshape(4, -1).numpy(), batches["test_batch"][0])


def test_channel_major_decoding(archive):
    folder, _ = archive
    images, _ = load_cifar10("train", root=folder)
    # the third batch starts at image 8; its first image has red 248 and green 3 at row 5, column 7
    assert images[8, 0, 5, 7] == 248 and images[8, 1, 5, 7] == 3


def test_official_checksum_is_enforced(tmp_path):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    write_archive(folder / cifar10.ARCHIVE.filename)
    with pytest.raises(DatasetFileError, match="c58f30108f718f92721af3b95e74349a"):
        load_cifar10("train", root=folder)


def test_missing_archive_says_where_to_put_it(tmp_path):
    with pytest.raises(DatasetFileError, match="cifar-10-python.tar.gz is missing.*download=True"):
        load_cifar10("test", root=tmp_path)


def test_missing_batch_is_reported(tmp_path, monkeypatch):
    path = tmp_path / cifar10.ARCHIVE.filename
    write_archive(path, skip=("data_batch_3",))
    monkeypatch.setattr(cifar10, "ARCHIVE", RemoteFile(path.name, cifar10.ARCHIVE.urls, md5sum(path)))
    with pytest.raises(DatasetFileError, match="no member cifar-10-batches-py/data_batch_3"):
        load_cifar10("train", root=tmp_path)
    assert load_cifar10("test", root=tmp_path)[0].shape[0] == 4


def test_bad_split():
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_cifar10("val")

"""CIFAR-10 (Krizhevsky 2009): 50,000 training and 10,000 test colour images, 32x32, 10 classes.

The loader reads the official archive ``cifar-10-python.tar.gz`` (md5 below): five
training batches and one test batch, each a pickled dict whose ``b"data"`` is a
[10000, 3072] uint8 array (channel-major: 1024 red, 1024 green, 1024 blue values of a
row-major 32x32 image) and ``b"labels"`` a list of ints. The archive is not shipped with
the book (163 MB); pass ``download=True`` where the internet is reachable (e.g. Colab).
"""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import numpy as np
import torch

from dgm.data.files import DatasetFileError, RemoteFile, data_root, ensure_file

ARCHIVE = RemoteFile(
    "cifar-10-python.tar.gz",
    ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
    "c58f30108f718f92721af3b95e74349a",
)
BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def load_cifar10(split: str = "train", root: str | Path | None = None, download: bool = False):
    """Load a CIFAR-10 split as ``(images, labels)``.

    Returns:
        images: ``uint8`` tensor of shape [N, 3, 32, 32].
        labels: ``int64`` tensor of shape [N], values 0..9.

    Raises:
        ValueError: if ``split`` is not ``"train"`` or ``"test"``.
        dgm.data.DatasetFileError: if the archive is missing, fails its md5, or lacks a batch.
    """
    if split not in BATCHES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = Path(root) if root is not None else data_root() / "cifar10"
    archive = ensure_file(ARCHIVE, folder, download)
    images, labels = [], []
    with tarfile.open(archive, "r:gz") as tar:
        for batch in BATCHES[split]:
            try:
                member = tar.extractfile(f"cifar-10-batches-py/{batch}")
            except KeyError:
                member = None
            if member is None:
                raise DatasetFileError(f"{archive}: no member cifar-10-batches-py/{batch}; the archive is damaged")
            entry = pickle.load(member, encoding="bytes")  # the official batches are pickles of plain arrays
            data = np.asarray(entry[b"data"], dtype=np.uint8)
            if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
                raise DatasetFileError(f"{archive}:{batch}: data of shape {data.shape}, expected [n, 3072]")
            images.append(data.reshape(-1, 3, 32, 32))
            labels.append(np.asarray(entry[b"labels"], dtype=np.int64))
    return torch.from_numpy(np.concatenate(images)), torch.from_numpy(np.concatenate(labels))

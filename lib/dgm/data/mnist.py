"""MNIST (LeCun, Cortes & Burges): 60,000 training and 10,000 test images of digits, 28x28, 8-bit.

A source checkout of the book carries the four official files in ``data/mnist/``; the
loader verifies their md5 and parses them with :mod:`dgm.data.idx`. Elsewhere pass
``download=True`` to fetch them (with a progress bar and the same checks).
Licence: CC BY-SA 3.0, Yann LeCun, Corinna Cortes and Christopher J. C. Burges.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import torch

from dgm.data.files import RemoteFile, data_root, ensure_file
from dgm.data.idx import IdxFormatError, read_idx

_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


def _remote(filename: str, md5: str) -> RemoteFile:
    return RemoteFile(filename, tuple(m + filename for m in _MIRRORS), md5)


FILES = {
    "train": (
        _remote("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        _remote("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
    ),
    "test": (
        _remote("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        _remote("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ),
}
SIZES = {"train": 60_000, "test": 10_000}


def load_mnist(split: str = "train", root: str | Path | None = None, download: bool = False):
    """Load an MNIST split as ``(images, labels)``.

    Returns:
        images: ``uint8`` tensor of shape [N, 1, 28, 28], values 0..255.
        labels: ``int64`` tensor of shape [N], values 0..9.

    Raises:
        ValueError: if ``split`` is not ``"train"`` or ``"test"``.
        dgm.data.DatasetFileError: if a file is missing or its md5 is wrong.
        dgm.data.IdxFormatError: if a file does not parse as the expected IDX array.
    """
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = Path(root) if root is not None else data_root() / "mnist"
    return _load(split, folder.resolve(), download)


@lru_cache(maxsize=4)
def _load(split: str, folder: Path, download: bool):
    image_file, label_file = (ensure_file(r, folder, download) for r in FILES[split])
    images, labels = read_idx(image_file), read_idx(label_file)
    n = SIZES[split]
    if images.shape != (n, 28, 28):
        raise IdxFormatError(f"{image_file}: expected images of shape {(n, 28, 28)}, got {images.shape}")
    if labels.shape != (n,) or labels.max() > 9:
        raise IdxFormatError(f"{label_file}: expected {n} labels in 0..9, got shape {labels.shape}")
    images = torch.from_numpy(images.copy()).unsqueeze(1)  # [N, 1, 28, 28] uint8
    return images, torch.from_numpy(labels.astype("int64"))

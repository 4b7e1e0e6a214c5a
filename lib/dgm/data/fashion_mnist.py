"""Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 60,000 training and 10,000 test images of clothing, 28x28,
8-bit, 10 classes, in the same IDX format as MNIST. Licence: MIT, Zalando SE.

The book does not ship it (30 MB). The loader looks in ``<data root>/fashion-mnist/`` and then in
``/usr/share/datasets/fashion-mnist/`` (Debian's package ``dataset-fashion-mnist``); ``download=True``
fetches the official files. A file is accepted if its md5 is the official one, or if its *decompressed*
content has the official content's md5 (Debian recompresses the ``.gz`` files, which changes their md5
but not the IDX bytes inside).
"""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

import torch

from dgm.data.files import DatasetFileError, RemoteFile, data_root, download as download_file, md5sum
from dgm.data.idx import IdxFormatError, read_idx

_BASE = "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

# filename -> (md5 of the official .gz file, md5 of its decompressed IDX content)
_CHECKSUMS = {
    "train-images-idx3-ubyte.gz": ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
    "train-labels-idx1-ubyte.gz": ("25c81989df183df01b3e8a0aad5dffbe", "9018921c3c673c538a1fc5bad174d6f9"),
    "t10k-images-idx3-ubyte.gz": ("bef4ecab320f06d8554ea6380940ec79", "8181f5470baa50b63fa0f6fddb340f0a"),
    "t10k-labels-idx1-ubyte.gz": ("bb300cfdad3c16e7a12a480ee83cd310", "15d484375f8d13e6eb1aabb0c3f46965"),
}
FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
SIZES = {"train": 60_000, "test": 10_000}


def _content_md5(path: Path) -> str:
    digest = hashlib.md5()
    with gzip.open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verified(path: Path) -> Path:
    official, content = _CHECKSUMS[path.name]
    if md5sum(path) != official and _content_md5(path) != content:
        raise DatasetFileError(f"{path} is not the official Fashion-MNIST file (neither the file's md5 {official} nor "
                               f"the decompressed content's md5 {content} match). Delete it and download it again "
                               f"from {_BASE}{path.name}")
    return path


def _find(filename: str, folders: list[Path], download: bool) -> Path:
    for folder in folders:
        if (folder / filename).is_file():
            return _verified(folder / filename)
    if download:
        return download_file(RemoteFile(filename, (_BASE + filename,), _CHECKSUMS[filename][0]), folders[0])
    raise DatasetFileError(
        f"Fashion-MNIST file {filename} was found in none of {[str(f) for f in folders]}. Download it from "
        f"{_BASE}{filename} into {folders[0]}, install Debian's package dataset-fashion-mnist, or call "
        "load_fashion_mnist(..., download=True)")


def load_fashion_mnist(split: str = "train", root: str | Path | None = None, download: bool = False):
    """Load a Fashion-MNIST split as ``(images, labels)``: uint8 [N, 1, 28, 28] and int64 [N] (see :data:`CLASSES`).

    Raises:
        ValueError: if ``split`` is not ``"train"`` or ``"test"``.
        dgm.data.DatasetFileError: if a file is missing or is not the official data.
    """
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folders = [Path(root)] if root is not None else [data_root() / "fashion-mnist", DEBIAN_FOLDER]
    return _load(split, tuple(f.resolve() for f in folders), download)


@lru_cache(maxsize=4)
def _load(split: str, folders: tuple[Path, ...], download: bool):
    image_file, label_file = (_find(name, list(folders), download) for name in FILES[split])
    images, labels = read_idx(image_file), read_idx(label_file)
    n = SIZES[split]
    if images.shape != (n, 28, 28) or labels.shape != (n,) or labels.max() > 9:
        raise IdxFormatError(f"{image_file}, {label_file}: expected {n} images of 28x28 and labels in 0..9, "
                             f"got {images.shape} and {labels.shape}")
    return torch.from_numpy(images.copy()).unsqueeze(1), torch.from_numpy(labels.astype("int64"))

"""Real datasets of the book: files with official checksums, parsers, and conversions."""

from dgm.data.cifar10 import load_cifar10
from dgm.data.fashion_mnist import load_fashion_mnist
from dgm.data.files import DatasetFileError, RemoteFile, data_root, ensure_file, md5sum
from dgm.data.idx import IdxFormatError, parse_idx, read_idx
from dgm.data.mnist import load_mnist
from dgm.data.transforms import binarize, to_symmetric, to_uint8, to_unit_interval

__all__ = [
    "DatasetFileError", "IdxFormatError", "RemoteFile", "data_root", "ensure_file", "md5sum",
    "parse_idx", "read_idx", "load_mnist", "load_fashion_mnist", "load_cifar10", "to_unit_interval", "to_uint8", "to_symmetric", "binarize",
]

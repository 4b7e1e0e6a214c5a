import gzip
import struct

import numpy as np
import pytest

from dgm.data import IdxFormatError, parse_idx, read_idx


def idx_bytes(array: np.ndarray, code: int) -> bytes:
    """Write ``array`` in the IDX format by hand (big-endian sizes, then the data)."""
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", s) for s in array.shape)
    return header + array.tobytes()


def test_uint8_images_and_labels_round_trip():
    images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    labels = np.array([7, 2, 1], dtype=np.uint8)
    np.testing.assert_array_equal(parse_idx(idx_bytes(images, 0x08)), images)
    np.testing.assert_array_equal(parse_idx(idx_bytes(labels, 0x08)), labels)


@pytest.mark.parametrize("code,dtype", [(0x0C, ">i4"), (0x0D, ">f4"), (0x0B, ">i2")])
def test_big_endian_types(code, dtype):
    a = np.array([[1, -2, 300], [4, 5, -6]], dtype=dtype)
    out = parse_idx(idx_bytes(a, code))
    assert out.dtype.byteorder in ("=", "<", "|")  # converted to native order
    np.testing.assert_array_equal(out, a.astype(out.dtype))


def test_bad_magic_names_the_file():
    with pytest.raises(IdxFormatError, match=r"mine\.idx: not an IDX file"):
        parse_idx(b"\x01\x00\x08\x01" + b"\x00" * 8, name="mine.idx")


def test_unknown_type_code():
    with pytest.raises(IdxFormatError, match="unknown IDX data type 0x07"):
        parse_idx(bytes([0, 0, 7, 1, 0, 0, 0, 1, 5]))


def test_truncated_header():
    with pytest.raises(IdxFormatError, match="truncated header"):
        parse_idx(bytes([0, 0, 8, 3, 0, 0, 0, 1]))


def test_truncated_data_names_the_file():
    data = idx_bytes(np.zeros((2, 3), dtype=np.uint8), 0x08)[:-1]
    with pytest.raises(IdxFormatError, match=r"labels\.idx: 17 bytes but the header \(2, 3\) promises 18"):
        parse_idx(data, name="labels.idx")


def test_gzip_file_and_damaged_gzip(tmp_path):
    a = np.arange(10, dtype=np.uint8)
    good = tmp_path / "a-idx1-ubyte.gz"
    good.write_bytes(gzip.compress(idx_bytes(a, 0x08)))
    np.testing.assert_array_equal(read_idx(good), a)
    bad = tmp_path / "b-idx1-ubyte.gz"
    bad.write_bytes(good.read_bytes()[:-10])
    with pytest.raises(IdxFormatError, match=f"{bad.name}: cannot decompress"):
        read_idx(bad)

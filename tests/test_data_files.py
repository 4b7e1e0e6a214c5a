import hashlib

import pytest

from dgm.data import DatasetFileError, RemoteFile, data_root, ensure_file, md5sum
from dgm.data.files import download


def remote_for(path, md5=None):
    return RemoteFile(path.name, (path.as_uri(),), md5 or hashlib.md5(path.read_bytes()).hexdigest())


def test_md5sum_matches_hashlib(tmp_path):
    f = tmp_path / "x.bin"
    f.write_bytes(b"From Autoencoders to Diffusion" * 1000)
    assert md5sum(f) == hashlib.md5(f.read_bytes()).hexdigest()


def test_missing_file_message_names_path_checksum_and_remedy(tmp_path):
    remote = RemoteFile("train-images-idx3-ubyte.gz", ("https://example.org/train-images-idx3-ubyte.gz",), "0" * 32)
    with pytest.raises(DatasetFileError) as info:
        ensure_file(remote, tmp_path)
    message = str(info.value)
    assert str(tmp_path / remote.filename) in message
    assert "0" * 32 in message and "download=True" in message and "DGM_DATA_DIR" in message


def test_corrupt_file_is_refused(tmp_path):
    f = tmp_path / "data.bin"
    f.write_bytes(b"official bytes")
    remote = remote_for(f)
    ensure_file(remote, tmp_path)  # the good file passes
    f.write_bytes(b"changed bytes!")
    with pytest.raises(DatasetFileError, match=f"{f.name} is corrupt.*expected {remote.md5}"):
        ensure_file(remote, tmp_path)


def test_download_verifies_and_moves_into_place(tmp_path):
    source = tmp_path / "src" / "file.bin"
    source.parent.mkdir()
    source.write_bytes(b"abc" * 1000)
    target_dir = tmp_path / "cache"
    path = ensure_file(remote_for(source), target_dir, download_if_missing=True)
    assert path == target_dir / "file.bin" and path.read_bytes() == source.read_bytes()


def test_download_with_wrong_checksum_leaves_nothing_behind(tmp_path):
    source = tmp_path / "src" / "file.bin"
    source.parent.mkdir()
    source.write_bytes(b"abc")
    target_dir = tmp_path / "cache"
    with pytest.raises(DatasetFileError, match="could not download file.bin"):
        download(remote_for(source, md5="f" * 32), target_dir)
    assert list(target_dir.iterdir()) == []


def test_data_root_honours_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DGM_DATA_DIR", str(tmp_path))
    assert data_root() == tmp_path
    monkeypatch.delenv("DGM_DATA_DIR")
    assert (data_root() / "mnist" / "t10k-labels-idx1-ubyte.gz").is_file()  # the checkout's data/

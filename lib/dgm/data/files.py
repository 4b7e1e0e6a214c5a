"""Dataset files on disk: where they live, how they are checked, how they are fetched.

Every dataset file the book uses is described by a :class:`RemoteFile` (its official
file name, the addresses it is published at and its official md5). :func:`ensure_file`
returns the path of a verified local copy, downloading it first when asked to, and
otherwise fails with a message that says which file is missing, where it should be
and how to get it. Nothing is ever replaced by synthetic data.

Where files are looked for (:func:`data_root`): ``$DGM_DATA_DIR`` if set, else the
``data/`` folder of a source checkout of the book (which carries the full MNIST),
else ``~/.cache/dgm``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from dgm.paths import REPO_ROOT, is_source_checkout

DATA_ENV_VAR = "DGM_DATA_DIR"


class DatasetFileError(RuntimeError):
    """A dataset file is missing, corrupt or malformed; the message says which and what to do."""


@dataclass(frozen=True)
class RemoteFile:
    """One official dataset file: its name, where it is published, and its md5 checksum."""

    filename: str
    urls: tuple[str, ...]
    md5: str


def data_root() -> Path:
    """The folder datasets are read from (see the module docstring for the order)."""
    if os.environ.get(DATA_ENV_VAR):
        return Path(os.environ[DATA_ENV_VAR]).expanduser()
    if is_source_checkout() and (REPO_ROOT / "data").is_dir():
        return REPO_ROOT / "data"
    return Path.home() / ".cache" / "dgm"


def md5sum(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex md5 digest of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check(path: Path, remote: RemoteFile) -> Path:
    actual = md5sum(path)
    if actual != remote.md5:
        raise DatasetFileError(
            f"{path} is corrupt or not the official file: md5 {actual}, expected {remote.md5}. "
            f"Delete it and download it again from {remote.urls[0]}"
        )
    return path


def download(remote: RemoteFile, folder: Path) -> Path:
    """Download ``remote`` into ``folder`` (trying each published address), verify its md5,
    and move it into place atomically. Returns the final path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / remote.filename
    errors = []
    for url in remote.urls:
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{remote.filename}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
                total = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=remote.filename) as bar:
                    for chunk in iter(lambda: response.read(1 << 16), b""):
                        out.write(chunk)
                        bar.update(len(chunk))
            _check(tmp, remote)
            os.replace(tmp, target)
            return target
        except Exception as exc:  # try the next mirror, report all failures at the end
            errors.append(f"{url}: {exc}")
        finally:
            tmp.unlink(missing_ok=True)
    raise DatasetFileError(f"could not download {remote.filename}:\n  " + "\n  ".join(errors))


def ensure_file(remote: RemoteFile, folder: Path, download_if_missing: bool = False) -> Path:
    """Return the path of a verified copy of ``remote`` in ``folder``.

    Raises:
        DatasetFileError: if the file is missing (and ``download_if_missing`` is false),
            or its md5 differs from the official one.
    """
    path = Path(folder) / remote.filename
    if not path.is_file():
        if download_if_missing:
            return download(remote, Path(folder))
        raise DatasetFileError(
            f"dataset file {path} is missing (expected md5 {remote.md5}). "
            f"Download it from {remote.urls[0]} into {folder}, set ${DATA_ENV_VAR} to a folder that "
            f"holds it, or call the loader with download=True."
        )
    return _check(path, remote)


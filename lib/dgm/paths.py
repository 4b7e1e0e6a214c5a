"""Folders of a source checkout of the book, found from this package's location."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]  # lib/dgm/paths.py -> the repository
CHECKPOINTS_DIR = REPO_ROOT / "checkpoints"  # committed trained models (see checkpoints/README.md)
RESULTS_DIR = REPO_ROOT / "results"  # headline numbers with provenance (see results/README.md)


def is_source_checkout() -> bool:
    """True when the package is imported from a clone of the book's repository."""
    return (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "_toc.yml").is_file()

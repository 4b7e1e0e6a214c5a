"""Headline numbers, written to ``results/<name>.json`` by the script that measured them.

Each file records, next to the numbers, how they were produced: the command, the
profile, the hardware, the torch and dgm versions and the git commit. The book and the
README read these files; no number is typed in by hand.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

import dgm
from dgm.paths import REPO_ROOT, RESULTS_DIR


def hardware() -> str:
    """A one-line description of the machine: GPU name if CUDA is used, else CPU and core count."""
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda})"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return f"CPU {cpu}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"


def git_commit() -> str:
    """The checkout's commit, with ``+dirty`` when tracked files differ from it."""
    root = REPO_ROOT
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def training_facts(record: dict[str, Any], model: torch.nn.Module | None = None) -> dict[str, Any]:
    """How the model of an exported checkpoint ``record`` was trained, for the metrics of a result
    (with its parameter count when ``model`` is given)."""
    facts = {
        "train_steps": record["settings"]["steps"],
        "batch_size": record["settings"]["batch_size"],
        "train_seconds": record["history"]["seconds"][-1],
        "train_hardware": record["hardware"],
    }
    if model is not None:
        facts["parameters"] = sum(p.numel() for p in model.parameters())
    return facts


def write_result(name: str, metrics: dict[str, Any], profile: str, folder: Path | None = None) -> Path:
    """Write ``metrics`` with their provenance to ``results/<name>.json`` (atomically)."""
    folder = Path(folder) if folder is not None else RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "name": name,
        "metrics": metrics,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "profile": profile,
        "hardware": hardware(),
        "torch": torch.__version__,
        "dgm": dgm.__version__,
        "git_commit": git_commit(),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    path = folder / f"{name}.json"
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def read_result(name: str, folder: Path | None = None) -> dict[str, Any]:
    """Read ``results/<name>.json``; raises ``FileNotFoundError`` naming the script's output it expected."""
    path = (Path(folder) if folder is not None else RESULTS_DIR) / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; run the script that measures {name!r} (see results/README.md)")
    return json.loads(path.read_text())

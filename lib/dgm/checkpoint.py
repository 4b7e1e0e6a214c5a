"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, so loading
it never runs pickled code. Model checkpoints record the model's class name, its config
(a dataclass, stored as a dict) and the ``dgm`` version they were written with, so that
:func:`load_model` can rebuild the model and refuse a config that does not fit.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

import dgm


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable, or does not fit the model asked for."""


def save_checkpoint(payload: dict[str, Any], path: str | Path) -> Path:
    """Write ``payload`` to ``path`` atomically: a temporary file in the same folder, then a rename.

    A reader (or a resumed run after a crash) sees either the old file or the new one, never half.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates files readable by their owner only
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` (no arbitrary code is unpickled)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"checkpoint {path} cannot be read safely: {exc}") from exc


def model_record(model: nn.Module) -> dict[str, Any]:
    """What identifies a model: its class name, its config as a dict, and the dgm version."""
    return {
        "model_class": type(model).__name__,
        "model_config": dataclasses.asdict(model.config),
        "dgm_version": dgm.__version__,
    }


def export_model(model: nn.Module, path: str | Path, dtype: torch.dtype = torch.float32, **extra: Any) -> Path:
    """Save the weights of ``model`` (on the CPU, floats stored as ``dtype``) with its record and ``extra`` metadata.

    ``dtype=torch.float16`` halves the file; :func:`load_model` converts back to the model's float32.
    """
    weights = {k: (v.detach().to("cpu", dtype) if v.is_floating_point() else v.detach().cpu())
               for k, v in model.state_dict().items()}
    return save_checkpoint({**model_record(model), "model": weights, **extra}, path)


def load_model(path: str | Path, model_class: type[nn.Module] | None = None, map_location="cpu") -> nn.Module:
    """Rebuild a model from a checkpoint written by :func:`export_model` or the training loop.

    Raises:
        CheckpointError: if the checkpoint holds another model class than ``model_class``, its
            config has fields the class does not know, or the weights do not fit.
    """
    from dgm.models import MODELS  # the registry of the book's model classes

    ckpt = load_checkpoint(path, map_location)
    name = ckpt.get("model_class")
    if name not in MODELS:
        raise CheckpointError(f"{path}: unknown model class {name!r}; known: {sorted(MODELS)}")
    cls = MODELS[name]
    if model_class is not None and cls is not model_class:
        raise CheckpointError(f"{path} holds a {name}, not a {model_class.__name__}")
    config_cls = cls.Config
    fields = {f.name for f in dataclasses.fields(config_cls)}
    unknown = set(ckpt["model_config"]) - fields
    if unknown:
        raise CheckpointError(
            f"{path}: config fields {sorted(unknown)} are unknown to {config_cls.__name__} "
            f"(checkpoint written by dgm {ckpt.get('dgm_version')}, this is dgm {dgm.__version__})"
        )
    config = config_cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in ckpt["model_config"].items()})
    model = cls(config)
    try:
        model.load_state_dict(ckpt["model"])  # copies into the model's own float32 parameters
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit {name}({config}): {exc}") from exc
    return model.eval()

"""Seeding and device choice, used the same way by every notebook, test and script."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

DEVICE_ENV_VAR = "DGM_DEVICE"


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's, NumPy's and PyTorch's (CPU and CUDA) random generators.

    Returns a fresh CPU ``torch.Generator`` seeded with ``seed`` for code that wants its
    own stream (data order, for example) independent of the global one.

    Raises:
        ValueError: if ``seed`` is not an integer in [0, 2**32 - 1].
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32 - 1], got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


def get_device(name: str | None = None) -> torch.device:
    """The device to compute on: ``name``, else ``$DGM_DEVICE``, else CUDA when available, else CPU.

    Raises:
        ValueError: if CUDA is asked for but not available.
    """
    name = name or os.environ.get(DEVICE_ENV_VAR)
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} was asked for (argument `name` or ${DEVICE_ENV_VAR}) but CUDA is not available")
    return device

"""Run-size profiles: the one switch that decides how big every run in the book is.

A profile is chosen, in this order, by the ``name`` argument, by the environment
variable ``DGM_PROFILE``, or by the hardware (``gpu`` when CUDA is available,
otherwise ``cpu``). Every notebook and script calls :func:`get_profile` and asks the
profile for its budget with :meth:`Profile.pick`, so there is exactly one place where
"small" and "full" are defined.

>>> p = get_profile("smoke")
>>> p.pick(smoke=20, cpu=2_000, gpu=20_000)
20
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypeVar

import torch

T = TypeVar("T")

ENV_VAR = "DGM_PROFILE"


@dataclass(frozen=True)
class Profile:
    """A named run size.

    Attributes:
        name: ``"smoke"``, ``"cpu"`` or ``"gpu"``.
        description: what the profile is for, in words.
        max_train_examples: cap on the training set (``None``: the full set).
        max_eval_examples: cap on the evaluation set (``None``: the full test set).
    """

    name: str
    description: str
    max_train_examples: int | None
    max_eval_examples: int | None

    def pick(self, *, smoke: T, cpu: T, gpu: T) -> T:
        """Return the value given for this profile's name."""
        return {"smoke": smoke, "cpu": cpu, "gpu": gpu}[self.name]


PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", "seconds per model; used by the tests and CI", 2_048, 512),
    "cpu": Profile("cpu", "minutes per model on a laptop CPU; full data", None, None),
    "gpu": Profile("gpu", "full training on one GPU (e.g. Colab)", None, None),
}


def get_profile(name: str | None = None) -> Profile:
    """Return the profile called ``name`` (or chosen by ``$DGM_PROFILE`` / the hardware).

    Raises:
        ValueError: if the name is not one of ``smoke``, ``cpu``, ``gpu``.
    """
    if name is None:
        name = os.environ.get(ENV_VAR) or ("gpu" if torch.cuda.is_available() else "cpu")
    if name not in PROFILES:
        raise ValueError(
            f"profile must be one of {sorted(PROFILES)} (argument `name` or ${ENV_VAR}), got {name!r}"
        )
    return PROFILES[name]

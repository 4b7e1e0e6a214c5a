"""Exponential moving average (EMA) of a model's weights, as used to sample from DDPMs (Ho et al. 2020).

After every optimizer step each floating-point tensor theta of the model updates its shadow copy

    theta_ema <- decay * theta_ema + (1 - decay) * theta        (eq. ema-update; decay = 0.9999 in Ho et al.)

so the shadow averages the last ~1 / (1 - decay) steps of training. Buffers that are not floats
(counters) are copied as they are. Sampling and evaluation use the shadow weights.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """A shadow copy of ``model`` whose weights follow the model's by an exponential moving average."""

    def __init__(self, model: nn.Module, decay: float = 0.9999):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must lie in [0, 1), got {decay!r}")
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """One step of theta_ema <- decay * theta_ema + (1 - decay) * theta, for every tensor of the state."""
        source = model.state_dict()
        for name, shadow in self.model.state_dict().items():
            value = source[name].to(shadow.device)
            if shadow.is_floating_point():
                shadow.lerp_(value, 1.0 - self.decay)
            else:
                shadow.copy_(value)

    def to(self, device) -> "EMA":
        self.model.to(device)
        return self

    def state_dict(self) -> dict:
        return {"decay": self.decay, "model": self.model.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if state["decay"] != self.decay:
            raise ValueError(f"the saved EMA has decay {state['decay']}, this one {self.decay}")
        self.model.load_state_dict(state["model"])

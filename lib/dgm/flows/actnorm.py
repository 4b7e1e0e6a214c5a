"""Activation normalisation (Glow, Kingma & Dhariwal 2018): an affine map per channel c,

    y[c, h, w] = exp(log_s[c]) * x[c, h, w] + b[c],      log |det J| = H W sum_c log_s[c]      (eq. flow-actnorm)

with log_s and b set from the first training batch so that every output channel has mean 0 and variance 1
there (data-dependent initialisation), and trained freely afterwards. The flag ``initialized`` is a buffer,
so a saved and reloaded model does not initialise again.
"""

from __future__ import annotations

import torch
from torch import nn


class ActNorm(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        """Set scale and bias so that y has zero mean and unit variance per channel on the batch x."""
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        std = x.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
        self.log_scale.copy_(-std.log())
        self.bias.copy_(-mean / std)
        self.initialized.fill_(True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.shape[1] != self.bias.shape[1]:
            raise ValueError(f"ActNorm expects {self.bias.shape[1]} channels, got x of shape {list(x.shape)}")
        if self.training and not self.initialized:
            self.initialize(x)
        y = x * self.log_scale.exp() + self.bias
        logdet = x.shape[2] * x.shape[3] * self.log_scale.sum()
        return y, logdet.expand(len(x))

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return (y - self.bias) * torch.exp(-self.log_scale)

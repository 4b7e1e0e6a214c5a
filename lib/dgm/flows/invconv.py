"""The invertible 1x1 convolution (Glow, Kingma & Dhariwal 2018), LU-parametrised.

At every pixel the channel vector is multiplied by one C x C matrix W: y[:, h, w] = W x[:, h, w]. The Jacobian
is block-diagonal with H W copies of W. Writing W = P L (U + diag(sign * exp(log_s))) with P a fixed
permutation, L unit lower-triangular and U strictly upper-triangular,

    log |det J| = H W log |det W| = H W sum_c log_s[c]                                      (eq. flow-invconv)

W starts as a random rotation (det = +-1), so the layer starts volume-preserving.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class InvertibleConv1x1(nn.Module):
    def __init__(self, channels: int, seed: int = 0):
        super().__init__()
        w = torch.linalg.qr(torch.randn(channels, channels, generator=torch.Generator().manual_seed(seed)))[0]
        p, lower, upper = torch.linalg.lu(w)
        s = upper.diagonal()
        self.register_buffer("perm", p)
        self.register_buffer("sign_s", torch.sign(s))
        self.register_buffer("eye", torch.eye(channels))
        self.lower = nn.Parameter(lower)
        self.upper = nn.Parameter(torch.triu(upper, 1))
        self.log_s = nn.Parameter(s.abs().log())

    def weight(self) -> torch.Tensor:
        """W = P L (U + diag(sign * exp(log_s))): [C, C]."""
        lower = torch.tril(self.lower, -1) + self.eye
        upper = torch.triu(self.upper, 1) + torch.diag(self.sign_s * self.log_s.exp())
        return self.perm @ lower @ upper

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.eye.shape[0]
        if x.shape[1] != c:
            raise ValueError(f"InvertibleConv1x1 expects {c} channels, got x of shape {list(x.shape)}")
        y = F.conv2d(x, self.weight().view(c, c, 1, 1))
        logdet = x.shape[2] * x.shape[3] * self.log_s.sum()
        return y, logdet.expand(len(x))

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        c = self.eye.shape[0]
        w_inv = torch.linalg.inv(self.weight().double()).to(y.dtype)
        return F.conv2d(y, w_inv.view(c, c, 1, 1))

"""Affine coupling layers (RealNVP, Dinh et al. 2017) with checkerboard and channel masks.

With a binary mask m (1 on the part x_a that is kept, 0 on the part x_b that is transformed):

    y = m * x + (1 - m) * (x * exp(s) + t),   (s, t) = NN(m * x)                         (eq. flow-coupling)
    log |det J| = sum over the transformed entries of s                                 (eq. flow-coupling-logdet)
    x = m * y + (1 - m) * ((y - t) * exp(-s)),  with (s, t) = NN(m * y), since m * y = m * x

The network NN is never inverted, so it can be anything; its last convolution starts at zero, so the layer
starts as the identity. The log-scale is kept bounded, s = c * tanh(raw / c) with a learned c > 0 per channel,
which keeps early training stable.

A conditional coupling (``cond_channels > 0``) also feeds features c of another variable to the network,
(s, t) = NN(m * x, c); the Jacobian with respect to x is unchanged, so is its log-determinant. The variational
dequantizer (dgm.flows.variational_dequantization) is built from such layers, conditioned on the image.
"""

from __future__ import annotations

import torch
from torch import nn

MASKS = ("checkerboard", "channel")


def checkerboard_mask(height: int, width: int, parity: int, device=None) -> torch.Tensor:
    """[1, 1, H, W]: 1 where (row + column + parity) is even, else 0."""
    rows = torch.arange(height, device=device).view(-1, 1)
    cols = torch.arange(width, device=device).view(1, -1)
    return ((rows + cols + parity) % 2 == 0).float().view(1, 1, height, width)


def channel_mask(channels: int, parity: int, device=None) -> torch.Tensor:
    """[1, C, 1, 1]: 1 on the first half of the channels (parity 0) or on the second half (parity 1)."""
    if channels % 2:
        raise ValueError(f"a channel mask needs an even number of channels, got {channels}")
    first = torch.arange(channels, device=device) < channels // 2
    return (first if parity == 0 else ~first).float().view(1, channels, 1, 1)


class ConvNet(nn.Module):
    """The coupling network: a 3x3 convolution, residual blocks, and a zero-initialised 3x3 output convolution."""

    def __init__(self, c_in: int, c_out: int, hidden: int, blocks: int):
        super().__init__()
        self.inp = nn.Conv2d(c_in, hidden, 3, padding=1)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.ReLU(), nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU(), nn.Conv2d(hidden, hidden, 1))
            for _ in range(blocks))
        self.out = nn.Sequential(nn.ReLU(), nn.Conv2d(hidden, c_out, 3, padding=1))
        nn.init.zeros_(self.out[1].weight)
        nn.init.zeros_(self.out[1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x)
        for block in self.blocks:
            h = h + block(h)
        return self.out(h)


class AffineCoupling(nn.Module):
    """eq. (flow-coupling) for inputs [B, C, H, W] with a checkerboard or a channel mask of the given parity."""

    def __init__(self, channels: int, mask: str, parity: int, hidden: int = 32, blocks: int = 2, cond_channels: int = 0):
        super().__init__()
        if mask not in MASKS:
            raise ValueError(f"mask must be one of {MASKS}, got {mask!r}")
        if parity not in (0, 1):
            raise ValueError(f"parity must be 0 or 1, got {parity!r}")
        if mask == "channel" and channels % 2:
            raise ValueError(f"a channel mask needs an even number of channels, got channels={channels}")
        if not isinstance(cond_channels, int) or cond_channels < 0:
            raise ValueError(f"cond_channels must be an integer >= 0, got {cond_channels!r}")
        self.channels, self.mask_kind, self.parity, self.cond_channels = channels, mask, parity, cond_channels
        # the mask is given to the network as an extra input channel, so it knows which entries are kept
        self.net = ConvNet(channels + 1 + cond_channels, 2 * channels, hidden, blocks)
        self.log_scale_limit = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def mask(self, x: torch.Tensor) -> torch.Tensor:
        if self.mask_kind == "checkerboard":
            return checkerboard_mask(x.shape[2], x.shape[3], self.parity, x.device)
        return channel_mask(self.channels, self.parity, x.device)

    def _check_cond(self, x: torch.Tensor, cond: torch.Tensor | None) -> list[torch.Tensor]:
        if self.cond_channels == 0:
            if cond is not None:
                raise ValueError("this coupling has cond_channels=0 and takes no cond")
            return []
        b, _, h, w = x.shape
        if cond is None or tuple(cond.shape) != (b, self.cond_channels, h, w):
            got = None if cond is None else list(cond.shape)
            raise ValueError(f"cond must be [B, cond_channels, H, W] = {[b, self.cond_channels, h, w]}, got {got}")
        return [cond]

    def _scale_shift(self, kept: torch.Tensor, m: torch.Tensor, cond: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(s, t) from the kept part (and the conditioning features), both zero on the kept entries."""
        b, _, h, w = kept.shape
        raw_s, t = self.net(torch.cat([kept, m[:, :1].expand(b, 1, h, w), *cond], dim=1)).chunk(2, dim=1)
        c = self.log_scale_limit.exp()
        s = c * torch.tanh(raw_s / c)
        return s * (1 - m), t * (1 - m)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(f"AffineCoupling expects [B, {self.channels}, H, W], got {list(x.shape)}")
        m = self.mask(x)
        s, t = self._scale_shift(x * m, m, self._check_cond(x, cond))
        y = x * m + (1 - m) * (x * s.exp() + t)
        return y, s.flatten(1).sum(1)

    def inverse(self, y: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        m = self.mask(y)
        s, t = self._scale_shift(y * m, m, self._check_cond(y, cond))
        return y * m + (1 - m) * ((y - t) * torch.exp(-s))

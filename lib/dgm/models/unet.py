"""The denoiser eps_theta(x_t, t): a compact U-Net in the style of Ho et al. (2020).

Shapes for MNIST with the default config (B = batch):

    x_t [B, 1, 28, 28] -conv-> [B, 32, 28, 28]
    down: ResBlock(s) at 28x28 (32 ch) -> downsample -> 14x14 (64 ch) -> downsample -> 7x7 (64 ch) + attention
    middle: ResBlock, attention, ResBlock at 7x7
    up: the mirror image, each level concatenating the skip connections of its down level
    -> GroupNorm, SiLU, conv -> eps_theta [B, 1, 28, 28]

The step t (an integer in 1..T) enters every residual block through a sinusoidal embedding
(eq. unet-time-embedding) passed through a small MLP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class UNetConfig:
    """Architecture of :class:`UNet`."""

    image_channels: int = 1
    image_size: int = 28
    base_channels: int = 32
    channel_mults: tuple[int, ...] = (1, 2, 2)  # channels of each resolution level, times base_channels
    num_res_blocks: int = 1  # residual blocks per level
    attention_levels: tuple[int, ...] = (2,)  # levels (0 = full resolution) with self-attention
    dropout: float = 0.1

    def __post_init__(self):
        if self.base_channels < 1 or self.base_channels % 8:
            raise ValueError(f"base_channels must be a positive multiple of 8 (GroupNorm), got {self.base_channels}")
        if not self.channel_mults or min(self.channel_mults) < 1:
            raise ValueError(f"channel_mults must be positive integers, got {self.channel_mults}")
        if self.image_size % 2 ** (len(self.channel_mults) - 1):
            raise ValueError(f"image_size {self.image_size} must be divisible by 2^(levels - 1) = "
                             f"{2 ** (len(self.channel_mults) - 1)}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer steps t [B] -> [B, dim] (eq. unet-time-embedding):

        emb[2i] = sin(t / 10000^(i / (dim/2 - 1))),  emb[2i+1] = cos(same),  i = 0..dim/2 - 1 (concatenated).
    """
    if dim % 2 or dim < 4:
        raise ValueError(f"dim must be an even integer >= 4, got {dim}")
    half = dim // 2
    freqs = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device, dtype=torch.float32) / (half - 1))
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


def norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels // 4), channels)


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv, add the time embedding, GroupNorm-SiLU-dropout-conv, plus a skip connection."""

    def __init__(self, c_in: int, c_out: int, t_dim: int, dropout: float):
        super().__init__()
        self.block1 = nn.Sequential(norm(c_in), nn.SiLU(), nn.Conv2d(c_in, c_out, 3, padding=1))
        self.time = nn.Linear(t_dim, c_out)
        self.block2 = nn.Sequential(norm(c_out), nn.SiLU(), nn.Dropout(dropout), nn.Conv2d(c_out, c_out, 3, padding=1))
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, t_emb: torch.Tensor) -> torch.Tensor:
        h = self.block1(x) + self.time(t_emb)[:, :, None, None]
        return self.skip(x) + self.block2(h)


class Attention(nn.Module):
    """Single-head self-attention over the H*W positions, with a residual connection."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, h * w).unbind(1)  # each [B, C, HW]
        a = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))  # [B, HW, C]
        return x + self.out(a.transpose(1, 2).reshape(b, c, h, w))


class UNet(nn.Module):
    """eps_theta(x_t, t): predicts the noise in x_t [B, C, H, W] at steps t [B] (integers in 1..T)."""

    Config = UNetConfig

    def __init__(self, config: UNetConfig = UNetConfig()):
        super().__init__()
        self.config = config
        ch = config.base_channels
        t_dim = 4 * ch
        self.time_mlp = nn.Sequential(nn.Linear(ch, t_dim), nn.SiLU(), nn.Linear(t_dim, t_dim))
        self.stem = nn.Conv2d(config.image_channels, ch, 3, padding=1)

        self.down, skips, c = nn.ModuleList(), [ch], ch
        for level, mult in enumerate(config.channel_mults):
            for _ in range(config.num_res_blocks):
                self.down.append(nn.ModuleList([ResBlock(c, ch * mult, t_dim, config.dropout),
                                                Attention(ch * mult) if level in config.attention_levels else nn.Identity()]))
                c = ch * mult
                skips.append(c)
            if level < len(config.channel_mults) - 1:
                self.down.append(nn.Conv2d(c, c, 3, stride=2, padding=1))  # downsample by 2
                skips.append(c)
        self.middle = nn.ModuleList([ResBlock(c, c, t_dim, config.dropout), Attention(c), ResBlock(c, c, t_dim, config.dropout)])

        self.up = nn.ModuleList()
        for level, mult in reversed(list(enumerate(config.channel_mults))):
            for _ in range(config.num_res_blocks + 1):
                self.up.append(nn.ModuleList([ResBlock(c + skips.pop(), ch * mult, t_dim, config.dropout),
                                              Attention(ch * mult) if level in config.attention_levels else nn.Identity()]))
                c = ch * mult
            if level > 0:
                self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c, c, 3, padding=1)))
        self.head = nn.Sequential(norm(c), nn.SiLU(), nn.Conv2d(c, config.image_channels, 3, padding=1))
        nn.init.zeros_(self.head[-1].weight)  # start by predicting zero noise
        nn.init.zeros_(self.head[-1].bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        if x.dim() != 4 or x.shape[1:] != (cfg.image_channels, cfg.image_size, cfg.image_size):
            raise ValueError(f"x must have shape [B, {cfg.image_channels}, {cfg.image_size}, {cfg.image_size}], got {list(x.shape)}")
        if t.shape != (x.shape[0],):
            raise ValueError(f"t must have shape [{x.shape[0]}] (one step per image), got {list(t.shape)}")
        t_emb = self.time_mlp(timestep_embedding(t, cfg.base_channels).to(x.dtype))
        h = self.stem(x)
        hs = [h]
        for layer in self.down:
            if isinstance(layer, nn.ModuleList):
                h = layer[1](layer[0](h, t_emb))
            else:
                h = layer(h)
            hs.append(h)
        h = self.middle[2](self.middle[1](self.middle[0](h, t_emb)), t_emb)
        for layer in self.up:
            if isinstance(layer, nn.ModuleList):
                h = layer[1](layer[0](torch.cat([h, hs.pop()], dim=1), t_emb))
            else:
                h = layer(h)
        return self.head(h)

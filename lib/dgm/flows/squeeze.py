"""Squeeze: every 2x2 block of pixels becomes 4 channels, (C, H, W) -> (4C, H/2, W/2) (RealNVP, Dinh et al. 2017).

It only moves numbers, so its Jacobian is a permutation matrix and log |det J| = 0.
"""

from __future__ import annotations

import torch


def squeeze(x: torch.Tensor) -> torch.Tensor:
    """[B, C, H, W] -> [B, 4C, H/2, W/2]; channel 4c + 2i + j holds pixel (2h + i, 2w + j) of channel c."""
    if x.dim() != 4:
        raise ValueError(f"x must have shape [B, C, H, W], got {list(x.shape)}")
    b, c, h, w = x.shape
    if h % 2 or w % 2:
        raise ValueError(f"squeeze needs an even height and width, got x of shape {list(x.shape)} (H = {h}, W = {w})")
    x = x.reshape(b, c, h // 2, 2, w // 2, 2)  # [B, C, H/2, i, W/2, j]
    return x.permute(0, 1, 3, 5, 2, 4).reshape(b, 4 * c, h // 2, w // 2)


def unsqueeze(x: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`squeeze`: [B, 4C, H, W] -> [B, C, 2H, 2W]."""
    if x.dim() != 4 or x.shape[1] % 4:
        raise ValueError(f"x must have shape [B, 4C, H, W] (channels a multiple of 4), got {list(x.shape)}")
    b, c4, h, w = x.shape
    x = x.reshape(b, c4 // 4, 2, 2, h, w)  # [B, C, i, j, H, W]
    return x.permute(0, 1, 4, 2, 5, 3).reshape(b, c4 // 4, 2 * h, 2 * w)

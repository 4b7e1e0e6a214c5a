"""Conversions between 8-bit images and the real-valued tensors models see."""

from __future__ import annotations

import torch


def to_unit_interval(images: torch.Tensor) -> torch.Tensor:
    """uint8 pixels 0..255 -> float32 in [0, 1] (x / 255)."""
    if images.dtype != torch.uint8:
        raise ValueError(f"images must be uint8 (0..255), got dtype {images.dtype}")
    return images.float().div_(255.0)


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """float in [0, 1] -> uint8 pixels 0..255 (rounded, clamped)."""
    return (x.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)


def to_symmetric(images: torch.Tensor) -> torch.Tensor:
    """uint8 pixels k = 0..255 -> float32 2k/255 - 1 in [-1, 1] (the grid of the discretized decoders)."""
    return to_unit_interval(images).mul_(2.0).sub_(1.0)


def binarize(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Dynamic binarization: each pixel becomes 1 with probability k/255 (a fresh sample at every call)."""
    p = to_unit_interval(images)
    return torch.bernoulli(p, generator=generator)

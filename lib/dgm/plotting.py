"""Figures of the book: image grids and small helpers around matplotlib."""

from __future__ import annotations

import numpy as np
import torch


def image_grid(images: torch.Tensor, nrow: int = 8, pad: int = 2, pad_value: float = 1.0) -> np.ndarray:
    """Tile images [B, C, H, W] (floats in [0, 1]) into one array [rows*(H+pad)+pad, nrow*(W+pad)+pad, C].

    Grey-level images (C = 1) give a 2-D array, ready for ``plt.imshow(..., cmap="gray")``.
    """
    if images.dim() != 4:
        raise ValueError(f"images must have shape [B, C, H, W], got {list(images.shape)}")
    if nrow < 1:
        raise ValueError(f"nrow must be >= 1, got {nrow}")
    x = images.detach().float().clamp(0, 1).cpu().numpy()
    b, c, h, w = x.shape
    rows = -(-b // nrow)
    grid = np.full((rows * (h + pad) + pad, nrow * (w + pad) + pad, c), pad_value, dtype=np.float32)
    for i in range(b):
        r, col = divmod(i, nrow)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[top : top + h, left : left + w] = x[i].transpose(1, 2, 0)
    return grid[..., 0] if c == 1 else grid


def show_images(images: torch.Tensor, nrow: int = 8, ax=None, title: str | None = None):
    """Draw an :func:`image_grid` on ``ax`` (a new figure if None) without axes; returns the axes."""
    import matplotlib.pyplot as plt

    grid = image_grid(images, nrow)
    if ax is None:
        rows = grid.shape[0] / grid.shape[1]
        _, ax = plt.subplots(figsize=(min(1.0 * nrow, 10), min(1.0 * nrow, 10) * rows))
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax

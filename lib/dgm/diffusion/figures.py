"""Figures of the diffusion chapters: frames for the sliders that scrub through t."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from dgm.diffusion.forward import q_sample
from dgm.diffusion.schedules import Schedule
from dgm.plotting import show_images


def forward_process_frame(x0: torch.Tensor, eps: torch.Tensor, t: int, schedules: dict[str, Schedule], hist: str = "linear"):
    """One frame of the forward-process slider (chapter 4), as a matplotlib figure.

    Left: x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps (eq. ddpm-reparam) for the images
    ``x0`` [B, C, H, W] in [-1, 1], one row per schedule, with the same ``eps`` in every frame.
    Middle: histogram of the pixels of x_t under ``schedules[hist]`` against the N(0, 1) density.
    Right: SNR(t) of every schedule (eq. ddpm-snr) with the current t marked. t = 0 shows x_0.
    """
    def x_at(s: Schedule) -> torch.Tensor:
        return x0 if t == 0 else q_sample(s, x0, torch.full((len(x0),), t), eps)

    fig = plt.figure(figsize=(10, 1.8 * len(schedules)))
    grid = fig.add_gridspec(len(schedules), 3, width_ratios=[2.2, 1, 1])
    for row, (name, s) in enumerate(schedules.items()):
        show_images(((x_at(s) + 1) / 2).clamp(0, 1), nrow=len(x0), ax=fig.add_subplot(grid[row, 0]),
                    title=f"{name} schedule, t = {t}")
    ax = fig.add_subplot(grid[:, 1])
    ax.hist(x_at(schedules[hist]).flatten(), bins=60, range=(-4, 4), density=True, alpha=0.6, label="pixels of $x_t$")
    z = torch.linspace(-4, 4, 200)
    ax.plot(z, torch.exp(-z**2 / 2) / (2 * torch.pi) ** 0.5, "k", lw=1, label="N(0, 1)")
    ax.set(ylim=(0, 1.2), yticks=[], title=f"pixel histogram ({hist})")
    ax.legend(fontsize=7, loc="upper left")
    ax = fig.add_subplot(grid[:, 2])
    for name, s in schedules.items():
        ax.semilogy(torch.arange(1, s.T + 1), s.snr, label=name)
        if t > 0:
            ax.plot(t, s.snr[t - 1], "o", color="k", ms=4)
    ax.axvline(t, color="gray", lw=0.8)
    ax.set(title="SNR(t)", xlabel="t", ylim=(1e-9, 1e5))
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _unit(x: torch.Tensor) -> torch.Tensor:
    return ((x + 1) / 2).clamp(0, 1)


def pair_png(left: torch.Tensor, right: torch.Tensor, nrow: int = 8, scale: int = 3) -> bytes:
    """One frame of the reverse-process slider (chapter 6) as PNG bytes: two image grids side by side,
    e.g. x_t on the left and the model's guess of x_0 on the right (images [B, C, H, W] in [-1, 1])."""
    import numpy as np

    from dgm.plotting import image_grid
    from dgm.widgets import png_bytes

    a, b = image_grid(_unit(left), nrow), image_grid(_unit(right), nrow)
    gap = np.ones((a.shape[0], 6) + a.shape[2:], dtype=a.dtype)
    return png_bytes(np.concatenate([a, gap, b], axis=1), scale)


def progressive_figure(frames: dict[int, tuple[torch.Tensor, torch.Tensor]], steps: list[int], rows: int = 6):
    """Progressive generation (Ho et al. 2020, figs. 6 and 10 style): for ``rows`` samples, x_t (left block)
    and the model's guess of x_0 (right block) at each step of ``steps`` (columns), from the ``frames`` that
    :func:`dgm.diffusion.sampling.reverse_process` recorded."""
    fig, axes = plt.subplots(1, 2, figsize=(1.0 * len(steps) * 2 + 1, 1.0 * rows + 0.6))
    for ax, which, title in ((axes[0], 0, "$x_t$"), (axes[1], 1, r"the model's guess of $x_0$ at step $t$")):
        grid = torch.stack([frames[t][which][:rows] for t in steps], dim=1)  # [rows, len(steps), C, H, W]
        show_images(_unit(grid.flatten(0, 1)), nrow=len(steps), ax=ax)
        ax.set_title(title, pad=16)
        h = grid.shape[-1] + 2
        for j, t in enumerate(steps):
            ax.text(2 + j * h + h / 2 - 1, -2, f"t = {t}", ha="center", va="bottom", fontsize=8)
    fig.tight_layout()
    return fig

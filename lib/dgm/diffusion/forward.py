"""The forward (noising) process q of chapter 4.

    q(x_t | x_{t-1}) = N(sqrt(alpha_t) x_{t-1}, beta_t I)                    (eq. ddpm-forward-step)
    q(x_t | x_0)     = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I)          (eq. ddpm-closed-form)
    x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps,  eps ~ N(0, I)   (eq. ddpm-reparam)

Data x_0 are images scaled to [-1, 1]; every function takes a batch [B, ...] and steps t [B] in 1..T.
"""

from __future__ import annotations

import torch

from dgm.diffusion.schedules import Schedule


def q_step_sample(schedule: Schedule, x_prev: torch.Tensor, t: torch.Tensor, eps: torch.Tensor | None = None) -> torch.Tensor:
    """One step of eq. (ddpm-forward-step): x_t = sqrt(alpha_t) x_{t-1} + sqrt(beta_t) eps."""
    eps = torch.randn_like(x_prev) if eps is None else eps
    return schedule.at(schedule.alphas.sqrt(), t, x_prev) * x_prev + schedule.at(schedule.betas.sqrt(), t, x_prev) * eps


def q_mean_variance(schedule: Schedule, x0: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean sqrt(alpha_bar_t) x_0 and variance (1 - alpha_bar_t) of q(x_t | x_0), eq. (ddpm-closed-form)."""
    return schedule.at(schedule.alpha_bar.sqrt(), t, x0) * x0, schedule.at(1.0 - schedule.alpha_bar, t, x0)


def q_sample(schedule: Schedule, x0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor | None = None) -> torch.Tensor:
    """A sample of q(x_t | x_0) in one jump, eq. (ddpm-reparam)."""
    eps = torch.randn_like(x0) if eps is None else eps
    return schedule.at(schedule.alpha_bar.sqrt(), t, x0) * x0 + schedule.at((1.0 - schedule.alpha_bar).sqrt(), t, x0) * eps


def check_images(x0: torch.Tensor) -> torch.Tensor:
    """Refuse data outside [-1, 1], the range the forward process and the decoder term assume."""
    if x0.min() < -1 - 1e-6 or x0.max() > 1 + 1e-6:
        raise ValueError(
            f"x0 must be images scaled to [-1, 1] (dgm.data.to_symmetric), got values in [{x0.min().item():.3g}, {x0.max().item():.3g}]"
        )
    return x0

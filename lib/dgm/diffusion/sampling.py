"""Ancestral sampling from the reverse process (Ho et al. 2020, Algorithm 2).

    x_T ~ N(0, I)
    for t = T, ..., 1:   z ~ N(0, I) if t > 1 else z = 0
                         x_{t-1} = mu_theta(x_t, t) + sigma_t z
    return x_0
"""

from __future__ import annotations

import torch
from tqdm.auto import tqdm

from dgm.diffusion.reverse import mu_from_output, sigma2
from dgm.diffusion.schedules import Schedule


@torch.no_grad()
def ancestral_sample(schedule: Schedule, model, shape: tuple[int, ...], parametrization: str = "eps",
                     variance: str = "beta", generator: torch.Generator | None = None, device=None,
                     progress: bool = True) -> torch.Tensor:
    """Algorithm 2: T steps of p_theta(x_{t-1} | x_t) from x_T ~ N(0, I); returns x_0 [shape] (clamped to [-1, 1])."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    sigma = sigma2(schedule, variance).sqrt()
    x = torch.randn(shape, generator=generator).to(device)
    for t in tqdm(range(schedule.T, 0, -1), disable=not progress, desc="sampling"):
        steps = torch.full((shape[0],), t, device=device)
        mu = mu_from_output(schedule, model(x, steps), x, steps, parametrization)
        z = torch.randn(shape, generator=generator).to(device) if t > 1 else torch.zeros_like(x)
        x = mu + schedule.at(sigma, steps, x) * z
    return x.clamp(-1, 1)

"""Ancestral sampling from the reverse process (Ho et al. 2020, Algorithm 2).

    x_T ~ N(0, I)
    for t = T, ..., 1:   z ~ N(0, I) if t > 1 else z = 0
                         x_{t-1} = mu_theta(x_t, t) + sigma_t z                       (eq. ddpm-sampling-step)
    return x_0

:func:`reverse_process` runs the loop from any x_t (not only from x_T) and can record, at chosen steps,
x_t together with the model's current guess of x_0 (eq. ddpm-x0-from-eps): chapter 6 uses it for the
reverse-process slider, the progressive-generation figure and the shared-x_t experiment.
"""

from __future__ import annotations

from typing import Iterable

import torch
from tqdm.auto import tqdm

from dgm.diffusion.reverse import mu_from_output, sigma2, x0_from_output
from dgm.diffusion.schedules import Schedule


@torch.no_grad()
def reverse_process(schedule: Schedule, model, xt: torch.Tensor, t_start: int, parametrization: str = "eps",
                    variance: str = "beta", generator: torch.Generator | None = None, record: Iterable[int] = (),
                    progress: bool = True) -> tuple[torch.Tensor, dict[int, tuple[torch.Tensor, torch.Tensor]]]:
    """Run p_theta(x_{t-1} | x_t) from ``xt`` [B, C, H, W] at step ``t_start`` down to x_0.

    The noise z of every step is drawn on the CPU from ``generator`` (so a seed gives the same images on
    any device), one [B, C, H, W] draw per step t > 1.

    Returns:
        ``(x0, frames)``: x_0 clamped to [-1, 1], and for every t in ``record`` (1 <= t <= t_start) the pair
        ``(x_t, x0_hat)`` on the CPU, where x0_hat is the model's guess of x_0 at step t, clamped to [-1, 1].
        ``record`` may contain 0, which records ``(x_0, x_0)``.
    """
    if not 1 <= t_start <= schedule.T:
        raise ValueError(f"t_start must lie in [1, T = {schedule.T}], got {t_start}")
    record = set(record)
    if record and not all(0 <= t <= t_start for t in record):
        raise ValueError(f"record must hold steps in [0, t_start = {t_start}], got {sorted(record)}")
    device = xt.device
    sigma = sigma2(schedule, variance).sqrt()
    frames = {}
    x = xt
    for t in tqdm(range(t_start, 0, -1), disable=not progress, desc="sampling"):
        steps = torch.full((len(x),), t, device=device)
        out = model(x, steps)
        if t in record:
            frames[t] = (x.cpu(), x0_from_output(schedule, out, x, steps, parametrization).clamp(-1, 1).cpu())
        mu = mu_from_output(schedule, out, x, steps, parametrization)
        z = torch.randn(x.shape, generator=generator).to(device) if t > 1 else torch.zeros_like(x)
        x = mu + schedule.at(sigma, steps, x) * z
    x = x.clamp(-1, 1)
    if 0 in record:
        frames[0] = (x.cpu(), x.cpu())
    return x, frames


@torch.no_grad()
def ancestral_sample(schedule: Schedule, model, shape: tuple[int, ...], parametrization: str = "eps",
                     variance: str = "beta", generator: torch.Generator | None = None, device=None,
                     progress: bool = True) -> torch.Tensor:
    """Algorithm 2: T steps of p_theta(x_{t-1} | x_t) from x_T ~ N(0, I); returns x_0 [shape] (clamped to [-1, 1])."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    x = torch.randn(shape, generator=generator).to(device)
    return reverse_process(schedule, model, x, schedule.T, parametrization, variance, generator, progress=progress)[0]

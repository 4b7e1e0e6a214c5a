"""The forward process's posterior q(x_{t-1} | x_t, x_0) (chapter 5).

Completing the square in Bayes' rule q(x_{t-1} | x_t, x_0) ∝ q(x_t | x_{t-1}) q(x_{t-1} | x_0) gives

    q(x_{t-1} | x_t, x_0) = N(mu_tilde_t(x_t, x_0), beta_tilde_t I)                          (eq. ddpm-posterior)
    mu_tilde_t = sqrt(alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t) x_0
               + sqrt(alpha_t) (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) x_t                  (eq. ddpm-posterior-mean)
    beta_tilde_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) beta_t                           (eq. ddpm-posterior-var)
"""

from __future__ import annotations

import torch

from dgm.diffusion.schedules import Schedule


def q_posterior_mean_variance(schedule: Schedule, x0: torch.Tensor, xt: torch.Tensor, t: torch.Tensor):
    """mu_tilde_t(x_t, x_0) and beta_tilde_t of eq. (ddpm-posterior), for steps t [B] in 1..T."""
    if x0.shape != xt.shape:
        raise ValueError(f"x0 and xt must have the same shape, got {list(x0.shape)} and {list(xt.shape)}")
    a_bar, a_bar_prev = schedule.alpha_bar, schedule.alpha_bar_prev
    coef_x0 = a_bar_prev.sqrt() * schedule.betas / (1.0 - a_bar)
    coef_xt = schedule.alphas.sqrt() * (1.0 - a_bar_prev) / (1.0 - a_bar)
    mean = schedule.at(coef_x0, t, x0) * x0 + schedule.at(coef_xt, t, xt) * xt
    return mean, schedule.at(schedule.beta_tilde, t, x0)

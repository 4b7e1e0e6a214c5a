"""The reverse process p_theta(x_{t-1} | x_t) of chapter 5 and its noise-prediction parametrization.

    p_theta(x_{t-1} | x_t) = N(mu_theta(x_t, t), sigma_t^2 I)                                 (eq. ddpm-reverse)
    x_0 = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)                               (eq. ddpm-x0-from-eps)
    mu_theta(x_t, t) = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_theta(x_t, t)) / sqrt(alpha_t)  (eq. ddpm-mu-eps)

The variance sigma_t^2 is fixed, to beta_t or to beta_tilde_t (Ho et al. 2020). At t = 1, where
beta_tilde_1 = 0, both use beta_tilde_2, as the authors' code does, so that the decoder term L_0 has a
sensible width.
"""

from __future__ import annotations

import torch

from dgm.diffusion.posterior import q_posterior_mean_variance
from dgm.diffusion.schedules import Schedule

VARIANCES = ("beta", "beta_tilde")


def sigma2(schedule: Schedule, kind: str = "beta") -> torch.Tensor:
    """sigma_t^2 for t = 1..T (float64 [T]): beta_t or beta_tilde_t, with beta_tilde_2 at t = 1."""
    if kind not in VARIANCES:
        raise ValueError(f"kind must be one of {VARIANCES}, got {kind!r}")
    if schedule.T < 2:
        raise ValueError("the reverse-process variance needs T >= 2")
    values = schedule.betas.clone() if kind == "beta" else schedule.beta_tilde.clone()
    values[0] = schedule.beta_tilde[1]
    return values


def x0_from_eps(schedule: Schedule, xt: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """The x_0 that x_t and the noise eps imply, eq. (ddpm-x0-from-eps)."""
    return (xt - schedule.at((1 - schedule.alpha_bar).sqrt(), t, xt) * eps) / schedule.at(schedule.alpha_bar.sqrt(), t, xt)


def mu_from_eps(schedule: Schedule, xt: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """mu_theta(x_t, t) from a noise prediction, eq. (ddpm-mu-eps)."""
    coef = schedule.betas / (1 - schedule.alpha_bar).sqrt()
    return (xt - schedule.at(coef, t, xt) * eps) / schedule.at(schedule.alphas.sqrt(), t, xt)


def eps_weight(schedule: Schedule, kind: str = "beta") -> torch.Tensor:
    """The weight lambda_t = beta_t^2 / (2 sigma_t^2 alpha_t (1 - alpha_bar_t)) that turns L_{t-1} into
    lambda_t || eps - eps_theta ||^2 (eq. ddpm-lt-eps), for t = 1..T; L_simple sets it to 1."""
    return schedule.betas**2 / (2 * sigma2(schedule, kind) * schedule.alphas * (1 - schedule.alpha_bar))


PARAMETRIZATIONS = ("eps", "x0", "mu")


def mu_from_output(schedule: Schedule, output: torch.Tensor, xt: torch.Tensor, t: torch.Tensor, parametrization: str = "eps"):
    """mu_theta(x_t, t) from the network's output, read as a prediction of eps (eq. ddpm-mu-eps), of x_0
    (then mu_theta = mu_tilde_t(x_t, x0_hat), eq. ddpm-posterior-mean) or of the mean itself."""
    if parametrization == "eps":
        return mu_from_eps(schedule, xt, t, output)
    if parametrization == "x0":
        return q_posterior_mean_variance(schedule, output, xt, t)[0]
    if parametrization == "mu":
        return output
    raise ValueError(f"parametrization must be one of {PARAMETRIZATIONS}, got {parametrization!r}")


def x0_from_output(schedule: Schedule, output: torch.Tensor, xt: torch.Tensor, t: torch.Tensor, parametrization: str = "eps"):
    """The model's current guess of x_0 from its output: eq. (ddpm-x0-from-eps) for a noise prediction, the output
    itself for an x_0 prediction, and for a mean prediction the x_0 whose posterior mean (eq. ddpm-posterior-mean)
    it is, x_0 = (mu - c_t x_t) / c_0 with c_0 = sqrt(alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t) and
    c_t = sqrt(alpha_t) (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t)."""
    if parametrization == "eps":
        return x0_from_eps(schedule, xt, t, output)
    if parametrization == "x0":
        return output
    if parametrization == "mu":
        c0 = schedule.alpha_bar_prev.sqrt() * schedule.betas / (1 - schedule.alpha_bar)
        ct = schedule.alphas.sqrt() * (1 - schedule.alpha_bar_prev) / (1 - schedule.alpha_bar)
        return (output - schedule.at(ct, t, xt) * xt) / schedule.at(c0, t, xt)
    raise ValueError(f"parametrization must be one of {PARAMETRIZATIONS}, got {parametrization!r}")

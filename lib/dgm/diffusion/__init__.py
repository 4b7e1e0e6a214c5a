"""Denoising diffusion probabilistic models (Ho et al. 2020), one concept per module.

- ``schedules``  beta_t, alpha_bar_t, SNR and the posterior variance, in float64
- ``forward``    the forward process q(x_t | x_{t-1}) and its closed form q(x_t | x_0)
- ``posterior``  q(x_{t-1} | x_t, x_0)
"""

from dgm.diffusion.forward import q_mean_variance, q_sample, q_step_sample
from dgm.diffusion.posterior import q_posterior_mean_variance
from dgm.diffusion.schedules import Schedule, cosine_betas, cosine_schedule, linear_betas, linear_schedule

__all__ = ["Schedule", "linear_betas", "cosine_betas", "linear_schedule", "cosine_schedule", "q_step_sample",
           "q_mean_variance", "q_sample", "q_posterior_mean_variance"]

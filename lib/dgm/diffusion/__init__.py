"""Denoising diffusion probabilistic models (Ho et al. 2020), one concept per module.

- ``schedules``  beta_t, alpha_bar_t, SNR and the posterior variance, in float64
- ``forward``    the forward process q(x_t | x_{t-1}) and its closed form q(x_t | x_0)
- ``posterior``  q(x_{t-1} | x_t, x_0)
- ``reverse``    p_theta(x_{t-1} | x_t): fixed variances, the noise-prediction parametrization
- ``bound``      the variational bound term by term (L_T, L_{t-1}, L_0) and L_simple
- ``figures``    frames of the scrubbing widgets
"""

from dgm.diffusion.bound import (bound_terms, l_simple, prior_term, sampled_bound, term, timestep_strata,
                                 to_bits_per_dim)
from dgm.diffusion.forward import q_mean_variance, q_sample, q_step_sample
from dgm.diffusion.posterior import q_posterior_mean_variance
from dgm.diffusion.reverse import eps_weight, mu_from_eps, sigma2, x0_from_eps
from dgm.diffusion.schedules import Schedule, cosine_betas, cosine_schedule, linear_betas, linear_schedule

__all__ = ["Schedule", "linear_betas", "cosine_betas", "linear_schedule", "cosine_schedule", "q_step_sample",
           "q_mean_variance", "q_sample", "q_posterior_mean_variance", "sigma2", "x0_from_eps", "mu_from_eps",
           "eps_weight", "prior_term", "term", "bound_terms", "sampled_bound",
           "timestep_strata", "to_bits_per_dim", "l_simple"]

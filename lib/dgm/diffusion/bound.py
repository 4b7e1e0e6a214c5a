"""The variational bound of a DDPM, term by term (chapter 5), in nats per image and in bits per dimension.

    L = L_T + sum_{t=2}^{T} L_{t-1} + L_0                                               (eq. ddpm-bound-split)
    L_T     = KL(q(x_T | x_0) || N(0, I))                                               (eq. ddpm-prior-term)
    L_{t-1} = KL(q(x_{t-1} | x_t, x_0) || p_theta(x_{t-1} | x_t)),  x_t ~ q(x_t | x_0)  (eq. ddpm-lt)
    L_0     = -log p_theta(x_0 | x_1), the discretized Gaussian decoder                 (eq. ddpm-l0)

Every KL is :func:`dgm.distributions.normal_kl`, the one Gaussian KL of the book; the decoder is
:func:`dgm.distributions.discretized_gaussian_log_prob`. ``eps_model(x_t, t)`` is any network that
predicts the noise from x_t [B, C, H, W] and steps t [B] (integers in 1..T).
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from tqdm.auto import tqdm

from dgm.diffusion.forward import check_images, q_mean_variance, q_sample
from dgm.diffusion.posterior import q_posterior_mean_variance
from dgm.diffusion.reverse import PARAMETRIZATIONS, mu_from_output, sigma2
from dgm.diffusion.schedules import Schedule
from dgm.distributions import discretized_gaussian_log_prob, normal_kl

EpsModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _per_image(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(1).sum(1)


def prior_term(schedule: Schedule, x0: torch.Tensor) -> torch.Tensor:
    """L_T of eq. (ddpm-prior-term) per image, in nats: [B]. It has no parameter to learn."""
    check_images(x0)
    T = torch.full((len(x0),), schedule.T)
    mean, var = q_mean_variance(schedule, x0.double(), T)
    return _per_image(normal_kl(mean, var.log(), torch.zeros(()), torch.zeros(()))).to(x0.dtype)


def term(schedule: Schedule, eps_model: EpsModel, x0: torch.Tensor, t: torch.Tensor, variance: str = "beta",
         eps: torch.Tensor | None = None, parametrization: str = "eps") -> torch.Tensor:
    """L_{t-1} (eq. ddpm-lt) where t >= 2 and L_0 (eq. ddpm-l0) where t = 1, per image, in nats: [B].

    One sample x_t ~ q(x_t | x_0) (made with the noise ``eps`` if given) is drawn per image. The model's
    output is read as a prediction of eps (default), x_0 or mu (see dgm.diffusion.reverse.mu_from_output).
    """
    check_images(x0)
    t = schedule.check_t(t)
    xt = q_sample(schedule, x0, t, eps)
    mu = mu_from_output(schedule, eps_model(xt, t), xt, t, parametrization)  # mu_theta(x_t, t)
    logvar = schedule.at(sigma2(schedule, variance).log(), t, x0)  # log sigma_t^2
    # L_{t-1} = KL(N(mu_tilde, beta_tilde) || N(mu_theta, sigma_t^2)); rows with t = 1 are replaced below
    mu_tilde, beta_tilde = q_posterior_mean_variance(schedule, x0, xt, t.clamp(min=2))
    out = _per_image(normal_kl(mu_tilde, beta_tilde.log(), mu, logvar))
    decoder = t == 1
    if decoder.any():  # L_0 = -log p_theta(x_0 | x_1) under the discretized Gaussian N(mu_theta, sigma_1^2)
        nll = -_per_image(discretized_gaussian_log_prob(x0, mu, 0.5 * logvar))
        out = torch.where(decoder, nll, out)
    return out


@torch.no_grad()
def bound_terms(schedule: Schedule, eps_model: EpsModel, x0: torch.Tensor, variance: str = "beta",
                generator: torch.Generator | None = None, progress: bool = False,
                parametrization: str = "eps") -> tuple[torch.Tensor, torch.Tensor]:
    """Every term of eq. (ddpm-bound-split) for a batch, in nats per image.

    Returns ``(terms, prior)``: ``terms`` [B, T] with column t - 1 holding L_{t-1} (L_0 in column 0),
    ``prior`` [B] holding L_T. The bound is ``terms.sum(1) + prior``.
    """
    terms = torch.empty(len(x0), schedule.T, dtype=x0.dtype, device=x0.device)
    for t in tqdm(range(schedule.T, 0, -1), disable=not progress, desc="bound"):
        eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype).to(x0.device)
        terms[:, t - 1] = term(schedule, eps_model, x0, torch.full((len(x0),), t, device=x0.device), variance, eps,
                               parametrization)
    return terms, prior_term(schedule, x0)


def timestep_strata(T: int, strata: int) -> list[tuple[int, int]]:
    """Split t = 2..T into ``strata`` contiguous ranges (lo, hi), inclusive, whose sizes grow geometrically.

    The terms L_{t-1} are large and change fast at small t and are tiny and smooth at large t, so the
    first ranges hold a single t each (those terms are computed exactly) and the last ones hundreds.
    """
    if not isinstance(T, int) or T < 2:
        raise ValueError(f"T must be an integer >= 2, got {T!r}")
    if not isinstance(strata, int) or not 1 <= strata <= T - 1:
        raise ValueError(f"strata must be an integer in [1, T - 1] = [1, {T - 1}], got {strata!r}")
    edges = [2]  # edges[k] is the first t of stratum k; the last edge is T + 1
    for k in range(1, strata):
        geometric = round(2 * ((T + 1) / 2) ** (k / strata))
        edges.append(min(max(geometric, edges[-1] + 1), T + 1 - (strata - k)))  # >= 1 step each, room for the rest
    edges.append(T + 1)
    return [(lo, hi - 1) for lo, hi in zip(edges[:-1], edges[1:])]


@torch.no_grad()
def sampled_bound(schedule: Schedule, eps_model: EpsModel, x0: torch.Tensor, strata: int = 32,
                  variance: str = "beta", generator: torch.Generator | None = None,
                  parametrization: str = "eps") -> torch.Tensor:
    """An unbiased estimate of the bound of eq. (ddpm-bound-split) per image, in nats: [B], at the cost of
    ``strata + 1`` network calls per image instead of T.

    L_T and L_0 are computed exactly. The sum of L_{t-1} over t = 2..T is estimated by stratified sampling:
    with the strata S_k of :func:`timestep_strata` and one t_k drawn uniformly from each,

        sum_{t=2}^{T} L_{t-1}  ~  sum_k |S_k| L_{t_k - 1},                               (eq. ddpm-bound-strata)

    whose expectation over t_k (and over x_t) is the sum itself. Different images get different t_k.
    """
    b = len(x0)
    ones = torch.ones(b, dtype=torch.long, device=x0.device)
    draw = lambda: torch.randn(x0.shape, generator=generator, dtype=x0.dtype).to(x0.device)  # noqa: E731
    out = prior_term(schedule, x0) + term(schedule, eps_model, x0, ones, variance, draw(), parametrization)
    for lo, hi in timestep_strata(schedule.T, strata):
        t = torch.randint(lo, hi + 1, (b,), generator=generator).to(x0.device)
        out = out + (hi - lo + 1) * term(schedule, eps_model, x0, t, variance, draw(), parametrization)
    return out


def to_bits_per_dim(nats: torch.Tensor, x0: torch.Tensor) -> torch.Tensor:
    """nats per image -> bits per dimension of images shaped like ``x0`` (see dgm.units)."""
    return nats / (x0[0].numel() * math.log(2.0))


def l_simple(schedule: Schedule, eps_model: EpsModel, x0: torch.Tensor, parametrization: str = "eps") -> torch.Tensor:
    """L_simple of eq. (ddpm-lsimple): || eps - eps_theta(x_t, t) ||^2 per image, t ~ U{1..T}, eps ~ N(0, I): [B].

    With ``parametrization="x0"`` or ``"mu"`` the same unweighted squared error is taken against the
    quantity the network predicts instead (x_0, or mu_tilde_t(x_t, x_0)), as in Ho et al.'s comparison.
    """
    if parametrization not in PARAMETRIZATIONS:
        raise ValueError(f"parametrization must be one of {PARAMETRIZATIONS}, got {parametrization!r}")
    t = torch.randint(1, schedule.T + 1, (len(x0),), device=x0.device)
    eps = torch.randn_like(x0)
    xt = q_sample(schedule, x0, t, eps)
    output = eps_model(xt, t)
    if parametrization == "eps":
        target = eps
    elif parametrization == "x0":
        target = x0
    else:  # "mu"
        target = q_posterior_mean_variance(schedule, x0, xt, t)[0]
    return _per_image((target - output) ** 2)


# Ranges of t over which the chapters sum the terms (column t - 1 of bound_terms holds L_{t-1}).
TERM_RANGES = {"L_0": (1, 1), "L_1..L_9": (2, 10), "L_10..L_99": (11, 100), "L_100..L_499": (101, 500),
               "L_500..L_999": (501, 1000)}


def terms_by_range(terms: torch.Tensor, prior: torch.Tensor, x0: torch.Tensor) -> dict[str, float]:
    """The mean over images of the terms of :func:`bound_terms` summed over each range of TERM_RANGES, and L_T,
    in bits/dim. Ranges beyond the schedule's T sum nothing."""
    out = {k: to_bits_per_dim(terms[:, lo - 1 : hi].sum(1), x0).mean().item() for k, (lo, hi) in TERM_RANGES.items()}
    return out | {"L_T": to_bits_per_dim(prior, x0).mean().item()}

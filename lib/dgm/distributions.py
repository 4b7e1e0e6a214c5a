"""Log-densities and KL divergences used by every chapter, each written once.

Conventions: every function works elementwise and returns a tensor of the broadcast shape of
its inputs; callers sum over the dimensions they want. Gaussians are parametrised by mean and
log-variance (``logvar``), which keeps the variance positive without constraints.

- :func:`normal_kl`            KL(N(mean1, var1) || N(mean2, var2))        eq. (vae-kl-general)
- :func:`standard_normal_kl`   KL(N(mean, var) || N(0, 1))                  eq. (vae-kl-standard)
- :func:`gaussian_log_prob`    log N(x; mean, var)
- :func:`standard_normal_log_prob`  log N(z; 0, I) of whole examples (summed over all but the first axis)
- :func:`bernoulli_log_prob`   log Bernoulli(x; sigmoid(logits))            eq. (vae-bernoulli)
- :func:`discretized_gaussian_log_prob`  log of the mass of a Gaussian on the bin of an 8-bit value
                                          eq. (vae-discretized); the DDPM's L_0 uses it too
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2 * math.pi)


def _check_logvar(logvar: torch.Tensor | float, name: str) -> torch.Tensor:
    logvar = torch.as_tensor(logvar)
    if not torch.isfinite(logvar).all():
        raise ValueError(f"{name} must be finite (a log-variance; the variance must be > 0)")
    return logvar


def _check_shapes(**tensors: torch.Tensor) -> None:
    try:
        torch.broadcast_shapes(*(t.shape for t in tensors.values()))
    except RuntimeError:
        shapes = ", ".join(f"{k} {list(v.shape)}" for k, v in tensors.items())
        raise ValueError(f"shapes do not broadcast to a common shape: {shapes}") from None


def normal_kl(mean1, logvar1, mean2, logvar2) -> torch.Tensor:
    """KL(N(mean1, exp(logvar1)) || N(mean2, exp(logvar2))), elementwise, in nats  (eq. vae-kl-general):

        1/2 [ logvar2 - logvar1 + (exp(logvar1) + (mean1 - mean2)^2) / exp(logvar2) - 1 ].
    """
    mean1, mean2 = torch.as_tensor(mean1), torch.as_tensor(mean2)
    logvar1, logvar2 = _check_logvar(logvar1, "logvar1"), _check_logvar(logvar2, "logvar2")
    _check_shapes(mean1=mean1, logvar1=logvar1, mean2=mean2, logvar2=logvar2)
    return 0.5 * (logvar2 - logvar1 + (torch.exp(logvar1) + (mean1 - mean2) ** 2) * torch.exp(-logvar2) - 1.0)


def standard_normal_kl(mean, logvar) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, 1)) = 1/2 (mean^2 + exp(logvar) - logvar - 1)  (eq. vae-kl-standard).

    The special case mean2 = 0, logvar2 = 0 of :func:`normal_kl`, which it calls.
    """
    return normal_kl(mean, logvar, torch.zeros(()), torch.zeros(()))


def gaussian_log_prob(x, mean, logvar) -> torch.Tensor:
    """log N(x; mean, exp(logvar)) = -1/2 [ log 2 pi + logvar + (x - mean)^2 / exp(logvar) ], elementwise."""
    logvar = _check_logvar(logvar, "logvar")
    x, mean = torch.as_tensor(x), torch.as_tensor(mean)
    _check_shapes(x=x, mean=mean, logvar=logvar)
    return -0.5 * (LOG_2PI + logvar + (x - mean) ** 2 * torch.exp(-logvar))


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) per example [B] of z [B, ...]: :func:`gaussian_log_prob` summed over all but the first axis
    (the prior of the flows' latents, and of the variational dequantizer's noise)."""
    return gaussian_log_prob(z, torch.zeros_like(z), torch.zeros_like(z)).flatten(1).sum(1)


def bernoulli_log_prob(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """log p(x) for x in {0, 1} under Bernoulli(sigmoid(logits))  (eq. vae-bernoulli):

        x log sigmoid(l) + (1 - x) log(1 - sigmoid(l)),   computed stably as -softplus(-l) etc.
    """
    if x.shape != logits.shape:
        raise ValueError(f"x and logits must have the same shape, got {list(x.shape)} and {list(logits.shape)}")
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none")


def _standard_normal_cdf(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


def discretized_gaussian_log_prob(x: torch.Tensor, mean: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    """log P(x) for 8-bit data scaled to [-1, 1] under a Gaussian discretized into 256 bins (eq. vae-discretized).

    The pixel value k in {0, ..., 255} is represented by x = 2k/255 - 1. Its bin is
    [x - 1/255, x + 1/255], except that the first bin extends to -infinity and the last to
    +infinity, so that the 256 probabilities sum to exactly one (Ho et al. 2020, eq. 13):

        P(x) = Phi((x + 1/255 - mean) / s) - Phi((x - 1/255 - mean) / s),   s = exp(log_scale).

    Args:
        x: values on the grid 2k/255 - 1 (checked to lie in [-1, 1]).
        mean, log_scale: the Gaussian's mean and log standard deviation, broadcastable to ``x``.
    """
    if x.min() < -1 - 1e-6 or x.max() > 1 + 1e-6:
        raise ValueError(f"x must be 8-bit data scaled to [-1, 1], got values in [{x.min().item():.3f}, {x.max().item():.3f}]")
    log_scale = _check_logvar(log_scale, "log_scale")
    inv_s = torch.exp(-log_scale)
    centered = x - mean
    cdf_plus = _standard_normal_cdf((centered + 1.0 / 255) * inv_s)
    cdf_minus = _standard_normal_cdf((centered - 1.0 / 255) * inv_s)
    log_cdf_plus = torch.log(cdf_plus.clamp(min=1e-12))  # the bin from -infinity (x = -1)
    log_one_minus_cdf_minus = torch.log((1.0 - cdf_minus).clamp(min=1e-12))  # the bin to +infinity (x = +1)
    log_mass = torch.log((cdf_plus - cdf_minus).clamp(min=1e-12))
    return torch.where(x < -0.999, log_cdf_plus, torch.where(x > 0.999, log_one_minus_cdf_minus, log_mass))

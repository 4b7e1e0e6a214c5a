"""From 8-bit images to a density on the real line, and back to bits per dimension of the discrete data.

Uniform dequantization (Theis et al. 2016): y = (x + u) / 256 with u ~ U[0, 1)^D fills each pixel's bin, and

    log P(x) >= E_u[ log p((x + u) / 256) ] - D log 256                                        (eq. flow-dequant)

so a density p on [0, 1)^D gives a bound on the log-probability of the discrete image. Since P(x) =
256^-D E_u[p((x + u) / 256)] exactly, K draws u_1..u_K give a tighter bound, as in the IWAE of chapter 2:

    log P(x) >= E[ log (1/K) sum_k p((x + u_k) / 256) ] - D log 256                            (eq. flow-dequant-iw)

which grows with K towards log P(x) (Burda et al. 2016). Variational dequantization (Ho et al. 2019, Flow++)
learns the distribution of u instead, which tightens the single-draw bound: dgm.flows.variational_dequantization.
The logit transform of RealNVP maps [0, 1) to the real line,

    h = logit(alpha + (1 - 2 alpha) y),   log |dh/dy| = log(1 - 2 alpha) - log p - log(1 - p),  p = alpha + (1 - 2 alpha) y

and bits per dimension of the discrete image are -log P(x) / (D ln 2) (eq. flow-bpd; dgm.units.bits_per_dim).
"""

from __future__ import annotations

import math

import torch

from dgm.units import bits_per_dim


def check_uint8_images(x: torch.Tensor) -> torch.Tensor:
    """Raise a ValueError unless x holds 8-bit pixel values (dtype uint8, or integers in 0..255)."""
    if x.dtype != torch.uint8 and (x.is_floating_point() and ((x != x.round()).any() or x.min() < 0 or x.max() > 255)):
        raise ValueError("x must hold 8-bit pixel values (uint8, or integers in 0..255), got values in "
                         f"[{x.min().item():.3g}, {x.max().item():.3g}] of dtype {x.dtype}")
    return x


def dequantize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """y = (x + u) / 256, u ~ U[0, 1) per pixel: 8-bit images x [B, C, H, W] -> floats in [0, 1)."""
    check_uint8_images(x)
    u = torch.rand(x.shape, generator=generator).to(x.device)
    return (x.float() + u) / 256


def logit_transform(y: torch.Tensor, alpha: float = 0.05) -> tuple[torch.Tensor, torch.Tensor]:
    """h = logit(alpha + (1 - 2 alpha) y) and its log |det J| per example [B]."""
    p = alpha + (1 - 2 * alpha) * y
    h = p.log() - torch.log1p(-p)
    logdet = (math.log(1 - 2 * alpha) - p.log() - torch.log1p(-p)).flatten(1).sum(1)
    return h, logdet


def logit_inverse(h: torch.Tensor, alpha: float = 0.05) -> torch.Tensor:
    """The inverse of :func:`logit_transform`: y = (sigmoid(h) - alpha) / (1 - 2 alpha)."""
    return (torch.sigmoid(h) - alpha) / (1 - 2 * alpha)


def importance_weighted_bits_per_dim(log_densities: torch.Tensor, num_dims: int) -> torch.Tensor:
    """Bits/dim of 8-bit images by eq. (flow-dequant-iw): log p(y_k) [K, B] in nats of K dequantizations
    y_k = (x + u_k) / 256 of each image -> [B]. With K = 1 it is :func:`discrete_bits_per_dim`. For u_k drawn
    from a variational dequantizer q, pass the log-weights log p(y_k) - log q(u_k | x)."""
    if log_densities.dim() != 2:
        raise ValueError(f"log_densities must be [K, B] (draws, images), got shape {list(log_densities.shape)}")
    k = log_densities.shape[0]
    return discrete_bits_per_dim(torch.logsumexp(log_densities, dim=0) - math.log(k), num_dims)


def discrete_bits_per_dim(log_density: torch.Tensor, num_dims: int) -> torch.Tensor:
    """Bits/dim of 8-bit images from log p(y) in nats of their dequantized values y in [0, 1)^D (eq. flow-dequant,
    eq. flow-bpd): -(log p(y) - D log 256) / (D ln 2)."""
    return bits_per_dim(-(log_density - num_dims * math.log(256)), num_dims)

"""Variational dequantization (Ho et al. 2019, Flow++): learn the noise that fills each pixel's bin.

Uniform dequantization bounds log P(x) with u ~ U[0, 1)^D (eq. flow-dequant). Any density q(u | x) on
[0, 1)^D gives a bound too, by the same importance-sampling argument as the VAE's ELBO (chapter 2):

    log P(x) = log E_q[ p((x + u) / 256) / q(u | x) ] - D log 256
            >= E_q[ log p((x + u) / 256) - log q(u | x) ] - D log 256                     (eq. flow-vardeq)

with equality when q(u | x) is the flow's own density restricted to the bin of x; the gap is
KL(q(u | x) || p(u | x)). Uniform dequantization is the case q = 1, log q = 0.

Here q(u | x) is itself a flow, conditioned on the image:

    eps ~ N(0, I),   h = g(eps; x)   (conditional checkerboard couplings),   u = Phi(h)

with Phi the standard normal CDF, so that by the change of variables (eq. flow-change-of-variables)

    log q(u | x) = log N(eps; 0, I) - log |det dg/deps| - sum_i log N(h_i; 0, 1)          (eq. flow-vardeq-q)

since dPhi/dh = N(h; 0, 1). The couplings start as the identity, h = eps, and then u = Phi(eps) is exactly
uniform and log q = 0: an untrained dequantizer is uniform dequantization.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dgm.data import to_symmetric
from dgm.distributions import standard_normal_log_prob
from dgm.flows.coupling import AffineCoupling


@dataclass(frozen=True)
class DequantizerConfig:
    """Architecture of :class:`VariationalDequantizer`."""

    steps: int = 4  # conditional checkerboard couplings, alternating parity
    hidden: int = 32  # channels of their networks
    blocks: int = 1  # residual blocks per coupling network
    features: int = 16  # channels of the features of x that every coupling is conditioned on

    def __post_init__(self):
        for name in ("steps", "hidden", "blocks", "features"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


class VariationalDequantizer(nn.Module):
    """q(u | x) for 8-bit images x [B, C, H, W]: draws u in (0, 1)^D and returns log q(u | x) (eq. flow-vardeq-q)."""

    def __init__(self, config: DequantizerConfig, image_channels: int = 1):
        super().__init__()
        self.config = config
        f = config.features
        # features of the image, computed once and shared by every coupling: three 3x3 convolutions (7x7 field)
        self.features = nn.Sequential(nn.Conv2d(image_channels, f, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(f, f, 3, padding=1), nn.ReLU(), nn.Conv2d(f, f, 3, padding=1))
        self.couplings = nn.ModuleList(
            AffineCoupling(image_channels, "checkerboard", i % 2, config.hidden, config.blocks, cond_channels=f)
            for i in range(config.steps))

    def noise_to_unit(self, eps: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """u = Phi(g(eps; x)) and log q(u | x) [B] for given noise eps [B, C, H, W] (eq. flow-vardeq-q)."""
        cond = self.features(to_symmetric(x).to(eps.dtype))
        log_q = standard_normal_log_prob(eps)
        h = eps
        for layer in self.couplings:
            h, logdet = layer(h, cond)
            log_q = log_q - logdet
        return torch.special.ndtr(h), log_q - standard_normal_log_prob(h)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """A draw u ~ q(u | x) [B, C, H, W] in (0, 1) and log q(u | x) [B] in nats."""
        eps = torch.randn(x.shape, generator=generator).to(x.device)
        return self.noise_to_unit(eps, x)

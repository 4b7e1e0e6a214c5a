"""A multi-scale flow for 28x28 images (RealNVP's architecture with Glow's layers), chapter 3.

    x (8-bit) -> dequantize (uniform, or variational) -> logit       [C, 28, 28]
    scale 0: K0 x [ActNorm, checkerboard coupling]                    [C, 28, 28]
    squeeze                                                           [4C, 14, 14]
    scale 1: K1 x [ActNorm, 1x1 conv, channel coupling]
    split: half the channels -> z_1 ~ N(0, I)                         [2C, 14, 14]
    squeeze                                                           [8C, 7, 7]
    scale 2: K2 x [ActNorm, 1x1 conv, channel coupling] -> z_2 ~ N(0, I)

log p(y) = log N(z_1) + log N(z_2) + the sum of every layer's log |det J| (eq. flow-composition).
The bound on the discrete image is log p(y) - log q(u | x) - D log 256 with y = (x + u) / 256: eq. flow-dequant
for uniform u (log q = 0), eq. flow-vardeq for a learned dequantizer q(u | x) (``FlowConfig.dequantizer``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dgm.distributions import standard_normal_log_prob
from dgm.flows.actnorm import ActNorm
from dgm.flows.coupling import AffineCoupling
from dgm.flows.dequantization import check_uint8_images, dequantize, discrete_bits_per_dim, logit_inverse, logit_transform
from dgm.flows.invconv import InvertibleConv1x1
from dgm.flows.squeeze import squeeze, unsqueeze
from dgm.flows.variational_dequantization import DequantizerConfig, VariationalDequantizer


@dataclass(frozen=True)
class FlowConfig:
    """Architecture of :class:`Flow`."""

    image_channels: int = 1
    image_size: int = 28
    steps: tuple[int, ...] = (4, 2, 4)  # flow steps at scales 0, 1, 2
    hidden: tuple[int, ...] = (32, 48, 64)  # channels of the coupling networks at scales 0, 1, 2
    blocks: int = 2  # residual blocks per coupling network
    alpha: float = 0.05  # of the logit transform
    dequantizer: DequantizerConfig | None = None  # None: uniform dequantization

    def __post_init__(self):
        if isinstance(self.dequantizer, dict):  # as stored in a checkpoint (dataclasses.asdict)
            object.__setattr__(self, "dequantizer", DequantizerConfig(**self.dequantizer))
        if self.dequantizer is not None and not isinstance(self.dequantizer, DequantizerConfig):
            raise ValueError(f"dequantizer must be a DequantizerConfig or None, got {self.dequantizer!r}")
        if len(self.steps) != 3 or len(self.hidden) != 3 or min(self.steps) < 1 or min(self.hidden) < 1:
            raise ValueError(f"steps and hidden must hold 3 positive integers, got {self.steps} and {self.hidden}")
        if self.image_size % 4:
            raise ValueError(f"image_size must be divisible by 4 (two squeezes), got {self.image_size}")
        if not 0 < self.alpha < 0.5:
            raise ValueError(f"alpha must lie in (0, 0.5), got {self.alpha}")


class Flow(nn.Module):
    Config = FlowConfig

    def __init__(self, config: FlowConfig = FlowConfig()):
        super().__init__()
        self.config = config
        c = config.image_channels
        k0, k1, k2 = config.steps
        h0, h1, h2 = config.hidden
        self.scale0 = nn.ModuleList()
        for i in range(k0):
            self.scale0.extend([ActNorm(c), AffineCoupling(c, "checkerboard", i % 2, h0, config.blocks)])
        self.scale1 = nn.ModuleList()
        for i in range(k1):
            self.scale1.extend([ActNorm(4 * c), InvertibleConv1x1(4 * c, seed=i),
                                AffineCoupling(4 * c, "channel", i % 2, h1, config.blocks)])
        self.scale2 = nn.ModuleList()
        for i in range(k2):
            self.scale2.extend([ActNorm(8 * c), InvertibleConv1x1(8 * c, seed=100 + i),
                                AffineCoupling(8 * c, "channel", i % 2, h2, config.blocks)])
        self.dequantizer = None if config.dequantizer is None else VariationalDequantizer(config.dequantizer, c)

    @property
    def num_dims(self) -> int:
        return self.config.image_channels * self.config.image_size**2

    def _check(self, y: torch.Tensor) -> None:
        c, s = self.config.image_channels, self.config.image_size
        if y.dim() != 4 or tuple(y.shape[1:]) != (c, s, s):
            raise ValueError(f"the flow expects images of shape [B, {c}, {s}, {s}], got {list(y.shape)}")

    @staticmethod
    def _run(layers: nn.ModuleList, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = torch.zeros(len(h), device=h.device)
        for layer in layers:
            h, ld = layer(h)
            logdet = logdet + ld
        return h, logdet

    @staticmethod
    def _run_inverse(layers: nn.ModuleList, h: torch.Tensor) -> torch.Tensor:
        for layer in reversed(layers):
            h = layer.inverse(h)
        return h

    def forward(self, h: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """The flow on logit-space inputs h [B, C, H, W]: returns the latents [z_1, z_2] and log |det J| [B]."""
        h, ld0 = self._run(self.scale0, h)
        h, ld1 = self._run(self.scale1, squeeze(h))
        z1, h = h.chunk(2, dim=1)  # factor out half the channels
        z2, ld2 = self._run(self.scale2, squeeze(h))
        return [z1, z2], ld0 + ld1 + ld2

    def inverse(self, zs: list[torch.Tensor]) -> torch.Tensor:
        """Logit-space images from the latents [z_1, z_2]."""
        z1, z2 = zs
        h = unsqueeze(self._run_inverse(self.scale2, z2))
        h = self._run_inverse(self.scale1, torch.cat([z1, h], dim=1))
        return self._run_inverse(self.scale0, unsqueeze(h))

    def log_prob(self, y: torch.Tensor) -> torch.Tensor:
        """log p(y) in nats per image [B] of dequantized images y in [0, 1)^D (eq. flow-composition)."""
        self._check(y)
        h, ld_logit = logit_transform(y, self.config.alpha)
        zs, logdet = self(h)
        return sum(standard_normal_log_prob(z) for z in zs) + logdet + ld_logit

    def sample_dequantization(self, x: torch.Tensor, generator: torch.Generator | None = None
                              ) -> tuple[torch.Tensor, torch.Tensor]:
        """y = (x + u) / 256 [B, C, H, W] for 8-bit images x, and log q(u | x) [B]: u ~ U[0, 1)^D with log q = 0
        (uniform dequantization), or u ~ q(u | x) from the flow's variational dequantizer."""
        check_uint8_images(x)
        if self.dequantizer is None:
            return dequantize(x, generator), torch.zeros(len(x), device=x.device)
        u, log_q = self.dequantizer(x, generator)
        return (x.float() + u) / 256, log_q

    def log_weight(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """log p(y) - log q(u | x) in nats [B] for one dequantization draw y = (x + u) / 256 of 8-bit images x:
        the bound on log P(x) + D log 256 of eq. flow-dequant (log q = 0) or eq. flow-vardeq, and the log of the
        importance weight p / q that eq. flow-dequant-iw averages."""
        y, log_q = self.sample_dequantization(x, generator)
        return self.log_prob(y) - log_q

    def nll_bits_per_dim(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Bits/dim [B] of 8-bit images x from one dequantization draw (:meth:`log_weight`, eq. flow-bpd)."""
        return discrete_bits_per_dim(self.log_weight(x, generator), self.num_dims)

    def encode(self, y: torch.Tensor) -> list[torch.Tensor]:
        """The latents [z_1, z_2] of images y in [0, 1)^D."""
        self._check(y)
        return self(logit_transform(y, self.config.alpha)[0])[0]

    def decode(self, zs: list[torch.Tensor]) -> torch.Tensor:
        """Images in [0, 1] from latents [z_1, z_2] (clamped: the logit's range is slightly wider)."""
        return logit_inverse(self.inverse(zs), self.config.alpha).clamp(0, 1)

    def latent_shapes(self) -> list[tuple[int, ...]]:
        c, s = self.config.image_channels, self.config.image_size
        return [(2 * c, s // 2, s // 2), (8 * c, s // 4, s // 4)]

    @torch.no_grad()
    def sample(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """n images in [0, 1] from z ~ N(0, temperature^2 I) [n, C, H, W]; temperature 0 decodes z = 0."""
        if not temperature >= 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        device = next(self.parameters()).device
        zs = [temperature * torch.randn((n, *shape), generator=generator).to(device) for shape in self.latent_shapes()]
        return self.decode(zs)


def flow_loss(model: Flow, images: torch.Tensor) -> torch.Tensor:
    """The training loss: mean bits/dim of a batch of 8-bit images, with fresh dequantization noise."""
    return model.nll_bits_per_dim(images).mean()

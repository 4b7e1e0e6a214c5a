"""Noise schedules of the forward process (chapter 4).

A schedule is the sequence beta_1, ..., beta_T of variances of the forward kernels
q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I)  (eq. ddpm-forward-step). Everything else
is derived from it and kept, in float64, in a :class:`Schedule`:

    alpha_t = 1 - beta_t,   alpha_bar_t = prod_{s <= t} alpha_s              (eq. ddpm-alpha-bar)
    SNR(t) = alpha_bar_t / (1 - alpha_bar_t)                                (eq. ddpm-snr)
    beta_tilde_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) * beta_t       (eq. ddpm-posterior-var)

Indexing: the book's t runs from 1 to T; tensors here are indexed by t - 1 (index 0 is t = 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


def linear_betas(T: int = 1000, beta_1: float = 1e-4, beta_T: float = 0.02) -> torch.Tensor:
    """beta_t rising linearly from beta_1 to beta_T (Ho et al. 2020), float64 [T]."""
    if not isinstance(T, int) or T < 1:
        raise ValueError(f"T must be an integer >= 1, got {T!r}")
    return torch.linspace(beta_1, beta_T, T, dtype=torch.float64)


def cosine_betas(T: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """The cosine schedule of Nichol & Dhariwal (2021): alpha_bar_t = f(t) / f(0) with
    f(t) = cos^2((t/T + s) / (1 + s) * pi/2), and beta_t = 1 - alpha_bar_t / alpha_bar_{t-1}, clipped at ``max_beta``."""
    if not isinstance(T, int) or T < 1:
        raise ValueError(f"T must be an integer >= 1, got {T!r}")
    steps = torch.arange(T + 1, dtype=torch.float64) / T
    f = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    return (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=max_beta)


@dataclass(frozen=True)
class Schedule:
    """A validated beta schedule and every quantity derived from it (float64 tensors of length T)."""

    betas: torch.Tensor

    def __post_init__(self):
        b = torch.as_tensor(self.betas, dtype=torch.float64)
        if b.dim() != 1 or len(b) < 1:
            raise ValueError(f"betas must be a 1-D tensor with at least one entry, got shape {list(b.shape)}")
        if not ((b > 0) & (b < 1)).all():
            raise ValueError(f"every beta_t must lie in (0, 1), got values in [{b.min().item():.3g}, {b.max().item():.3g}]")
        if not (b[1:] >= b[:-1]).all():
            i = int(torch.nonzero(b[1:] < b[:-1])[0])
            raise ValueError(f"betas must be non-decreasing in t, but beta_{i + 2} = {b[i + 1].item():.3g} < beta_{i + 1} = {b[i].item():.3g}")
        object.__setattr__(self, "betas", b)

    @property
    def T(self) -> int:
        return len(self.betas)

    @property
    def alphas(self) -> torch.Tensor:
        return 1.0 - self.betas

    @property
    def alpha_bar(self) -> torch.Tensor:
        """alpha_bar_t for t = 1..T (eq. ddpm-alpha-bar)."""
        return torch.cumprod(self.alphas, dim=0)

    @property
    def alpha_bar_prev(self) -> torch.Tensor:
        """alpha_bar_{t-1} for t = 1..T, with alpha_bar_0 = 1."""
        return torch.cat([torch.ones(1, dtype=torch.float64), self.alpha_bar[:-1]])

    @property
    def snr(self) -> torch.Tensor:
        """Signal-to-noise ratio alpha_bar_t / (1 - alpha_bar_t) of q(x_t | x_0) (eq. ddpm-snr)."""
        return self.alpha_bar / (1.0 - self.alpha_bar)

    @property
    def beta_tilde(self) -> torch.Tensor:
        """Variance of the posterior q(x_{t-1} | x_t, x_0) (eq. ddpm-posterior-var); 0 at t = 1."""
        return (1.0 - self.alpha_bar_prev) / (1.0 - self.alpha_bar) * self.betas

    def check_t(self, t: torch.Tensor | int) -> torch.Tensor:
        """Validate diffusion steps t (integers in [1, T]) and return them as a long tensor."""
        t = torch.as_tensor(t)
        if t.is_floating_point() or t.is_complex():
            raise ValueError(f"t must hold integers in [1, {self.T}], got dtype {t.dtype}")
        if t.numel() and (t.min() < 1 or t.max() > self.T):
            raise ValueError(f"t must lie in [1, {self.T}], got values in [{t.min().item()}, {t.max().item()}]")
        return t.long()

    def at(self, values: torch.Tensor, t: torch.Tensor | int, like: torch.Tensor) -> torch.Tensor:
        """values[t - 1] for a batch of steps t [B], shaped [B, 1, 1, ...] to broadcast against ``like``."""
        t = self.check_t(t)
        out = values.to(like.device)[t.to(like.device) - 1].to(like.dtype)
        return out.reshape(out.shape + (1,) * (like.dim() - out.dim()))


def linear_schedule(T: int = 1000) -> Schedule:
    """The schedule of Ho et al. (2020): beta linear from 1e-4 to 0.02 over T = 1000 steps."""
    return Schedule(linear_betas(T))


def cosine_schedule(T: int = 1000) -> Schedule:
    """The cosine schedule of Nichol & Dhariwal (2021)."""
    return Schedule(cosine_betas(T))

"""Two Monte Carlo estimators of the gradient of an expectation under a diagonal Gaussian.

For q(z) = N(z; mean, diag exp(logvar)) and any function f, both estimate the gradient of

    F(mean, logvar) = E_{z ~ q}[ f(z) ]

with respect to the parameters (mean, logvar) of q, from n independent samples:

- score function (REINFORCE; Williams 1992), eq. (vae-score-function):
      grad F = E_q[ f(z) grad log q(z) ],
      d log q / d mean = (z - mean) / sigma^2 = eps / sigma,
      d log q / d logvar = ((z - mean)^2 / sigma^2 - 1) / 2 = (eps^2 - 1) / 2;
  it needs only the values f(z).
- pathwise (reparameterization; Kingma & Welling 2014, Rezende et al. 2014), eq. (vae-pathwise):
      z = mean + sigma * eps,  eps ~ N(0, I),  grad F = E_eps[ grad_z f(z) * dz/d(mean, logvar) ],
      dz/d mean = 1,  dz/d logvar = sigma * eps / 2;
  it needs the gradient of f.

Both return one gradient estimate per sample, so that callers can measure the mean (both are
unbiased) and the variance (which is what differs). Shapes: mean, logvar [d]; samples [n, d].
"""

from __future__ import annotations

from typing import Callable

import torch

Function = Callable[[torch.Tensor], torch.Tensor]  # z [n, d] -> f(z) [n]


def _draw(mean: torch.Tensor, logvar: torch.Tensor, n: int, generator: torch.Generator | None):
    if mean.dim() != 1 or mean.shape != logvar.shape:
        raise ValueError(f"mean and logvar must be 1-D of the same shape, got {list(mean.shape)} and {list(logvar.shape)}")
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    eps = torch.randn((n, mean.shape[0]), generator=generator, dtype=mean.dtype).to(mean.device)  # [n, d]
    sigma = torch.exp(0.5 * logvar)  # [d]
    return eps, sigma


def score_function_gradients(f: Function, mean: torch.Tensor, logvar: torch.Tensor, n: int,
                             generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample score-function estimates f(z_j) grad log q(z_j) of eq. (vae-score-function).

    Returns ``(grad_mean, grad_logvar)``, each [n, d]; their means over the n rows estimate grad F.
    """
    mean, logvar = mean.detach(), logvar.detach()
    eps, sigma = _draw(mean, logvar, n, generator)
    with torch.no_grad():
        fz = f(mean + sigma * eps)  # [n]
    if fz.shape != (n,):
        raise ValueError(f"f must map [n, d] samples to [n] values, got shape {list(fz.shape)}")
    return fz[:, None] * eps / sigma, fz[:, None] * 0.5 * (eps**2 - 1)


def pathwise_gradients(f: Function, mean: torch.Tensor, logvar: torch.Tensor, n: int,
                       generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample pathwise (reparameterization) estimates of eq. (vae-pathwise).

    Returns ``(grad_mean, grad_logvar)``, each [n, d]; their means over the n rows estimate grad F.
    """
    mean, logvar = mean.detach(), logvar.detach()
    eps, sigma = _draw(mean, logvar, n, generator)
    z = (mean + sigma * eps).requires_grad_(True)  # [n, d]
    with torch.enable_grad():
        fz = f(z)
        if fz.shape != (n,):
            raise ValueError(f"f must map [n, d] samples to [n] values, got shape {list(fz.shape)}")
        (grad_z,) = torch.autograd.grad(fz.sum(), z)  # row j is grad f(z_j): the samples are independent
    return grad_z, grad_z * sigma * eps / 2

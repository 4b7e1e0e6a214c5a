"""Statistical checks used where the book compares two ways of sampling the same distribution."""

from __future__ import annotations

import math

import torch


def ks_two_sample(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov test of "a and b come from the same 1-D distribution".

    Returns the statistic sup_x |F_a(x) - F_b(x)| and its asymptotic p-value
    Q(sqrt(n_eff) * stat), with n_eff = n m / (n + m) and Q(l) = 2 sum_k (-1)^(k-1) exp(-2 k^2 l^2).
    """
    a, b = torch.sort(a.flatten().double())[0], torch.sort(b.flatten().double())[0]
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"both samples need at least 2 values, got {len(a)} and {len(b)}")
    grid = torch.cat([a, b])
    cdf_a = torch.searchsorted(a, grid, right=True).double() / len(a)
    cdf_b = torch.searchsorted(b, grid, right=True).double() / len(b)
    stat = (cdf_a - cdf_b).abs().max().item()
    lam = math.sqrt(len(a) * len(b) / (len(a) + len(b))) * stat
    if lam < 1e-3:
        return stat, 1.0
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return stat, min(max(p, 0.0), 1.0)

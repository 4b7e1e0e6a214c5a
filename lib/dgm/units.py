"""Units of likelihood: nats and bits per dimension, stated once for every chapter.

A negative log-likelihood -log p(x) in nats (natural logarithm) of a D-dimensional x becomes
bits per dimension by dividing by D ln 2 (eq. vae-bpd, stated in chapter 2; the flow and DDPM chapters reuse it):

    bits/dim = -log p(x) / (D ln 2).

For 8-bit images the likelihood must be that of the discrete pixel values (a probability mass,
as with the discretized decoders here), or of dequantized data in [0, 256)^D; only then are
numbers from different models comparable.
"""

from __future__ import annotations

import math

import torch


def bits_per_dim(nll_nats: torch.Tensor | float, num_dims: int) -> torch.Tensor | float:
    """Convert a negative log-likelihood in nats of a ``num_dims``-dimensional point to bits per dimension."""
    if not isinstance(num_dims, int) or num_dims < 1:
        raise ValueError(f"num_dims must be an integer >= 1, got {num_dims!r}")
    return nll_nats / (num_dims * math.log(2.0))

"""Normalizing flows (chapter 3), one concept per module.

- ``coupling``        affine coupling layers with checkerboard and channel masks (RealNVP)
- ``actnorm``         activation normalisation with data-dependent initialisation (Glow)
- ``invconv``         the invertible 1x1 convolution, LU-parametrised (Glow)
- ``squeeze``         (C, H, W) -> (4C, H/2, W/2) and back
- ``dequantization``  uniform dequantization of 8-bit images, the logit transform, bits/dim of discrete data
                      (one draw, or K draws importance-weighted)
- ``variational_dequantization``  a learned, image-conditioned density q(u | x) of the dequantization noise
- ``model``           the multi-scale flow for MNIST

Every layer maps ``x -> (y, logdet)`` with ``logdet`` [B] = log |det J| per example, and has an exact
``inverse(y) -> x``.
"""

from dgm.flows.actnorm import ActNorm
from dgm.flows.coupling import AffineCoupling, checkerboard_mask, channel_mask
from dgm.flows.dequantization import (dequantize, discrete_bits_per_dim, importance_weighted_bits_per_dim, logit_inverse,
                                      logit_transform)
from dgm.flows.invconv import InvertibleConv1x1
from dgm.flows.model import Flow, FlowConfig
from dgm.flows.squeeze import squeeze, unsqueeze
from dgm.flows.variational_dequantization import DequantizerConfig, VariationalDequantizer

__all__ = ["ActNorm", "AffineCoupling", "checkerboard_mask", "channel_mask", "InvertibleConv1x1", "squeeze",
           "unsqueeze", "dequantize", "logit_transform", "logit_inverse", "discrete_bits_per_dim",
           "importance_weighted_bits_per_dim", "DequantizerConfig", "VariationalDequantizer", "Flow", "FlowConfig"]

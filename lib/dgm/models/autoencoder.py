"""Chapter 1: a convolutional autoencoder for 28x28 grey-level images.

The encoder f_phi maps an image x to a code z (eq. ae-encoder), the decoder g_theta maps
the code back to an image x_hat (eq. ae-decoder), and both are trained together to
minimise the squared reconstruction error (eq. ae-loss):

    L(phi, theta) = 1/N sum_n || x_n - g_theta(f_phi(x_n)) ||^2 .

Shapes for MNIST with the default config (B = batch size):

    x [B, 1, 28, 28] -conv-> [B, 32, 14, 14] -conv-> [B, 64, 7, 7] -> flatten [B, 3136]
      -linear-> [B, hidden] -linear-> z [B, latent_dim]
    and the mirror image back to x_hat [B, 1, 28, 28] in (0, 1) (a sigmoid at the end).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dgm.data.transforms import to_unit_interval


@dataclass(frozen=True)
class AutoencoderConfig:
    """Architecture of :class:`ConvAutoencoder`."""

    latent_dim: int = 2  # size of the code z
    channels: tuple[int, int] = (32, 64)  # feature maps at 14x14 and 7x7
    hidden: int = 128  # width of the fully connected layer around the code
    image_channels: int = 1  # 1 for MNIST

    def __post_init__(self):
        if not isinstance(self.latent_dim, int) or self.latent_dim < 1:
            raise ValueError(f"latent_dim must be an integer >= 1, got {self.latent_dim!r}")
        if len(self.channels) != 2 or min(self.channels) < 1:
            raise ValueError(f"channels must be two positive integers, got {self.channels!r}")
        if self.hidden < 1 or self.image_channels < 1:
            raise ValueError(f"hidden and image_channels must be >= 1, got {self.hidden}, {self.image_channels}")


class ConvAutoencoder(nn.Module):
    """Encoder f_phi and decoder g_theta of eqs. (ae-encoder) and (ae-decoder)."""

    Config = AutoencoderConfig

    def __init__(self, config: AutoencoderConfig = AutoencoderConfig()):
        super().__init__()
        self.config = config
        c1, c2 = config.channels
        flat = c2 * 7 * 7
        self.encoder = nn.Sequential(
            nn.Conv2d(config.image_channels, c1, 4, stride=2, padding=1), nn.ReLU(),  # 28 -> 14
            nn.Conv2d(c1, c2, 4, stride=2, padding=1), nn.ReLU(),  # 14 -> 7
            nn.Flatten(),
            nn.Linear(flat, config.hidden), nn.ReLU(),
            nn.Linear(config.hidden, config.latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(config.latent_dim, config.hidden), nn.ReLU(),
            nn.Linear(config.hidden, flat), nn.ReLU(),
            nn.Unflatten(1, (c2, 7, 7)),
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.ReLU(),  # 7 -> 14
            nn.ConvTranspose2d(c1, config.image_channels, 4, stride=2, padding=1),  # 14 -> 28
            nn.Sigmoid(),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """z = f_phi(x): images [B, C, 28, 28] in [0, 1] -> codes [B, latent_dim]."""
        if x.dim() != 4 or x.shape[1:] != (self.config.image_channels, 28, 28):
            raise ValueError(f"x must have shape [B, {self.config.image_channels}, 28, 28], got {list(x.shape)}")
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """x_hat = g_theta(z): codes [B, latent_dim] -> images [B, C, 28, 28] in (0, 1)."""
        if z.dim() != 2 or z.shape[1] != self.config.latent_dim:
            raise ValueError(f"z must have shape [B, {self.config.latent_dim}], got {list(z.shape)}")
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction g_theta(f_phi(x))."""
        return self.decode(self.encode(x))


def reconstruction_error(model: ConvAutoencoder, x: torch.Tensor) -> torch.Tensor:
    """Squared error || x - g_theta(f_phi(x)) ||^2 per image (eq. ae-loss without the mean): [B]."""
    return (model(x) - x).pow(2).flatten(1).sum(1)


def autoencoder_loss(model: ConvAutoencoder, images: torch.Tensor) -> torch.Tensor:
    """The training objective of eq. (ae-loss) on a minibatch of uint8 images."""
    return reconstruction_error(model, to_unit_interval(images)).mean()

"""Chapter 2: the variational autoencoder (Kingma & Welling 2014; Rezende et al. 2014).

One stochastic layer, MLP encoder and decoder, on MNIST images flattened to D = 784:

    encoder  q_phi(z | x) = N(z; mu_phi(x), diag sigma_phi(x)^2)           eq. (vae-encoder)
    prior    p(z) = N(0, I)
    decoder  p_theta(x | z) = prod_i Bernoulli(x_i; sigmoid(l_i(z)))       eq. (vae-bernoulli)
             (binarized pixels), or a Gaussian discretized to the 256 levels of
             8-bit pixels, with a learned scale per pixel                   eq. (vae-discretized)

    ELBO(x) = E_q[log p_theta(x | z)] - KL(q_phi(z | x) || p(z))          eq. (vae-elbo-split)
    IWAE_k(x) = E[ log 1/k sum_j p_theta(x, z_j) / q_phi(z_j | x) ]        eq. (vae-iwae)

Shapes (B = batch, d = latent_dim): x [B, 1, 28, 28] -> flatten [B, 784] -> h [B, hidden]
-> mu, logvar [B, d];  z [B, d] -> decoder output [B, 784].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from dgm.data.transforms import binarize, to_symmetric
from dgm.distributions import bernoulli_log_prob, discretized_gaussian_log_prob, gaussian_log_prob, standard_normal_kl

DECODERS = ("bernoulli", "discretized_gaussian")


@dataclass(frozen=True)
class VAEConfig:
    """Architecture of :class:`VAE`."""

    latent_dim: int = 32
    hidden: int = 512  # width of the two hidden layers of the encoder and of the decoder
    decoder: str = "bernoulli"  # "bernoulli" (binarized pixels) or "discretized_gaussian" (8-bit pixels)

    def __post_init__(self):
        if not isinstance(self.latent_dim, int) or self.latent_dim < 1:
            raise ValueError(f"latent_dim must be an integer >= 1, got {self.latent_dim!r}")
        if not isinstance(self.hidden, int) or self.hidden < 1:
            raise ValueError(f"hidden must be an integer >= 1, got {self.hidden!r}")
        if self.decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, got {self.decoder!r}")


def mlp(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, n_out))


class VAE(nn.Module):
    """Encoder q_phi(z|x), decoder p_theta(x|z) and prior p(z) = N(0, I) of eqs. (vae-encoder)-(vae-discretized)."""

    Config = VAEConfig
    D = 784

    def __init__(self, config: VAEConfig = VAEConfig()):
        super().__init__()
        self.config = config
        self.encoder = mlp(self.D, config.hidden, 2 * config.latent_dim)  # -> [mu, logvar]
        self.decoder = mlp(config.latent_dim, config.hidden, self.D)  # -> logits, or means in [-1, 1] space
        if config.decoder == "discretized_gaussian":
            self.log_scale = nn.Parameter(torch.full((self.D,), -2.0))  # one learned scale per pixel

    def _check_x(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1:] != (1, 28, 28):
            raise ValueError(f"x must have shape [B, 1, 28, 28], got {list(x.shape)}")
        return x.flatten(1)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """mu_phi(x), log sigma_phi(x)^2 of eq. (vae-encoder): x [B, 1, 28, 28] -> two [B, d] tensors.

        x is what the decoder models: binary pixels for the Bernoulli decoder, 8-bit values scaled to [-1, 1]
        for the discretized one.
        """
        mu, logvar = self.encoder(self._check_x(x)).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder network: z [B, d] -> [B, 784] (Bernoulli logits, or Gaussian means)."""
        if z.dim() != 2 or z.shape[1] != self.config.latent_dim:
            raise ValueError(f"z must have shape [B, {self.config.latent_dim}], got {list(z.shape)}")
        return self.decoder(z)

    def mean_image(self, z: torch.Tensor) -> torch.Tensor:
        """E[x | z] as an image in [0, 1]: [B, d] -> [B, 1, 28, 28] (what the figures show)."""
        out = self.decode(z)
        mean = torch.sigmoid(out) if self.config.decoder == "bernoulli" else (out.clamp(-1, 1) + 1) / 2
        return mean.view(-1, 1, 28, 28)

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p_theta(x | z), summed over the 784 pixels: x [B, 1, 28, 28], z [B, d] -> [B]."""
        out = self.decode(z)
        x = self._check_x(x)
        if self.config.decoder == "bernoulli":
            return bernoulli_log_prob(x, out).sum(1)
        return discretized_gaussian_log_prob(x, out, self.log_scale).sum(1)

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """z = mu + sigma * eps with eps ~ N(0, I): a sample of q_phi(z|x) differentiable in mu, sigma (eq. vae-reparam)."""
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + torch.exp(0.5 * logvar) * eps

    def elbo(self, x: torch.Tensor, beta: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One-sample estimate of the ELBO of eq. (vae-elbo-split), per example.

        Returns ``(elbo, reconstruction, kl)``, each [B]: reconstruction = log p_theta(x | z) with one
        reparameterized z ~ q_phi(z|x), kl = KL(q_phi(z|x) || p(z)) in closed form (eq. vae-kl-standard),
        elbo = reconstruction - beta * kl (beta = 1 is the ELBO; other values give the beta-VAE objective).
        """
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        reconstruction = self.log_likelihood(x, z)
        kl = standard_normal_kl(mu, logvar).sum(1)
        return reconstruction - beta * kl, reconstruction, kl

    @torch.no_grad()
    def iwae(self, x: torch.Tensor, k: int, chunk: int = 250, generator: torch.Generator | None = None) -> torch.Tensor:
        """The importance-weighted bound IWAE_k(x) of eq. (vae-iwae), per example: [B].

        log 1/k sum_j w_j with w_j = p_theta(x | z_j) p(z_j) / q_phi(z_j | x) and z_j ~ q_phi(z | x), computed
        with a log-sum-exp over ``chunk`` samples at a time (memory grows with B * chunk, not B * k).
        IWAE_1 is an unbiased estimate of the ELBO; IWAE_k increases with k towards log p(x) (Burda et al. 2016).
        """
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be an integer >= 1, got {k!r}")
        mu, logvar = self.encode(x)  # [B, d]
        B = x.shape[0]
        log_w = []
        for start in range(0, k, chunk):
            n = min(chunk, k - start)
            mu_n, logvar_n = mu.repeat(n, 1), logvar.repeat(n, 1)  # [n*B, d], sample-major
            z = self.reparameterize(mu_n, logvar_n, generator)
            log_p_x_given_z = self.log_likelihood(x.repeat(n, 1, 1, 1), z)
            log_p_z = gaussian_log_prob(z, torch.zeros(()), torch.zeros(())).sum(1)
            log_q_z = gaussian_log_prob(z, mu_n, logvar_n).sum(1)
            log_w.append((log_p_x_given_z + log_p_z - log_q_z).view(n, B))
        return torch.logsumexp(torch.cat(log_w), dim=0) - math.log(k)


def prepare(model: VAE, images: torch.Tensor) -> torch.Tensor:
    """uint8 images -> what the decoder models: a fresh binarization (Bernoulli) or [-1, 1] values (8-bit)."""
    return binarize(images) if model.config.decoder == "bernoulli" else to_symmetric(images)


def vae_loss(model: VAE, images: torch.Tensor, beta: float = 1.0):
    """Training objective: the negative ELBO per example, averaged over a minibatch of uint8 images.

    Bernoulli decoder: dynamic binarization, a fresh binary image sampled from the grey levels at every step.
    """
    elbo, reconstruction, kl = model.elbo(prepare(model, images), beta)
    return -elbo.mean(), {"reconstruction": reconstruction.mean().detach(), "kl": kl.mean().detach()}


def active_units(mu: torch.Tensor, threshold: float = 0.01) -> tuple[int, torch.Tensor]:
    """Count the latent units in use (Burda et al. 2016): unit u is active when Var_x(E_q[z_u | x]) > threshold.

    ``mu`` [N, d] holds the encoder means mu_phi(x) of N images. A unit whose mean does not move with
    x has a posterior equal to the prior for every image: it carries no information (posterior collapse).
    Returns ``(count, variances [d])``.
    """
    if mu.dim() != 2 or mu.shape[0] < 2:
        raise ValueError(f"mu must have shape [N, d] with N >= 2, got {list(mu.shape)}")
    variances = mu.var(dim=0)
    return int((variances > threshold).sum()), variances

"""Recipes: how each model of the book is trained, with its budget for every profile.

A recipe is the single place where a model's training settings live. The scripts in
``scripts/`` that produce the committed checkpoints and the notebooks' "train from
scratch" cells both call these functions, so the two cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path

from dgm.data import load_mnist
from dgm.models.autoencoder import AutoencoderConfig, ConvAutoencoder, autoencoder_loss
from dgm.profiles import Profile
from dgm.runtime import seed_everything
from dgm.training import TrainSettings, train


def mnist_train_images(profile: Profile):
    """The MNIST training images (uint8 [N, 1, 28, 28]), capped by the profile."""
    images, _ = load_mnist("train")
    return images[: profile.max_train_examples]


def autoencoder_settings(profile: Profile, seed: int = 0) -> TrainSettings:
    """Chapter 1's autoencoder: Adam, batch 128; about 21 epochs of MNIST on the cpu profile."""
    return TrainSettings(
        steps=profile.pick(smoke=30, cpu=10_000, gpu=20_000),
        batch_size=profile.pick(smoke=64, cpu=128, gpu=128),
        lr=1e-3,
        seed=seed,
        log_every=profile.pick(smoke=10, cpu=100, gpu=100),
        ckpt_every=1_000,
    )


def train_autoencoder(profile: Profile, latent_dim: int, ckpt_path: str | Path | None = None, seed: int = 0, device=None):
    """Train the chapter-1 autoencoder with a code of size ``latent_dim`` on MNIST.

    Returns ``(model, history)``; resumes from ``ckpt_path`` when it exists.
    """
    seed_everything(seed)
    model = ConvAutoencoder(AutoencoderConfig(latent_dim=latent_dim))
    history = train(model, autoencoder_loss, mnist_train_images(profile), autoencoder_settings(profile, seed),
                    ckpt_path=ckpt_path, device=device)
    return model, history

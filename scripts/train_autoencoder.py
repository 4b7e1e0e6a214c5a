"""Train chapter 1's autoencoder on MNIST, export the checkpoint the book loads, and record its test error.

    python scripts/train_autoencoder.py --latent-dim 2  --profile cpu
    python scripts/train_autoencoder.py --latent-dim 32 --profile cpu

writes checkpoints/autoencoder_mnist_z{D}.pt (weights, config, training history) and
results/autoencoder_mnist_z{D}.json (test error with its provenance). The training state
is kept in runs/ so that an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import argparse

import torch

import dgm
from dgm.checkpoint import export_model
from dgm.data import load_mnist, to_unit_interval
from dgm.models.autoencoder import reconstruction_error
from dgm.paths import CHECKPOINTS_DIR, REPO_ROOT
from dgm.recipes import autoencoder_settings, train_autoencoder
from dgm.results import hardware, write_result


@torch.no_grad()
def test_error(model, images, batch_size=1000):
    """Mean squared error per image on the test set (eq. ae-loss) and per pixel."""
    errs = torch.cat([reconstruction_error(model, to_unit_interval(images[i : i + batch_size]))
                      for i in range(0, len(images), batch_size)])
    return errs.mean().item(), errs.mean().item() / images[0].numel()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latent-dim", type=int, required=True)
    parser.add_argument("--profile", default=None, help="smoke, cpu or gpu (default: $DGM_PROFILE or by hardware)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    profile = dgm.get_profile(args.profile)
    name = f"autoencoder_mnist_z{args.latent_dim}"
    model, history = train_autoencoder(profile, args.latent_dim, REPO_ROOT / "runs" / f"{name}.pt", seed=args.seed)
    model.cpu()
    test_images, _ = load_mnist("test")
    test_images = test_images[: profile.max_eval_examples]
    per_image, per_pixel = test_error(model, test_images)
    settings = autoencoder_settings(profile, args.seed)
    export_model(model, CHECKPOINTS_DIR / f"{name}.pt", history=history, profile=profile.name,
                 settings=vars(args) | {"steps": settings.steps, "batch_size": settings.batch_size}, hardware=hardware())
    path = write_result(name, {
        "test_squared_error_per_image": per_image,
        "test_squared_error_per_pixel": per_pixel,
        "test_images": len(test_images),
        "train_steps": settings.steps,
        "batch_size": settings.batch_size,
        "train_seconds": history["seconds"][-1],
        "parameters": sum(p.numel() for p in model.parameters()),
    }, profile=profile.name)
    print(f"test squared error per image {per_image:.3f} ({per_pixel:.5f} per pixel); wrote {path}")


if __name__ == "__main__":
    main()

"""Train one of chapter 2's VAEs on MNIST and export the checkpoint the book loads.

    python scripts/train_vae.py --run vae_mnist_bernoulli_z32 --profile cpu
    python scripts/train_vae.py --all --profile cpu          # every run of dgm.recipes.VAE_RUNS

writes checkpoints/<run>.pt (weights, config, training history, settings, hardware). The training
state is kept in runs/ so that an interrupted run resumes. Evaluate with scripts/evaluate_vae.py.
"""

from __future__ import annotations

import argparse

import torch

import dgm
from dgm.checkpoint import export_model
from dgm.paths import CHECKPOINTS_DIR, REPO_ROOT
from dgm.recipes import VAE_RUNS, train_vae
from dgm.results import hardware


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--run", choices=sorted(VAE_RUNS))
    group.add_argument("--all", action="store_true")
    parser.add_argument("--profile", default=None, help="smoke, cpu or gpu (default: $DGM_PROFILE or by hardware)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    profile = dgm.get_profile(args.profile)
    for name in sorted(VAE_RUNS) if args.all else [args.run]:
        run = VAE_RUNS[name]
        model, history = train_vae(profile, name, REPO_ROOT / "runs" / f"{name}.pt", seed=args.seed)
        settings = run.settings(profile, args.seed)
        # the small beta-study models are stored in float16 to keep the repository small
        dtype = torch.float16 if run.config.hidden < 400 else torch.float32
        path = export_model(model.cpu(), CHECKPOINTS_DIR / f"{name}.pt", dtype=dtype, history=history, profile=profile.name,
                            settings={"steps": settings.steps, "batch_size": settings.batch_size, "lr": settings.lr,
                                      "beta": run.beta, "seed": args.seed},
                            hardware=hardware())
        print(f"{name}: {settings.steps} steps in {history['seconds'][-1] / 60:.1f} min, "
              f"last mean loss {history['loss'][-1]:.2f}; wrote {path}")


if __name__ == "__main__":
    main()

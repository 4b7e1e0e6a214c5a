"""Train chapter 3's normalizing flow and export it with samples at several temperatures.

    python scripts/train_flow.py --run flow_mnist --profile cpu
    python scripts/train_flow.py --run flow_mnist_continued --profile cpu --seed 1   # from flow_mnist's weights

Training state is kept in runs/<run>.pt, so an interrupted run resumes; the trained weights, the training
history and 64 samples for each temperature (same latent noise for all) go to checkpoints/<run>.pt.
Evaluate the exact test-set bits/dim with scripts/evaluate_flow.py.
"""

from __future__ import annotations

import argparse

import torch

import dgm
from dgm.checkpoint import export_model
from dgm.paths import CHECKPOINTS_DIR, REPO_ROOT
from dgm.recipes import FLOW_RUNS, train_flow
from dgm.results import hardware

TEMPERATURES = (0.0, 0.5, 0.7, 0.85, 1.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", choices=sorted(FLOW_RUNS), default="flow_mnist")
    parser.add_argument("--profile", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    profile = dgm.get_profile(args.profile)
    model, history = train_flow(profile, args.run, REPO_ROOT / "runs" / f"{args.run}.pt", seed=args.seed)
    model = model.cpu().eval()
    samples = {str(t): model.sample(64, t, generator=torch.Generator().manual_seed(args.seed)) for t in TEMPERATURES}
    settings = FLOW_RUNS[args.run].settings(profile, args.seed)
    path = export_model(model, CHECKPOINTS_DIR / f"{args.run}.pt", history=history, profile=profile.name,
                        settings={"steps": settings.steps, "batch_size": settings.batch_size, "lr": settings.lr,
                                  "lr_cooldown": settings.lr_cooldown, "lr_warmup": settings.lr_warmup,
                                  "init_from": FLOW_RUNS[args.run].init_from, "seed": args.seed}, hardware=hardware(), samples=samples)
    print(f"{args.run}: {settings.steps} steps in {history['seconds'][-1] / 60:.1f} min, final training loss "
          f"{history['loss'][-1]:.3f} bits/dim; wrote {path}")


if __name__ == "__main__":
    main()

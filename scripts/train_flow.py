"""Train chapter 3's normalizing flow and export it with samples at several temperatures.

    python scripts/train_flow.py --run flow_mnist --profile cpu
    python scripts/train_flow.py --run flow_mnist_continued --profile cpu --seed 1   # from flow_mnist's weights
    python scripts/train_flow.py --run flow_mnist_vardeq --profile cpu --seed 2      # adds a variational dequantizer

Training state is kept in runs/<run>.pt, so an interrupted run resumes; the trained weights, the training
history and 64 samples for each temperature (same latent noise for all) go to checkpoints/<run>.pt
(dgm.recipes.export_flow). Evaluate the exact test-set bits/dim with scripts/evaluate_flow.py.
"""

from __future__ import annotations

import argparse

import dgm
from dgm.paths import REPO_ROOT
from dgm.recipes import FLOW_RUNS, export_flow, train_flow


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", choices=sorted(FLOW_RUNS), default="flow_mnist")
    parser.add_argument("--profile", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    profile = dgm.get_profile(args.profile)
    model, history = train_flow(profile, args.run, REPO_ROOT / "runs" / f"{args.run}.pt", seed=args.seed)
    path = export_flow(model, history, profile, args.run, seed=args.seed)
    print(f"{args.run}: {history['step'][-1]} steps in {history['seconds'][-1] / 60:.1f} min, final training loss "
          f"{history['loss'][-1]:.3f} bits/dim; wrote {path}")


if __name__ == "__main__":
    main()

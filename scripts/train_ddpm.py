"""Train chapter 5's brief DDPMs (one per parametrization, same budget), export their checkpoints,
and measure what the chapter reports: the variational bound on test images and a sample grid.

    python scripts/train_ddpm.py --all --profile cpu [--eval-images 50]     # chapter 5's three brief runs
    python scripts/train_ddpm.py --run ddpm_mnist --profile gpu              # one run of dgm.recipes.DDPM_RUNS

writes checkpoints/<run>.pt (weights, training history, a sample grid, the mean of every term of the bound)
and results/ddpm_brief_comparison.json (for each parametrization: the bound in bits/dim on the first
``--eval-images`` test images with every one of the T + 1 terms evaluated, its terms summed over ranges of t,
training time). With ``--run`` it trains that one run and exports its checkpoint (the EMA weights when the
run keeps an EMA) with 16 samples. Training state is kept in runs/, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse

import torch

import dgm
from dgm.checkpoint import export_model
from dgm.data import load_mnist, to_symmetric
from dgm.diffusion import bound_terms, linear_schedule, to_bits_per_dim
from dgm.diffusion.bound import terms_by_range
from dgm.diffusion.sampling import ancestral_sample
from dgm.paths import CHECKPOINTS_DIR, REPO_ROOT
from dgm.recipes import DDPM_RUNS, train_ddpm
from dgm.results import hardware, write_result




BRIEF_RUNS = sorted(name for name in DDPM_RUNS if name.startswith("ddpm_mnist_brief_"))


def train_one(name: str, profile, schedule, args) -> None:
    """Train one run, export its sampling weights (the EMA if kept) with a sample grid."""
    run = DDPM_RUNS[name]
    model, history, ema_model = train_ddpm(profile, name, REPO_ROOT / "runs" / f"{name}.pt", seed=args.seed)
    sampler = (ema_model if ema_model is not None else model).cpu().eval()
    samples = ancestral_sample(schedule, sampler, (args.samples, 1, 28, 28), run.parametrization,
                               generator=torch.Generator().manual_seed(args.seed), device="cpu")
    settings = run.settings(profile, args.seed)
    path = export_model(sampler, CHECKPOINTS_DIR / f"{name}.pt", history=history, profile=profile.name,
                        settings={"steps": settings.steps, "batch_size": settings.batch_size, "lr": settings.lr,
                                  "parametrization": run.parametrization, "ema_decay": run.ema_decay, "seed": args.seed},
                        hardware=hardware(), samples=samples, weights="ema" if ema_model is not None else "trained")
    print(f"{name}: {settings.steps} steps in {history['seconds'][-1] / 60:.1f} min; wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--all", action="store_true", help="the three brief runs of chapter 5 and their comparison")
    group.add_argument("--run", choices=sorted(DDPM_RUNS))
    parser.add_argument("--profile", default=None)
    parser.add_argument("--eval-images", type=int, default=50, help="test images for the bound")
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    profile = dgm.get_profile(args.profile)
    schedule = linear_schedule()
    if args.run:
        return train_one(args.run, profile, schedule, args)
    test, _ = load_mnist("test")
    x0 = to_symmetric(test[: args.eval_images])
    metrics = {"eval_images": len(x0), "T": schedule.T, "variance": "beta"}
    for name in BRIEF_RUNS:
        run = DDPM_RUNS[name]
        model, history, _ = train_ddpm(profile, name, REPO_ROOT / "runs" / f"{name}.pt", seed=args.seed)
        model = model.cpu().eval()
        settings = run.settings(profile, args.seed)
        terms, prior = bound_terms(schedule, model, x0, generator=torch.Generator().manual_seed(args.seed), progress=True,
                                   parametrization=run.parametrization)
        samples = ancestral_sample(schedule, model, (args.samples, 1, 28, 28), run.parametrization,
                                   generator=torch.Generator().manual_seed(args.seed), device="cpu")
        export_model(model, CHECKPOINTS_DIR / f"{name}.pt", history=history, profile=profile.name,
                     settings={"steps": settings.steps, "batch_size": settings.batch_size, "lr": settings.lr,
                               "parametrization": run.parametrization, "seed": args.seed},
                     hardware=hardware(), samples=samples, bound_terms_nats=terms.mean(0), bound_prior_nats=prior.mean())
        bpd = to_bits_per_dim(terms.sum(1) + prior, x0)
        metrics[run.parametrization] = {
            "bound_bits_per_dim": bpd.mean().item(),
            "bound_bits_per_dim_standard_error": (bpd.std() / len(bpd) ** 0.5).item(),
            "terms_by_range_bits_per_dim": terms_by_range(terms, prior, x0),
            "train_steps": settings.steps,
            "batch_size": settings.batch_size,
            "train_seconds": history["seconds"][-1],
            "final_train_loss": history["loss"][-1],
        }
        print(f"{name}: bound {bpd.mean():.3f} bits/dim on {len(x0)} test images")
    print("wrote", write_result("ddpm_brief_comparison", metrics, profile=profile.name))


if __name__ == "__main__":
    main()

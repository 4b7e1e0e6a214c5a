"""Evaluate chapter 6's trained DDPM on its test set: the variational bound in bits/dim, term by term.

    python scripts/evaluate_ddpm.py --run ddpm_mnist --test-images 100                 # every term
    python scripts/evaluate_ddpm.py --run ddpm_mnist --test-images 10000 --strata 32   # all test images

Loads checkpoints/<run>.pt (the exported EMA weights). Without ``--strata`` it evaluates, on the first
``--test-images`` test images, every one of the T + 1 terms of the bound (eq. ddpm-bound-split; chapter 5's
dgm.diffusion.bound_terms, one draw of x_t per image and step, sigma_t^2 = beta_t) and writes
results/<run>.json with the mean and its standard error over images, the terms summed over ranges of t,
and the mean of each term (for the chapter's curve). With ``--strata K`` it estimates each image's bound
from L_T, L_0 and one term drawn from each of K ranges of t (dgm.diffusion.sampled_bound, eq.
ddpm-bound-strata; unbiased, K + 1 network calls per image instead of T + 1) and writes
results/<run>_stratified.json. The bound is an upper bound on -log p(x_0) of the 8-bit images (L_0 is a
discretized decoder), so it is in the same unit as the VAE's and the flow's test numbers.
"""

from __future__ import annotations

import argparse
import time

import torch
from tqdm.auto import tqdm

import dgm
from dgm.checkpoint import load_checkpoint, load_model
from dgm.data import to_symmetric
from dgm.diffusion import bound_terms, linear_schedule, sampled_bound, timestep_strata, to_bits_per_dim
from dgm.diffusion.bound import terms_by_range
from dgm.paths import CHECKPOINTS_DIR
from dgm.recipes import DATASETS, DDPM_RUNS
from dgm.results import training_facts, write_result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", choices=sorted(DDPM_RUNS), default="ddpm_mnist")
    parser.add_argument("--test-images", type=int, default=200)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--strata", type=int, default=None,
                        help="estimate each image's bound from one term per range of t (default: every term)")
    args = parser.parse_args()
    if args.test_images < 2:
        parser.error(f"--test-images must be >= 2 (for a standard error), got {args.test_images}")
    dgm.seed_everything(args.seed)
    run = DDPM_RUNS[args.run]
    path = CHECKPOINTS_DIR / f"{args.run}.pt"
    model, record = load_model(path).eval(), load_checkpoint(path)
    images, _ = DATASETS[run.dataset]("test")
    x0 = to_symmetric(images[: args.test_images])
    schedule = linear_schedule()
    generator = torch.Generator().manual_seed(args.seed)
    if args.strata is not None:
        if not 1 <= args.strata <= schedule.T - 1:
            parser.error(f"--strata must lie in [1, {schedule.T - 1}], got {args.strata}")
        return evaluate_stratified(args, run, model, record, x0, schedule, generator)
    t0 = time.perf_counter()
    terms, priors = [], []
    for i in range(0, len(x0), args.batch):
        t, p = bound_terms(schedule, model, x0[i : i + args.batch], generator=generator, progress=True,
                           parametrization=run.parametrization)
        terms.append(t)
        priors.append(p)
    terms, prior = torch.cat(terms), torch.cat(priors)  # [N, T] and [N], nats
    seconds = time.perf_counter() - t0
    bound = to_bits_per_dim(terms.sum(1) + prior, x0)  # [N]
    metrics = {
        "test_images": len(x0),
        "T": schedule.T,
        "variance": "beta",
        "bound_bits_per_dim": {"mean": bound.mean().item(), "sem": (bound.std() / len(bound) ** 0.5).item()},
        "bound_nats": (terms.sum(1) + prior).mean().item(),
        "terms_by_range_bits_per_dim": terms_by_range(terms, prior, x0),
        "term_means_bits_per_dim": to_bits_per_dim(terms, x0).mean(0).tolist(),
        "weights": record.get("weights"),
        **training_facts(record, model),
        "eval_seconds": seconds,
    }
    out = write_result(args.run, metrics, profile=record["profile"])
    print(f"{args.run}: bound {bound.mean():.4f} ± {metrics['bound_bits_per_dim']['sem']:.4f} bits/dim on {len(x0)} "
          f"test images ({seconds:.0f} s); wrote {out}")


def evaluate_stratified(args, run, model, record, x0, schedule, generator) -> None:
    t0 = time.perf_counter()
    nats = []
    for i in tqdm(range(0, len(x0), args.batch), desc="stratified bound"):
        nats.append(sampled_bound(schedule, model, x0[i : i + args.batch], args.strata, generator=generator,
                                  parametrization=run.parametrization))
    seconds = time.perf_counter() - t0
    bound = to_bits_per_dim(torch.cat(nats), x0)  # [N]
    first = bound[:100]
    metrics = {
        "test_images": len(x0),
        "T": schedule.T,
        "variance": "beta",
        "strata": [list(r) for r in timestep_strata(schedule.T, args.strata)],
        "network_calls_per_image": args.strata + 1,
        "bound_bits_per_dim": {"mean": bound.mean().item(), "sem": (bound.std() / len(bound) ** 0.5).item()},
        "first_100_bound_bits_per_dim": {"mean": first.mean().item(), "sem": (first.std() / len(first) ** 0.5).item()},
        "weights": record.get("weights"),
        **training_facts(record, model),
        "eval_seconds": seconds,
    }
    out = write_result(f"{args.run}_stratified", metrics, profile=record["profile"])
    print(f"{args.run}: stratified bound {bound.mean():.4f} ± {metrics['bound_bits_per_dim']['sem']:.4f} bits/dim on "
          f"{len(x0)} test images ({args.strata} strata, {seconds:.0f} s); wrote {out}")


if __name__ == "__main__":
    main()

"""Evaluate chapter 2's trained VAEs on the MNIST test set and record the numbers the book shows.

    python scripts/evaluate_vae.py --run vae_mnist_bernoulli_z32 --test-images 10000 --k 1 10 100 1000
    python scripts/evaluate_vae.py --run vae_mnist_8bit_z32 --test-images 10000 --k 1 10 100 1000
    python scripts/evaluate_vae.py --beta-study --test-images 10000

For one model (``--run``) it measures, on the first ``--test-images`` test images, the ELBO
(eq. vae-elbo-split; reconstruction averaged over ``--elbo-samples`` draws, KL in closed form), and
the importance-weighted bound IWAE_k (eq. vae-iwae) for every k given; -IWAE_kmax is the reported
test NLL. The Bernoulli models see the test set binarized once with a fixed seed (``--binarize-seed``).
Nats and bits/dim are both recorded. ``--beta-study`` records, for each beta run, the ELBO, its two
terms and the number of active latent units (Burda et al. 2016). Writes results/<run>.json.
"""

from __future__ import annotations

import argparse
import time

import torch

import dgm
from dgm.checkpoint import load_checkpoint, load_model
from dgm.data import load_mnist
from dgm.data.transforms import binarize, to_symmetric
from dgm.models.vae import VAE, active_units
from dgm.paths import CHECKPOINTS_DIR
from dgm.results import training_facts, write_result
from dgm.units import bits_per_dim

BETA_RUNS = ("vae_mnist_bernoulli_z32_beta0.25", "vae_mnist_bernoulli_z32_beta1", "vae_mnist_bernoulli_z32_beta16")


def test_data(model: VAE, n: int, binarize_seed: int) -> torch.Tensor:
    """The first n test images as the decoder models them (fixed binarization, or [-1, 1] values)."""
    images, _ = load_mnist("test")
    images = images[:n]
    if model.config.decoder == "bernoulli":
        return binarize(images, generator=torch.Generator().manual_seed(binarize_seed))
    return to_symmetric(images)


@torch.no_grad()
def elbo_terms(model: VAE, x: torch.Tensor, samples: int, batch: int = 500) -> dict[str, torch.Tensor]:
    """Per-image ELBO, reconstruction and KL (reconstruction averaged over ``samples`` draws of z): [N] each."""
    out = {"elbo": [], "reconstruction": [], "kl": []}
    for i in range(0, len(x), batch):
        xb = x[i : i + batch]
        draws = [model.elbo(xb) for _ in range(samples)]
        rec = torch.stack([d[1] for d in draws]).mean(0)
        kl = draws[0][2]
        out["elbo"].append(rec - kl)
        out["reconstruction"].append(rec)
        out["kl"].append(kl)
    return {k: torch.cat(v) for k, v in out.items()}


@torch.no_grad()
def iwae_bounds(model: VAE, x: torch.Tensor, ks: list[int], batch: int) -> dict[int, torch.Tensor]:
    """Per-image IWAE_k for every k in ``ks``: {k: [N]}."""
    return {k: torch.cat([model.iwae(x[i : i + batch], k) for i in range(0, len(x), batch)]) for k in ks}


def stats(values: torch.Tensor) -> dict[str, float]:
    """Mean and standard error of the mean over images."""
    return {"mean": values.mean().item(), "sem": (values.std() / len(values) ** 0.5).item()}


def evaluate_run(name: str, args) -> None:
    dgm.seed_everything(args.seed)
    path = CHECKPOINTS_DIR / f"{name}.pt"
    model, record = load_model(path), load_checkpoint(path)
    x = test_data(model, args.test_images, args.binarize_seed)
    D = x[0].numel()
    t0 = time.perf_counter()
    terms = elbo_terms(model, x, args.elbo_samples)
    iwae = iwae_bounds(model, x, sorted(args.k), args.batch)
    seconds = time.perf_counter() - t0
    k_max = max(args.k)
    nll = -iwae[k_max]
    metrics = {
        "test_images": len(x),
        "k": sorted(args.k),
        "k_for_nll": k_max,
        "test_nll_nats": stats(nll),
        "test_nll_bits_per_dim": bits_per_dim(nll.mean().item(), D),
        "test_elbo_nats": stats(terms["elbo"]),
        "test_reconstruction_nats": stats(terms["reconstruction"]),
        "test_kl_nats": stats(terms["kl"]),
        "elbo_samples_per_image": args.elbo_samples,
        "elbo_gap_nats": stats(iwae[k_max] - terms["elbo"]),
        "iwae_nats": {str(k): stats(v) for k, v in iwae.items()},
        "iwae_bits_per_dim": {str(k): bits_per_dim(v.mean().item(), D) for k, v in iwae.items()},
        "binarize_seed": args.binarize_seed if model.config.decoder == "bernoulli" else None,
        "decoder": model.config.decoder,
        **training_facts(record, model),
        "eval_seconds": seconds,
    }
    out = write_result(name, metrics, profile=record["profile"])
    print(f"{name}: test NLL (IWAE k={k_max}, {len(x)} images) {nll.mean():.2f} nats "
          f"= {metrics['test_nll_bits_per_dim']:.4f} bits/dim; ELBO {terms['elbo'].mean():.2f}; "
          f"IWAE by k {', '.join(f'{k}: {v.mean():.2f}' for k, v in iwae.items())}; {seconds:.0f} s; wrote {out}")


def evaluate_beta_study(args) -> None:
    dgm.seed_everything(args.seed)
    rows = {}
    for name in BETA_RUNS:
        path = CHECKPOINTS_DIR / f"{name}.pt"
        model, record = load_model(path), load_checkpoint(path)
        x = test_data(model, args.test_images, args.binarize_seed)
        terms = elbo_terms(model, x, args.elbo_samples)
        with torch.no_grad():
            mu = torch.cat([model.encode(x[i : i + 1000])[0] for i in range(0, len(x), 1000)])
        active, variances = active_units(mu)
        rows[name] = {
            "beta": record["settings"]["beta"],
            "train_steps": record["settings"]["steps"],
            "test_elbo_nats": stats(terms["elbo"]),
            "test_reconstruction_nats": stats(terms["reconstruction"]),
            "test_kl_nats": stats(terms["kl"]),
            "active_units": active,
            "latent_dim": model.config.latent_dim,
            "activity": variances.tolist(),
        }
        print(f"{name}: ELBO {terms['elbo'].mean():.2f}, reconstruction {terms['reconstruction'].mean():.2f}, "
              f"KL {terms['kl'].mean():.2f}, active units {active}/{model.config.latent_dim}")
    out = write_result("vae_mnist_beta_study", {"test_images": args.test_images, "binarize_seed": args.binarize_seed,
                                                 "elbo_samples_per_image": args.elbo_samples, "runs": rows},
                       profile=record["profile"])
    print(f"wrote {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--run", help="a checkpoint name in checkpoints/, e.g. vae_mnist_bernoulli_z32")
    group.add_argument("--beta-study", action="store_true")
    parser.add_argument("--test-images", type=int, default=10_000)
    parser.add_argument("--k", type=int, nargs="+", default=[1, 10, 100, 1000])
    parser.add_argument("--elbo-samples", type=int, default=10)
    parser.add_argument("--batch", type=int, default=20, help="test images per IWAE call")
    parser.add_argument("--binarize-seed", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    # Far-tail bin masses of the discretized decoder underflow to denormal floats, which are ~10x slower on
    # CPUs; they lie far below the 1e-12 floor of eq. (vae-discretized)'s log anyway, so flush them to zero.
    torch.set_flush_denormal(True)
    if min(args.k) < 1 or not 1 <= args.test_images <= 10_000:
        parser.error("k must be >= 1 and --test-images in 1..10000")
    if args.beta_study:
        evaluate_beta_study(args)
    else:
        evaluate_run(args.run, args)


if __name__ == "__main__":
    main()

"""Evaluate chapter 3's trained flow on the MNIST test set: exact bits/dim of the dequantized test images.

    python scripts/evaluate_flow.py --run flow_mnist_continued --test-images 10000 --draws 8

For each of the first ``--test-images`` test images, ``--draws`` dequantization draws u give
-log p((x + u) / 256) + log q(u | x) + D log 256, converted to bits/dim (eq. flow-bpd): uniform draws with
log q = 0 (eq. flow-dequant), or draws from the flow's variational dequantizer (eq. flow-vardeq). Each draw is
an upper bound on -log2 P(x) / D of the discrete image; their mean is reported with its standard error over
images. The same K = ``--draws`` weights p / q also give the tighter importance-weighted bound of eq.
flow-dequant-iw, reported beside it. Writes results/<run>.json; for a run that started from another run's
weights (``FlowRun.init_from``), the training facts of that run too, and of the run that one started from.
"""

from __future__ import annotations

import argparse
import time

import torch

import dgm
from dgm.checkpoint import load_checkpoint, load_model
from dgm.flows import discrete_bits_per_dim, importance_weighted_bits_per_dim
from dgm.paths import CHECKPOINTS_DIR
from dgm.recipes import DATASETS, FLOW_RUNS
from dgm.results import training_facts, write_result


@torch.no_grad()
def test_log_weights(model, images: torch.Tensor, draws: int, batch: int, seed: int) -> torch.Tensor:
    """log p(y_k) - log q(u_k | x) in nats (Flow.log_weight) for ``draws`` dequantizations of each image: [draws, N]."""
    generator = torch.Generator().manual_seed(seed)
    return torch.stack([torch.cat([model.log_weight(images[i : i + batch], generator).double()
                                   for i in range(0, len(images), batch)]) for _ in range(draws)])


def warm_start_facts(run: str) -> dict | None:
    """The training facts of the run whose weights ``run`` started from, nesting that run's own start."""
    first = FLOW_RUNS[run].init_from
    if first is None:
        return None
    facts = {"run": first, **training_facts(load_checkpoint(CHECKPOINTS_DIR / f"{first}.pt"))}
    earlier = warm_start_facts(first)
    return facts if earlier is None else {**facts, "warm_start": earlier}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", choices=sorted(FLOW_RUNS), default="flow_mnist")
    parser.add_argument("--test-images", type=int, default=10_000)
    parser.add_argument("--draws", type=int, default=8)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.test_images < 2 or args.draws < 1:
        parser.error("--test-images must be >= 2 and --draws >= 1")
    dgm.seed_everything(args.seed)
    path = CHECKPOINTS_DIR / f"{args.run}.pt"
    model, record = load_model(path).eval(), load_checkpoint(path)
    images, _ = DATASETS[FLOW_RUNS[args.run].dataset]("test")
    images = images[: args.test_images]
    t0 = time.perf_counter()
    log_w = test_log_weights(model, images, args.draws, args.batch, args.seed)  # [K, N]
    seconds = time.perf_counter() - t0
    bpd = discrete_bits_per_dim(log_w, model.num_dims).mean(0)  # eq. flow-dequant or flow-vardeq, mean of the draws: [N]
    iw = importance_weighted_bits_per_dim(log_w, model.num_dims)  # eq. flow-dequant-iw: [N]
    metrics = {
        "test_images": len(images),
        "dequantization_draws": args.draws,
        "test_bits_per_dim": {"mean": bpd.mean().item(), "sem": (bpd.std() / len(bpd) ** 0.5).item()},
        "test_nll_nats": (bpd.mean() * model.num_dims * torch.log(torch.tensor(2.0, dtype=torch.float64))).item(),
        "test_bits_per_dim_importance_weighted": {"draws": args.draws, "mean": iw.mean().item(),
                                                  "sem": (iw.std() / len(iw) ** 0.5).item()},
        "final_train_loss_bits_per_dim": record["history"]["loss"][-1],
        **training_facts(record, model),
        "eval_seconds": seconds,
    }
    start = warm_start_facts(args.run)
    if start is not None:  # a warm restart: the runs whose weights it started from are part of its training
        metrics["warm_start"] = start
    out = write_result(args.run, metrics, profile=record["profile"])
    print(f"{args.run}: {bpd.mean():.4f} ± {metrics['test_bits_per_dim']['sem']:.4f} bits/dim on {len(images)} test "
          f"images ({args.draws} {'uniform' if model.dequantizer is None else 'variational'} dequantization draws, {seconds:.0f} s); importance-weighted over the {args.draws} draws: "
          f"{iw.mean():.4f} ± {metrics['test_bits_per_dim_importance_weighted']['sem']:.4f}; wrote {out}")


if __name__ == "__main__":
    main()

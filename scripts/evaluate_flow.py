"""Evaluate chapter 3's trained flow on the MNIST test set: exact bits/dim of the dequantized test images.

    python scripts/evaluate_flow.py --run flow_mnist --test-images 10000 --draws 4

For each of the first ``--test-images`` test images, ``--draws`` uniform dequantization draws u give
-log p((x + u) / 256) + D log 256 (eq. flow-dequant), converted to bits/dim (eq. flow-bpd). Each draw is an
upper bound on -log2 P(x) / D of the discrete image; their mean is reported with its standard error over
images. Writes results/<run>.json.
"""

from __future__ import annotations

import argparse
import time

import torch

import dgm
from dgm.checkpoint import load_checkpoint, load_model
from dgm.paths import CHECKPOINTS_DIR
from dgm.recipes import DATASETS, FLOW_RUNS
from dgm.results import training_facts, write_result


@torch.no_grad()
def test_bits_per_dim(model, images: torch.Tensor, draws: int, batch: int, seed: int) -> torch.Tensor:
    """Bits/dim per image, averaged over ``draws`` dequantization draws: [N]."""
    generator = torch.Generator().manual_seed(seed)
    out = torch.zeros(len(images), dtype=torch.float64)
    for _ in range(draws):
        out += torch.cat([model.nll_bits_per_dim(images[i : i + batch], generator).double()
                          for i in range(0, len(images), batch)])
    return out / draws


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", choices=sorted(FLOW_RUNS), default="flow_mnist")
    parser.add_argument("--test-images", type=int, default=10_000)
    parser.add_argument("--draws", type=int, default=4)
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
    bpd = test_bits_per_dim(model, images, args.draws, args.batch, args.seed)
    seconds = time.perf_counter() - t0
    metrics = {
        "test_images": len(images),
        "dequantization_draws": args.draws,
        "test_bits_per_dim": {"mean": bpd.mean().item(), "sem": (bpd.std() / len(bpd) ** 0.5).item()},
        "test_nll_nats": (bpd.mean() * model.num_dims * torch.log(torch.tensor(2.0, dtype=torch.float64))).item(),
        "final_train_loss_bits_per_dim": record["history"]["loss"][-1],
        **training_facts(record, model),
        "eval_seconds": seconds,
    }
    out = write_result(args.run, metrics, profile=record["profile"])
    print(f"{args.run}: {bpd.mean():.4f} ± {metrics['test_bits_per_dim']['sem']:.4f} bits/dim on {len(images)} test "
          f"images ({args.draws} dequantization draws, {seconds:.0f} s); wrote {out}")


if __name__ == "__main__":
    main()

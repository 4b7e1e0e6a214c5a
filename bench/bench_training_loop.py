"""How much does the book's training loop cost on top of the bare optimisation it performs?

    python bench/bench_training_loop.py [--steps 200] [--batch-size 128] [--device cpu|cuda]

Trains chapter 1's autoencoder on MNIST for the same number of steps twice, side by side in one
run and alternating, (a) with a bare loop (fixed random minibatches, no logging) and (b) with
``dgm.training.train`` (seeded epoch order, progress bar off, logging, no checkpoints), and prints
steps per second for both and their ratio. A ratio near 1 means the loop's bookkeeping is free.
"""

from __future__ import annotations

import argparse
import time

import torch

import dgm
from dgm.data import load_mnist
from dgm.models.autoencoder import AutoencoderConfig, ConvAutoencoder, autoencoder_loss
from dgm.training import TrainSettings, train


def bare_loop(model, data, steps, batch_size, device):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(steps):
        batch = data[torch.randint(len(data), (batch_size,), generator=gen)].to(device)
        loss = autoencoder_loss(model, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def timed(fn) -> float:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    device = dgm.get_device(args.device)
    data, _ = load_mnist("train")
    settings = TrainSettings(steps=args.steps, batch_size=args.batch_size, log_every=50, ckpt_every=args.steps * 50)
    times = {"bare loop": [], "dgm.training.train": []}
    for _ in range(args.repeats):  # alternate, so that both see the same machine load
        dgm.seed_everything(0)
        model = ConvAutoencoder(AutoencoderConfig(latent_dim=32)).to(device)
        times["bare loop"].append(timed(lambda: bare_loop(model, data, args.steps, args.batch_size, device)))
        dgm.seed_everything(0)
        model = ConvAutoencoder(AutoencoderConfig(latent_dim=32))
        times["dgm.training.train"].append(timed(lambda: train(model, autoencoder_loss, data, settings, device=device, progress=False)))
    best = {k: min(v) for k, v in times.items()}
    print(f"device {device}, {args.steps} steps of {args.batch_size} images, best of {args.repeats}")
    for k, t in best.items():
        print(f"  {k:20s} {args.steps / t:8.1f} steps/s")
    print(f"  ratio train / bare: {best['bare loop'] / best['dgm.training.train']:.3f} (1.0 = no overhead)")


if __name__ == "__main__":
    main()

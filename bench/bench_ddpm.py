"""DDPM throughput: training images per second (Algorithm 1) and sampling time (Algorithm 2).

    python bench/bench_ddpm.py [--device cpu|cuda] [--train-steps 20] [--sample-steps 20] [--write]

For the chapter-5 U-Net (base 16 channels) and the wider one chapter 6 trains (base 32), side by side
in one run, on real MNIST digits:

- training: optimizer steps of L_simple (eq. ddpm-lsimple) on minibatches of 64, with and without the
  EMA update, timed after two warm-up steps; reported as images per second and the EMA's cost ratio;
- sampling: ``--sample-steps`` reverse steps of Algorithm 2 for 64 images, timed, and the time of
  the full T = 1000 steps extrapolated from them (each step costs the same: one network call).

Prints the table and the ratio wide / narrow; ``--write`` records it in results/bench_ddpm_<device>.json.
"""

from __future__ import annotations

import argparse
import time

import torch

import dgm
from dgm.data import load_mnist, to_symmetric
from dgm.diffusion import l_simple, linear_schedule
from dgm.diffusion.sampling import ancestral_sample
from dgm.diffusion.schedules import Schedule
from dgm.ema import EMA
from dgm.models.unet import UNet, UNetConfig
from dgm.results import write_result


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def train_rate(model: UNet, x0: torch.Tensor, steps: int, use_ema: bool, device: torch.device) -> float:
    """Images per second of Algorithm 1 steps (after two warm-up steps)."""
    schedule = linear_schedule()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
    ema = EMA(model, 0.9999).to(device) if use_ema else None
    batch = 64
    for i in range(steps + 2):
        if i == 2:
            sync(device)
            t0 = time.perf_counter()
        xb = x0[(i * batch) % len(x0):][:batch].to(device)
        loss = l_simple(schedule, model, xb).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if ema is not None:
            ema.update(model)
    sync(device)
    return steps * batch / (time.perf_counter() - t0)


def sampling_seconds(model: UNet, steps: int, device: torch.device) -> float:
    """Seconds for ``steps`` reverse steps of Algorithm 2 on 64 images (a schedule of that length)."""
    schedule = Schedule(linear_schedule().betas[-steps:])  # `steps` steps, each one network call
    model.eval()
    ancestral_sample(schedule, model, (64, 1, 28, 28), device=device, progress=False)  # warm-up
    sync(device)
    t0 = time.perf_counter()
    ancestral_sample(schedule, model, (64, 1, 28, 28), device=device, progress=False)
    sync(device)
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None)
    parser.add_argument("--train-steps", type=int, default=20)
    parser.add_argument("--sample-steps", type=int, default=20)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.train_steps < 1 or not 2 <= args.sample_steps <= 1000:
        parser.error("--train-steps must be >= 1 and --sample-steps in 2..1000")
    device = dgm.get_device(args.device)
    dgm.seed_everything(0)
    images, _ = load_mnist("train")
    x0 = to_symmetric(images[:4096])
    rows = {}
    for base in (16, 32):
        model = UNet(UNetConfig(base_channels=base)).to(device)
        plain = train_rate(model, x0, args.train_steps, False, device)
        with_ema = train_rate(model, x0, args.train_steps, True, device)
        seconds = sampling_seconds(model, args.sample_steps, device)
        rows[f"base{base}"] = {
            "parameters": sum(p.numel() for p in model.parameters()),
            "train_images_per_second": plain,
            "train_images_per_second_with_ema": with_ema,
            "sampling_seconds_measured": seconds,
            "sampling_steps_measured": args.sample_steps,
            "sampling_seconds_1000_steps_64_images": seconds * 1000 / args.sample_steps,
        }
    print(f"device {device}; training: {args.train_steps} steps of 64; sampling: {args.sample_steps} steps of 64 images,"
          " extrapolated to T = 1000")
    print(f"{'model':8s} {'parameters':>10s} {'train img/s':>12s} {'with EMA':>9s} {'EMA cost':>9s} {'sample 64, T=1000':>18s}")
    for name, r in rows.items():
        print(f"{name:8s} {r['parameters']:10,d} {r['train_images_per_second']:12.1f} {r['train_images_per_second_with_ema']:9.1f} "
              f"{r['train_images_per_second'] / r['train_images_per_second_with_ema']:8.2f}x "
              f"{r['sampling_seconds_1000_steps_64_images']:16.1f} s")
    narrow, wide = rows["base16"], rows["base32"]
    ratios = {"train_time_wide_over_narrow": narrow["train_images_per_second"] / wide["train_images_per_second"],
              "sampling_time_wide_over_narrow": wide["sampling_seconds_measured"] / narrow["sampling_seconds_measured"]}
    print(f"base32 / base16: training {ratios['train_time_wide_over_narrow']:.2f}x the time per image, "
          f"sampling {ratios['sampling_time_wide_over_narrow']:.2f}x")
    if args.write:
        profile = "gpu" if device.type == "cuda" else "cpu"
        print("wrote", write_result(f"bench_ddpm_{device.type}", {"models": rows, "ratios": ratios,
                                                                   "train_steps": args.train_steps}, profile=profile))


if __name__ == "__main__":
    main()

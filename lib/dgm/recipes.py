"""Recipes: how each model of the book is trained, with its budget for every profile.

A recipe is the single place where a model's training settings live. The scripts in
``scripts/`` that produce the committed checkpoints and the notebooks' "train from
scratch" cells both call these functions, so the two cannot drift apart.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch

from dgm.checkpoint import CheckpointError, export_model, load_model
from dgm.data import load_cifar10, load_fashion_mnist, load_mnist, to_symmetric
from dgm.diffusion import l_simple, linear_schedule
from dgm.ema import EMA
from dgm.flows.model import Flow, FlowConfig, flow_loss
from dgm.flows.variational_dequantization import DequantizerConfig
from dgm.models.autoencoder import AutoencoderConfig, ConvAutoencoder, autoencoder_loss
from dgm.models.unet import UNet, UNetConfig
from dgm.models.vae import VAE, VAEConfig, vae_loss
from dgm.paths import CHECKPOINTS_DIR
from dgm.profiles import Profile
from dgm.results import hardware
from dgm.runtime import seed_everything
from dgm.training import TrainSettings, train


# The datasets a recipe can train on: name -> loader returning (uint8 images [N, C, H, W], labels).
DATASETS = {"mnist": load_mnist, "fashion_mnist": load_fashion_mnist, "cifar10": load_cifar10}


def train_images(profile: Profile, dataset: str = "mnist"):
    """The training images of ``dataset`` (uint8 [N, C, H, W]), capped by the profile."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {dataset!r}")
    images, _ = DATASETS[dataset]("train")
    return images[: profile.max_train_examples]


def mnist_train_images(profile: Profile):
    """The MNIST training images (uint8 [N, 1, 28, 28]), capped by the profile."""
    return train_images(profile, "mnist")


def autoencoder_settings(profile: Profile, seed: int = 0) -> TrainSettings:
    """Chapter 1's autoencoder: Adam, batch 128; about 21 epochs of MNIST on the cpu profile."""
    return TrainSettings(
        steps=profile.pick(smoke=30, cpu=10_000, gpu=20_000),
        batch_size=profile.pick(smoke=64, cpu=128, gpu=128),
        lr=1e-3,
        seed=seed,
        log_every=profile.pick(smoke=10, cpu=100, gpu=100),
        ckpt_every=1_000,
    )


def train_autoencoder(profile: Profile, latent_dim: int, ckpt_path: str | Path | None = None, seed: int = 0, device=None):
    """Train the chapter-1 autoencoder with a code of size ``latent_dim`` on MNIST.

    Returns ``(model, history)``; resumes from ``ckpt_path`` when it exists.
    """
    seed_everything(seed)
    model = ConvAutoencoder(AutoencoderConfig(latent_dim=latent_dim))
    history = train(model, autoencoder_loss, mnist_train_images(profile), autoencoder_settings(profile, seed),
                    ckpt_path=ckpt_path, device=device)
    return model, history


@dataclass(frozen=True)
class VAERun:
    """One trained VAE of chapter 2: its architecture, KL weight and budget (steps per profile)."""

    config: VAEConfig
    beta: float
    steps: dict[str, int]

    def settings(self, profile: Profile, seed: int = 0) -> TrainSettings:
        steps = self.steps[profile.name]
        return TrainSettings(steps=steps, batch_size=profile.pick(smoke=64, cpu=128, gpu=128), lr=1e-3, seed=seed,
                             log_every=min(100, steps), ckpt_every=min(100, steps) * 10)


def _steps(smoke: int, cpu: int, gpu: int) -> dict[str, int]:
    return {"smoke": smoke, "cpu": cpu, "gpu": gpu}


# The VAEs of chapter 2. The cpu budgets are what the committed checkpoints were trained with.
VAE_RUNS = {
    "vae_mnist_bernoulli_z32": VAERun(VAEConfig(latent_dim=32, hidden=400), 1.0, _steps(30, 140_000, 300_000)),
    "vae_mnist_8bit_z32": VAERun(VAEConfig(latent_dim=32, hidden=400, decoder="discretized_gaussian"), 1.0,
                                 _steps(30, 10_000, 150_000)),
    "vae_mnist_bernoulli_z2": VAERun(VAEConfig(latent_dim=2, hidden=400), 1.0, _steps(30, 8_000, 50_000)),
    **{f"vae_mnist_bernoulli_z32_beta{b:g}": VAERun(VAEConfig(latent_dim=32, hidden=256), b, _steps(30, 2_000, 30_000))
       for b in (0.25, 1.0, 16.0)},
}


def train_vae(profile: Profile, name: str, ckpt_path: str | Path | None = None, seed: int = 0, device=None):
    """Train the chapter-2 VAE called ``name`` (a key of :data:`VAE_RUNS`) on MNIST in ``profile``.

    Returns ``(model, history)``; resumes from ``ckpt_path`` when it exists.
    """
    if name not in VAE_RUNS:
        raise ValueError(f"name must be one of {sorted(VAE_RUNS)}, got {name!r}")
    run = VAE_RUNS[name]
    seed_everything(seed)
    model = VAE(run.config)
    history = train(model, partial(vae_loss, beta=run.beta), mnist_train_images(profile), run.settings(profile, seed),
                    ckpt_path=ckpt_path, device=device)
    return model, history


@dataclass(frozen=True)
class DDPMRun:
    """A DDPM trained with the unweighted loss of its parametrization (L_simple for eps) on images in [-1, 1].

    On CUDA the training step runs in mixed precision and through ``torch.compile`` (TrainSettings.amp and
    .compile); on the CPU both are off.
    """

    config: UNetConfig
    parametrization: str
    steps: dict[str, int]
    lr: float = 5e-4
    ema_decay: float | None = None  # keep an EMA of the weights for sampling (Ho et al. 2020); None: no EMA
    dataset: str = "mnist"  # a key of DATASETS
    hflip: bool = False  # random horizontal flips of the training images (Ho et al.'s CIFAR-10 runs)
    gpu_batch_size: int = 128
    lr_warmup: int = 0  # steps of linear learning-rate warmup (at most a tenth of a profile's steps)

    def settings(self, profile: Profile, seed: int = 0) -> TrainSettings:
        steps = self.steps[profile.name]
        return TrainSettings(steps=steps, batch_size=profile.pick(smoke=16, cpu=64, gpu=self.gpu_batch_size), lr=self.lr,
                             seed=seed, log_every=min(50, steps), ckpt_every=min(50, steps) * 5, grad_clip=1.0,
                             amp=True, compile=True, lr_warmup=min(self.lr_warmup, steps // 10))


def random_hflip(x: torch.Tensor) -> torch.Tensor:
    """Flip each image of x [B, C, H, W] left-right with probability 1/2."""
    flip = torch.rand(len(x), device=x.device) < 0.5
    return torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)


def ddpm_loss(model, images, schedule, parametrization: str = "eps", hflip: bool = False):
    """Mean over pixels of the unweighted squared error (eq. ddpm-lsimple for eps) on uint8 images [B, C, H, W]."""
    x0 = random_hflip(to_symmetric(images)) if hflip else to_symmetric(images)
    return l_simple(schedule, model, x0, parametrization).mean() / x0[0].numel()


# Chapter 5's brief runs: one small U-Net per parametrization, trained on the same budget.
DDPM_RUNS = {
    f"ddpm_mnist_brief_{p}": DDPMRun(UNetConfig(base_channels=16), p, _steps(10, 1_500, 1_500))
    for p in ("eps", "x0", "mu")
}
# Chapter 6's MNIST model: the wider U-Net, Ho et al.'s learning rate, an EMA of the weights for sampling.
DDPM_RUNS["ddpm_mnist"] = DDPMRun(UNetConfig(base_channels=32), "eps", _steps(10, 10_000, 80_000), lr=2e-4, ema_decay=0.999)
# The same model and recipe on a second real dataset, to show that nothing in it is specific to digits
# (a shorter cpu budget than MNIST's: the committed checkpoint is a brief run).
DDPM_RUNS["ddpm_fashion_mnist"] = DDPMRun(UNetConfig(base_channels=32), "eps", _steps(10, 3_000, 80_000), lr=2e-4,
                                          ema_decay=0.999, dataset="fashion_mnist")
# CIFAR-10 as in Ho et al. (2020, appendix B, and their released scripts/run_cifar.py), scaled to one Colab-class
# GPU: their U-Net has 128 base channels, multipliers (1, 2, 2, 2), two residual blocks per level and attention at
# 16x16 (35.7M parameters), batch 128, lr 2e-4 warmed up over 5,000 steps, gradients clipped at norm 1, EMA 0.9999,
# dropout 0.1, random flips and 800k steps. Here: 64 base channels (about a quarter of the parameters) and 100k
# steps on the gpu profile. The cpu budget only checks that the code runs.
DDPM_RUNS["ddpm_cifar10"] = DDPMRun(
    UNetConfig(image_channels=3, image_size=32, base_channels=64, channel_mults=(1, 2, 2, 2), num_res_blocks=2,
               attention_levels=(1,), dropout=0.1),
    "eps", _steps(2, 500, 100_000), lr=2e-4, ema_decay=0.9999, dataset="cifar10", hflip=True, lr_warmup=5_000)


def train_ddpm(profile: Profile, name: str, ckpt_path: str | Path | None = None, seed: int = 0, device=None):
    """Train the DDPM called ``name`` (a key of :data:`DDPM_RUNS`) on its dataset with the linear schedule, T = 1000.

    Returns ``(model, history, ema_model)``; ``ema_model`` is the EMA of the weights (the model to sample
    from) when the run keeps one, else None.
    """
    if name not in DDPM_RUNS:
        raise ValueError(f"name must be one of {sorted(DDPM_RUNS)}, got {name!r}")
    run = DDPM_RUNS[name]
    seed_everything(seed)
    model = UNet(run.config)
    loss = partial(ddpm_loss, schedule=linear_schedule(), parametrization=run.parametrization, hflip=run.hflip)
    ema = EMA(model, run.ema_decay) if run.ema_decay is not None else None
    history = train(model, loss, train_images(profile, run.dataset), run.settings(profile, seed), ckpt_path=ckpt_path,
                    device=device, ema=ema)
    return model, history, (ema.model if ema is not None else None)


@dataclass(frozen=True)
class FlowRun:
    """A normalizing flow trained by maximum likelihood (the loss is its bits/dim on dequantized images)."""

    config: FlowConfig
    steps: dict[str, int]
    lr: float = 1e-3
    lr_cooldown: float = 0.25  # the last quarter of the steps lowers the learning rate linearly to 0
    lr_warmup: int = 0  # steps of linear warmup at the start
    dataset: str = "mnist"
    # A warm restart (Loshchilov & Hutter 2017): start from the weights of another run's committed
    # checkpoint, checkpoints/<init_from>.pt, with a fresh optimizer and this run's learning-rate schedule.
    init_from: str | None = None

    def settings(self, profile: Profile, seed: int = 0) -> TrainSettings:
        steps = self.steps[profile.name]
        return TrainSettings(steps=steps, batch_size=profile.pick(smoke=16, cpu=64, gpu=128), lr=self.lr, seed=seed,
                             log_every=min(50, steps), ckpt_every=min(50, steps) * 5, grad_clip=10.0,
                             amp=False, compile=True, lr_cooldown=self.lr_cooldown,
                             lr_warmup=min(self.lr_warmup, steps // 10))


# Chapter 3's MNIST flow. The cpu budgets are what the committed checkpoints were trained with: a first run,
# then a second that continues from its weights (warm restart) at half the learning rate, warmed up over 500
# steps and cooled down over its second half.
FLOW_RUNS = {
    "flow_mnist": FlowRun(FlowConfig(), _steps(10, 24_000, 60_000)),
    "flow_mnist_continued": FlowRun(FlowConfig(), _steps(10, 14_000, 20_000), lr=5e-4, lr_cooldown=0.5,
                                    lr_warmup=500, init_from="flow_mnist"),
    # A third run adds a variational dequantizer (eq. flow-vardeq) to the continued run's flow and trains both.
    "flow_mnist_vardeq": FlowRun(FlowConfig(dequantizer=DequantizerConfig()), _steps(10, 6_000, 20_000), lr=5e-4,
                                 lr_cooldown=0.5, lr_warmup=500, init_from="flow_mnist_continued"),
}
BOOK_FLOW = "flow_mnist_vardeq"  # the run whose checkpoint chapter 3 shows and later chapters compare with


def warm_start(model: Flow, path: str | Path) -> Flow:
    """Copy the weights of the flow checkpointed at ``path`` into ``model``.

    The two configs must be equal, except that ``model`` may add a variational dequantizer to a source
    that dequantizes uniformly. The new dequantizer keeps its initialisation, which is uniform dequantization
    exactly (dgm.flows.variational_dequantization), so the run starts from the source's bound.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: this run starts from its weights; train that run first "
                                f"(the command is in checkpoints/README.md)")
    source = load_model(path, type(model))
    adds_dequantizer = source.config.dequantizer is None and dataclasses.replace(model.config, dequantizer=None) == source.config
    if source.config != model.config and not adds_dequantizer:
        raise CheckpointError(f"{path} holds a model with config {source.config}, this run's is {model.config}")
    model.load_state_dict(source.state_dict(), strict=not adds_dequantizer)  # the source has no dequantizer.* keys
    return model


def train_flow(profile: Profile, name: str, ckpt_path: str | Path | None = None, seed: int = 0, device=None):
    """Train the flow called ``name`` (a key of :data:`FLOW_RUNS`); returns ``(model, history)``."""
    if name not in FLOW_RUNS:
        raise ValueError(f"name must be one of {sorted(FLOW_RUNS)}, got {name!r}")
    run = FLOW_RUNS[name]
    seed_everything(seed)
    model = Flow(run.config)
    if run.init_from is not None:
        model = warm_start(model, CHECKPOINTS_DIR / f"{run.init_from}.pt")
    history = train(model, flow_loss, train_images(profile, run.dataset), run.settings(profile, seed),
                    ckpt_path=ckpt_path, device=device)
    return model, history


FLOW_SAMPLE_TEMPERATURES = (0.0, 0.5, 0.7, 0.85, 1.0)


def export_flow(model: Flow, history: dict, profile: Profile, name: str, seed: int = 0,
                folder: str | Path | None = None) -> Path:
    """Write ``<folder>/<name>.pt`` (default: checkpoints/) for the flow run ``name`` trained by :func:`train_flow`:
    its weights, training history, settings and hardware, and 64 samples at each of
    :data:`FLOW_SAMPLE_TEMPERATURES` (the same latent noise for all)."""
    model = model.cpu().eval()
    generator = lambda: torch.Generator().manual_seed(seed)  # noqa: E731
    samples = {str(t): model.sample(64, t, generator=generator()) for t in FLOW_SAMPLE_TEMPERATURES}
    s = FLOW_RUNS[name].settings(profile, seed)
    settings = {"steps": s.steps, "batch_size": s.batch_size, "lr": s.lr, "lr_cooldown": s.lr_cooldown,
                "lr_warmup": s.lr_warmup, "init_from": FLOW_RUNS[name].init_from, "seed": seed}
    folder = Path(folder) if folder is not None else CHECKPOINTS_DIR
    return export_model(model, folder / f"{name}.pt", history=history, profile=profile.name, settings=settings,
                        hardware=hardware(), samples=samples)

"""The one training loop of the book.

Every model is trained by :func:`train`: it draws minibatches in a seeded order, takes
optimizer steps on ``loss_fn(model, batch)``, shows a progress bar, logs the running
loss, and writes an atomic checkpoint every ``ckpt_every`` steps. Called again with the
same checkpoint path it resumes where it stopped, with the same data order and random
state, so an interrupted run and an uninterrupted one end identically.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Union

import torch
from torch import nn
from tqdm.auto import tqdm

from dgm.checkpoint import CheckpointError, load_checkpoint, model_record, save_checkpoint
from dgm.ema import EMA
from dgm.runtime import get_device

Data = Union[torch.Tensor, tuple[torch.Tensor, ...]]
LossFn = Callable[[nn.Module, Data], Union[torch.Tensor, tuple[torch.Tensor, dict[str, float]]]]

# Settings that may change between a run and its resumption (a longer run, other logging).
# amp and compile change the speed on CUDA, not what is optimized. steps and lr_cooldown may change
# only while the learning rates of the steps already taken stay the same (see _resume).
_RESUMABLE_CHANGES = {"steps", "lr_cooldown", "log_every", "ckpt_every", "amp", "compile"}


@dataclass(frozen=True)
class TrainSettings:
    """How long and how to optimize.

    Attributes:
        steps: number of optimizer steps (minibatches).
        batch_size: examples per minibatch.
        lr: Adam learning rate.
        seed: seeds the model's random numbers and the data order.
        log_every: the history keeps the mean loss of every ``log_every`` steps.
        ckpt_every: steps between checkpoints (when a checkpoint path is given); a multiple of
            ``log_every``, so that a resumed run logs exactly what an uninterrupted one does.
        grad_clip: clip the global gradient norm to this value (``None``: no clipping).
        amp: on CUDA, compute the forward pass in mixed precision (bfloat16 where the GPU supports it,
            otherwise float16 with a gradient scaler); ignored on the CPU.
        compile: on CUDA, run the model through ``torch.compile``; ignored on the CPU.
        lr_cooldown: the fraction of the steps, at the end, over which the learning rate falls linearly
            from ``lr`` to 0 (0: a constant learning rate); see :func:`learning_rate`.
        lr_warmup: the number of steps, at the start, over which the learning rate rises linearly to
            ``lr`` (0: none). A run that starts from trained weights with a fresh Adam optimizer needs
            it: Adam's first updates have a size of about ``lr`` in every parameter, whatever the gradient.
    """

    steps: int
    batch_size: int
    lr: float = 1e-3
    seed: int = 0
    log_every: int = 50
    ckpt_every: int = 1_000
    grad_clip: float | None = None
    amp: bool = False
    compile: bool = False
    lr_cooldown: float = 0.0
    lr_warmup: int = 0

    def __post_init__(self):
        for name in ("steps", "batch_size", "log_every", "ckpt_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if self.ckpt_every % self.log_every:
            raise ValueError(f"ckpt_every ({self.ckpt_every}) must be a multiple of log_every ({self.log_every})")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        if not isinstance(self.lr_warmup, int) or not 0 <= self.lr_warmup < self.steps:
            raise ValueError(f"lr_warmup must be an integer in [0, steps) = [0, {self.steps}), got {self.lr_warmup!r}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ValueError(f"grad_clip must be > 0 or None, got {self.grad_clip!r}")
        if not 0 <= self.lr_cooldown <= 1:
            raise ValueError(f"lr_cooldown must lie in [0, 1], got {self.lr_cooldown!r}")


def learning_rate(settings: TrainSettings, step: int) -> float:
    """The learning rate of optimizer step ``step`` (counted from 0): a linear warmup, ``lr``, a linear cooldown.

    With ``w = lr_warmup`` the rate is ``lr * (step + 1) / w`` for the first ``w`` steps. With
    ``c = lr_cooldown * steps`` it is ``lr * (steps - step) / c`` from step ``steps - c`` on, which
    reaches ``lr / c`` at the last step (where the two overlap, the smaller applies). In between it is
    ``lr``. Raising ``steps`` to resume a run for longer gives the same schedule as a run that was given
    the longer budget from the start, as long as the first run had not reached its cooldown.
    """
    rate = settings.lr
    if step < settings.lr_warmup:
        rate = settings.lr * (step + 1) / settings.lr_warmup
    cooldown = settings.lr_cooldown * settings.steps
    if cooldown > 0 and step >= settings.steps - cooldown:
        rate = min(rate, settings.lr * (settings.steps - step) / cooldown)
    return rate


def _num_examples(data: Data) -> int:
    tensors = data if isinstance(data, tuple) else (data,)
    n = len(tensors[0])
    if any(len(t) != n for t in tensors):
        raise ValueError(f"all tensors in `data` must have the same length, got {[len(t) for t in tensors]}")
    return n


@lru_cache(maxsize=2)
def _epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))


def batch_indices(n: int, batch_size: int, step: int, seed: int) -> torch.Tensor:
    """Indices of the minibatch used at ``step``: epoch ``e`` is a permutation seeded by (seed, e).

    The order depends only on its arguments, which is what makes resuming exact. (The
    permutation is computed once per epoch and cached.)
    """
    if batch_size > n:
        raise ValueError(f"batch_size ({batch_size}) must be <= the number of examples ({n})")
    per_epoch = n // batch_size  # the last incomplete batch of an epoch is dropped
    epoch, i = divmod(step, per_epoch)
    return _epoch_permutation(n, seed, epoch)[i * batch_size : (i + 1) * batch_size]


def _take(data: Data, idx: torch.Tensor, device: torch.device) -> Data:
    if isinstance(data, tuple):
        return tuple(t[idx].to(device, non_blocking=True) for t in data)
    return data[idx].to(device, non_blocking=True)


def cuda_speedups(model: nn.Module, settings: TrainSettings, device: torch.device):
    """What ``settings.amp`` and ``settings.compile`` switch on, on CUDA only (on the CPU: nothing).

    Returns ``(step_model, autocast, scaler)``: the module to call in the training step (compiled or
    ``model`` itself; both share the same parameters), a function returning the autocast context of the
    forward pass, and a ``torch.amp.GradScaler`` when float16 needs one (else ``None``).
    """
    cuda = device.type == "cuda"
    step_model = torch.compile(model) if settings.compile and cuda else model
    if not (settings.amp and cuda):
        return step_model, contextlib.nullcontext, None
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
    return step_model, lambda: torch.autocast("cuda", dtype=dtype), scaler


def train(
    model: nn.Module,
    loss_fn: LossFn,
    data: Data,
    settings: TrainSettings,
    ckpt_path: str | Path | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
    ema: EMA | None = None,
) -> dict[str, list[float]]:
    """Train ``model`` in place and return its history.

    Args:
        model: any ``nn.Module`` with a ``config`` dataclass attribute.
        loss_fn: ``loss_fn(model, batch)`` returns the scalar loss to minimise, or
            ``(loss, metrics)`` with a dict of floats or scalar tensors to log beside it.
        data: a tensor (or tuple of tensors) of training examples, indexed on the first axis.
        settings: see :class:`TrainSettings`.
        ckpt_path: where to checkpoint; if it exists, training resumes from it.
        device: where to compute (default: :func:`dgm.runtime.get_device`).
        progress: show a tqdm progress bar.
        ema: an :class:`dgm.ema.EMA` of ``model``, updated after every optimizer step and saved in (and
            restored from) the checkpoint with the rest of the training state.

    Returns:
        history: ``{"step": [...], "loss": [...], <metric>: [...], "seconds": [...]}``,
        one entry per ``log_every`` steps (``seconds`` is the wall time spent training so far).
    """
    device = get_device(device) if not isinstance(device, torch.device) else device
    model.to(device)
    n = _num_examples(data)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    history: dict[str, list[float]] = {"step": [], "loss": [], "seconds": []}
    start, elapsed = 0, 0.0
    torch.manual_seed(settings.seed)

    if ema is not None:
        ema.to(device)
    step_model, autocast, scaler = cuda_speedups(model, settings, device)
    if ckpt_path is not None and Path(ckpt_path).is_file():
        start, elapsed, history = _resume(ckpt_path, model, optimizer, settings, device, ema, scaler)

    model.train()
    sums: dict[str, torch.Tensor | float] = {}  # running sums, kept on the device: no sync per step
    count = 0
    t0 = time.perf_counter()
    bar = tqdm(range(start, settings.steps), initial=start, total=settings.steps, disable=not progress, desc="training")
    for step in bar:
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(settings, step)
        batch = _take(data, batch_indices(n, settings.batch_size, step, settings.seed), device)
        with autocast():
            out = loss_fn(step_model, batch)
        loss, metrics = out if isinstance(out, tuple) else (out, {})
        optimizer.zero_grad(set_to_none=True)
        if scaler is None:
            loss.backward()
        else:  # float16: scale the loss so that small gradients do not underflow, unscale before clipping
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
        if settings.grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
        if scaler is None:
            optimizer.step()
        else:
            scaler.step(optimizer)
            scaler.update()
        if ema is not None:
            ema.update(model)

        for k, v in {"loss": loss, **metrics}.items():
            sums[k] = sums.get(k, 0.0) + (v.detach() if torch.is_tensor(v) else v)
        count += 1
        done = step + 1
        if done % settings.log_every == 0 or done == settings.steps:
            means = {k: float(v) / count for k, v in sums.items()}
            if not math.isfinite(means["loss"]):
                raise FloatingPointError(f"the loss became {means['loss']} before step {done}; lower the learning rate")
            history["step"].append(done)
            history["seconds"].append(elapsed + time.perf_counter() - t0)
            for k, v in means.items():
                history.setdefault(k, []).append(v)
            bar.set_postfix(loss=f"{means['loss']:.4g}")
            sums, count = {}, 0
        if ckpt_path is not None and (done % settings.ckpt_every == 0 or done == settings.steps):
            if count and not math.isfinite(float(sums["loss"])):  # never checkpoint a diverged model
                raise FloatingPointError(f"the loss became non-finite before step {done}; lower the learning rate")
            _save(ckpt_path, model, optimizer, settings, done, elapsed + time.perf_counter() - t0, history, ema, scaler)
    bar.close()
    model.eval()
    return history


def _save(path, model, optimizer, settings, step, seconds, history, ema=None, scaler=None) -> None:
    save_checkpoint(
        {
            **model_record(model),
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "settings": dataclasses.asdict(settings),
            "step": step,
            "seconds": seconds,
            "history": history,
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            **({"ema": ema.state_dict()} if ema is not None else {}),
            **({"grad_scaler": scaler.state_dict()} if scaler is not None else {}),
        },
        path,
    )


def _resume(path, model, optimizer, settings, device, ema=None, scaler=None):
    ckpt = load_checkpoint(path, map_location=device)
    if "optimizer" not in ckpt:
        raise CheckpointError(f"{path} holds exported weights, not a training state; it cannot be resumed")
    record = model_record(model)
    if ckpt["model_class"] != record["model_class"] or ckpt["model_config"] != record["model_config"]:
        raise CheckpointError(
            f"{path} was written for {ckpt['model_class']}({ckpt['model_config']}), "
            f"not {record['model_class']}({record['model_config']}); delete it or use another path"
        )
    saved = {f.name: f.default for f in dataclasses.fields(TrainSettings)} | ckpt["settings"]  # older: defaults
    changed = {k for k, v in dataclasses.asdict(settings).items() if saved.get(k) != v} - _RESUMABLE_CHANGES
    taken = range(ckpt["step"])  # the steps already taken must have had the learning rates this run gives them
    if "lr" not in changed and any(learning_rate(TrainSettings(**saved), i) != learning_rate(settings, i) for i in taken):
        raise CheckpointError(
            f"{path} stopped at step {ckpt['step']} of a run of {saved['steps']} steps with lr_cooldown="
            f"{saved['lr_cooldown']}, whose learning rates differ from those of {settings.steps} steps with "
            f"lr_cooldown={settings.lr_cooldown}; delete it or use another path")
    if changed:
        raise CheckpointError(
            f"{path} was trained with other settings ({', '.join(f'{k}={saved.get(k)!r}' for k in sorted(changed))}); "
            "delete it or use another path"
        )
    if (ema is None) != ("ema" not in ckpt):
        raise CheckpointError(f"{path} was trained {'with' if 'ema' in ckpt else 'without'} an EMA of the weights, "
                              f"this run {'with' if ema is not None else 'without'}; delete it or use another path")
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    if ema is not None:
        ema.load_state_dict(ckpt["ema"])
    if scaler is not None and "grad_scaler" in ckpt:
        scaler.load_state_dict(ckpt["grad_scaler"])
    torch.set_rng_state(ckpt["rng_cpu"].cpu())
    if torch.cuda.is_available() and len(ckpt["rng_cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in ckpt["rng_cuda"]])
    return ckpt["step"], ckpt["seconds"], ckpt["history"]

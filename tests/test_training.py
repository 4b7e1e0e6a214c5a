from dataclasses import dataclass

import pytest
import torch
from torch import nn

from dgm.checkpoint import CheckpointError
from dgm.ema import EMA
from dgm.training import TrainSettings, batch_indices, learning_rate, train


@dataclass(frozen=True)
class TinyConfig:
    dim: int = 4


class Tiny(nn.Module):
    """A linear regression with noise in its loss, so that resuming must restore the random state."""

    Config = TinyConfig

    def __init__(self, config=TinyConfig()):
        super().__init__()
        self.config = config
        self.linear = nn.Linear(config.dim, 1)


def noisy_loss(model, batch):
    x, y = batch
    noise = 0.01 * torch.randn_like(y)
    loss = (model.linear(x).squeeze(1) - y + noise).pow(2).mean()
    return loss, {"weight_norm": model.linear.weight.norm()}


def data(n=64, dim=4):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, dim, generator=g)
    return x, x @ torch.arange(1.0, dim + 1) + 0.5


def settings(**kw):
    return TrainSettings(**{"steps": 40, "batch_size": 8, "lr": 0.05, "log_every": 5, "ckpt_every": 10, **kw})


@pytest.mark.parametrize("kw,field", [({"steps": 0}, "steps"), ({"batch_size": -1}, "batch_size"), ({"lr": 0}, "lr"),
                                      ({"grad_clip": -1.0}, "grad_clip"), ({"ckpt_every": 7}, "ckpt_every"),
                                      ({"lr_cooldown": 1.5}, "lr_cooldown"), ({"lr_warmup": -1}, "lr_warmup"),
                                      ({"lr_warmup": 40}, "lr_warmup")])
def test_settings_are_validated(kw, field):
    with pytest.raises(ValueError, match=field):
        settings(**kw)


def test_batch_order_is_a_seeded_permutation_per_epoch():
    n, b = 50, 8  # 6 batches per epoch, 2 examples dropped
    epoch = torch.cat([batch_indices(n, b, s, seed=3) for s in range(6)])
    assert len(set(epoch.tolist())) == 48  # no example twice within an epoch
    assert torch.equal(batch_indices(n, b, 4, seed=3), batch_indices(n, b, 4, seed=3))
    assert not torch.equal(batch_indices(n, b, 0, seed=3), batch_indices(n, b, 6, seed=3))  # next epoch: new order
    assert not torch.equal(batch_indices(n, b, 0, seed=3), batch_indices(n, b, 0, seed=4))
    with pytest.raises(ValueError, match="batch_size"):
        batch_indices(4, 8, 0, 0)


def test_training_decreases_the_loss():
    model = Tiny()
    history = train(model, noisy_loss, data(), settings(steps=100, lr=0.2), progress=False)
    assert history["step"] == list(range(5, 101, 5))
    assert history["loss"][-1] < 0.05 * history["loss"][0]
    assert "weight_norm" in history and len(history["seconds"]) == len(history["step"])


def test_resumed_run_equals_uninterrupted_run(tmp_path):
    torch.manual_seed(0)
    full = Tiny()
    start = {k: v.clone() for k, v in full.state_dict().items()}
    h_full = train(full, noisy_loss, data(), settings(), progress=False)

    ckpt = tmp_path / "run.pt"
    first = Tiny()
    first.load_state_dict(start)
    train(first, noisy_loss, data(), settings(steps=20), ckpt_path=ckpt, progress=False)  # "interrupted" at 20
    resumed = Tiny()  # a fresh process would start from a fresh model
    h_resumed = train(resumed, noisy_loss, data(), settings(), ckpt_path=ckpt, progress=False)

    for k, v in full.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k
    assert h_resumed["loss"] == h_full["loss"] and h_resumed["step"] == h_full["step"]


def test_resume_refuses_other_settings_or_model(tmp_path):
    ckpt = tmp_path / "run.pt"
    train(Tiny(), noisy_loss, data(), settings(steps=10), ckpt_path=ckpt, progress=False)
    with pytest.raises(CheckpointError, match="lr=0.05"):
        train(Tiny(), noisy_loss, data(), settings(lr=0.01), ckpt_path=ckpt, progress=False)
    with pytest.raises(CheckpointError, match=r"written for Tiny\(\{'dim': 4\}\), not Tiny\(\{'dim': 3\}\)"):
        train(Tiny(TinyConfig(dim=3)), noisy_loss, data(dim=3), settings(steps=10), ckpt_path=ckpt, progress=False)


def test_learning_rate_cooldown_by_hand():
    s = settings(steps=10, lr=0.5, lr_cooldown=0.4)  # constant for steps 0..5, then 4 steps down to 0.5 / 4
    assert [learning_rate(s, i) for i in range(10)] == [0.5] * 6 + [0.5, 0.375, 0.25, 0.125]
    assert [learning_rate(settings(steps=10, lr=0.5), i) for i in range(10)] == [0.5] * 10


def test_learning_rate_warmup_by_hand():
    s = settings(steps=10, lr=0.4, lr_warmup=4)  # 4 steps up to 0.4, then constant
    assert [learning_rate(s, i) for i in range(10)] == pytest.approx([0.1, 0.2, 0.3, 0.4] + [0.4] * 6)
    s = settings(steps=10, lr=0.4, lr_warmup=4, lr_cooldown=0.8)  # they overlap: the smaller rate applies
    assert [learning_rate(s, i) for i in range(10)] == pytest.approx([0.1, 0.2, 0.3, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05])


def test_cooldown_is_what_the_optimizer_uses():
    """train() with a warmup and a cooldown equals a hand-written Adam loop whose rate is set from learning_rate()."""
    def loss_fn(model, batch):
        x, y = batch
        return (model.linear(x).squeeze(1) - y).pow(2).mean()

    s = settings(steps=12, lr=0.1, lr_cooldown=0.5, lr_warmup=3)
    torch.manual_seed(0)
    model = Tiny()
    reference = Tiny()
    reference.load_state_dict(model.state_dict())
    train(model, loss_fn, data(), s, progress=False)
    optimizer = torch.optim.Adam(reference.parameters(), lr=s.lr)
    x, y = data()
    for step in range(s.steps):
        optimizer.param_groups[0]["lr"] = learning_rate(s, step)
        idx = batch_indices(len(x), s.batch_size, step, s.seed)
        optimizer.zero_grad()
        loss_fn(reference, (x[idx], y[idx])).backward()
        optimizer.step()
    for k, v in model.state_dict().items():
        assert torch.equal(v, reference.state_dict()[k]), k


def test_longer_run_with_cooldown_resumes_a_constant_rate_run(tmp_path):
    """A 20-step constant-rate run continued to 40 steps with a cooldown over the last half equals a
    40-step run with that cooldown from the start; once a run has cooled down, it cannot be extended."""
    torch.manual_seed(0)
    full = Tiny()
    start = {k: v.clone() for k, v in full.state_dict().items()}
    train(full, noisy_loss, data(), settings(lr_cooldown=0.5), progress=False)
    ckpt = tmp_path / "run.pt"
    first = Tiny()
    first.load_state_dict(start)
    train(first, noisy_loss, data(), settings(steps=20), ckpt_path=ckpt, progress=False)
    resumed = Tiny()
    train(resumed, noisy_loss, data(), settings(lr_cooldown=0.5), ckpt_path=ckpt, progress=False)
    for k, v in full.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k
    with pytest.raises(CheckpointError, match="learning rates differ"):
        train(Tiny(), noisy_loss, data(), settings(steps=50, lr_cooldown=0.5), ckpt_path=ckpt, progress=False)
    with pytest.raises(CheckpointError, match="learning rates differ"):  # a cooldown over 60% would start at 16
        first = tmp_path / "first.pt"
        train(Tiny(), noisy_loss, data(), settings(steps=20), ckpt_path=first, progress=False)
        train(Tiny(), noisy_loss, data(), settings(lr_cooldown=0.6), ckpt_path=first, progress=False)


def test_divergence_is_reported():
    def nan_loss(model, batch):
        return model.linear(batch[0]).sum() * float("nan")

    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        train(Tiny(), nan_loss, data(), settings(), progress=False)


def test_mismatched_data_lengths():
    x, y = data()
    with pytest.raises(ValueError, match="same length"):
        train(Tiny(), noisy_loss, (x, y[:10]), settings(), progress=False)


def test_ema_update_is_the_moving_average():
    model = Tiny()
    ema = EMA(model, decay=0.9)
    before = {k: v.clone() for k, v in ema.model.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    ema.update(model)
    for k, v in model.state_dict().items():
        assert torch.allclose(ema.model.state_dict()[k], 0.9 * before[k] + 0.1 * v)
    with pytest.raises(ValueError, match=r"decay must lie in \[0, 1\)"):
        EMA(model, decay=1.0)


def test_resumed_run_with_ema_equals_uninterrupted_run(tmp_path):
    torch.manual_seed(0)
    full = Tiny()
    start = {k: v.clone() for k, v in full.state_dict().items()}
    ema_full = EMA(full, decay=0.8)
    train(full, noisy_loss, data(), settings(), progress=False, ema=ema_full)

    ckpt = tmp_path / "run.pt"
    first = Tiny()
    first.load_state_dict(start)
    train(first, noisy_loss, data(), settings(steps=20), ckpt_path=ckpt, progress=False, ema=EMA(first, decay=0.8))
    resumed = Tiny()
    ema_resumed = EMA(resumed, decay=0.8)
    train(resumed, noisy_loss, data(), settings(), ckpt_path=ckpt, progress=False, ema=ema_resumed)

    for k, v in ema_full.model.state_dict().items():
        assert torch.equal(v, ema_resumed.model.state_dict()[k]), k
        assert not torch.equal(v, full.state_dict()[k])  # the average lags behind the weights
    with pytest.raises(CheckpointError, match="with an EMA"):
        train(Tiny(), noisy_loss, data(), settings(), ckpt_path=ckpt, progress=False)

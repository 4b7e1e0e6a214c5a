"""The denoiser eps_theta(x_t, t): shapes, time embedding, one L_simple training run, checkpoints."""

import pytest
import torch

from dgm.checkpoint import CheckpointError, export_model, load_model
from dgm.diffusion import Schedule, l_simple, linear_betas
from dgm.models.unet import UNet, UNetConfig, timestep_embedding

TINY = UNetConfig(base_channels=8, image_size=8, channel_mults=(1, 2), attention_levels=(1,), dropout=0.0)


def test_shapes_for_mnist_and_cifar_sizes():
    for cfg in (UNetConfig(base_channels=8), UNetConfig(base_channels=8, image_channels=3, image_size=32, channel_mults=(1, 2, 2, 2))):
        model = UNet(cfg)
        x = torch.randn(3, cfg.image_channels, cfg.image_size, cfg.image_size)
        assert model(x, torch.tensor([1, 500, 1000])).shape == x.shape


def test_output_starts_at_zero_and_depends_on_t():
    torch.manual_seed(0)
    model = UNet(TINY).eval()
    x = torch.randn(2, 1, 8, 8)
    assert model(x, torch.tensor([3, 3])).abs().max() == 0  # zero-initialised head: predicts no noise at first
    torch.nn.init.normal_(model.head[-1].weight)
    a, b = model(x, torch.tensor([3, 3])), model(x, torch.tensor([3, 900]))
    assert torch.equal(a[0], b[0]) and not torch.allclose(a[1], b[1])  # each image sees its own t


def test_timestep_embedding_properties():
    t = torch.arange(1, 1001)
    emb = timestep_embedding(t, 32)
    assert emb.shape == (1000, 32)
    assert torch.allclose(emb[:, :16] ** 2 + emb[:, 16:] ** 2, torch.ones(1000, 16))  # sin^2 + cos^2 = 1
    assert torch.allclose(emb[:, 0], torch.sin(t.float()))  # the fastest frequency is 1
    assert torch.allclose(emb[:, 15], torch.sin(t.float() / 10_000), atol=1e-6)  # the slowest is 1 / 10000
    assert len(torch.unique(emb, dim=0)) == 1000  # distinct steps, distinct embeddings
    with pytest.raises(ValueError, match="dim must be an even integer"):
        timestep_embedding(t, 7)


def test_l_simple_decreases_when_overfitting_a_tiny_batch():
    torch.manual_seed(0)
    schedule = Schedule(linear_betas(50, 1e-3, 0.2))
    model = UNet(TINY)
    x0 = torch.rand(4, 1, 8, 8) * 2 - 1
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def loss_at_fixed_noise():
        torch.manual_seed(123)  # the same t and eps every time
        with torch.no_grad():
            return l_simple(schedule, model, x0).mean().item()

    before = loss_at_fixed_noise()
    for _ in range(150):
        loss = l_simple(schedule, model, x0).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss_at_fixed_noise() < 0.6 * before


def test_checkpoint_round_trip_and_mismatch(tmp_path):
    torch.manual_seed(0)
    model = UNet(TINY).eval()
    torch.nn.init.normal_(model.head[-1].weight)
    path = export_model(model, tmp_path / "unet.pt")
    loaded = load_model(path, UNet)
    x, t = torch.randn(2, 1, 8, 8), torch.tensor([1, 2])
    assert torch.equal(loaded(x, t), model(x, t)) and loaded.config == TINY
    ckpt = torch.load(path, weights_only=True)
    ckpt["model_config"]["base_channels"] = 16
    torch.save(ckpt, tmp_path / "other.pt")
    with pytest.raises(CheckpointError):
        load_model(tmp_path / "other.pt", UNet)


@pytest.mark.parametrize("kw,match", [({"base_channels": 12}, "multiple of 8"), ({"image_size": 30}, "divisible"),
                                      ({"dropout": 1.0}, "dropout"), ({"channel_mults": ()}, "channel_mults")])
def test_bad_config(kw, match):
    with pytest.raises(ValueError, match=match):
        UNetConfig(**kw)


def test_bad_inputs():
    model = UNet(TINY)
    with pytest.raises(ValueError, match=r"x must have shape \[B, 1, 8, 8\]"):
        model(torch.zeros(2, 1, 9, 9), torch.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"t must have shape \[2\]"):
        model(torch.zeros(2, 1, 8, 8), torch.tensor([1]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_forward_matches_cpu():
    torch.manual_seed(0)
    model = UNet(TINY).eval()
    torch.nn.init.normal_(model.head[-1].weight)
    x, t = torch.randn(2, 1, 8, 8), torch.tensor([1, 2])
    assert torch.allclose(model.cuda()(x.cuda(), t.cuda()).cpu(), model.cpu()(x, t), atol=1e-4)


def test_ddpm_recipe_trains_with_an_ema_and_resumes(tmp_path):
    from dgm import get_profile
    from dgm.recipes import DDPM_RUNS, train_ddpm

    profile = get_profile("smoke")
    ckpt = tmp_path / "ddpm.pt"
    model, history, ema_model = train_ddpm(profile, "ddpm_mnist", ckpt, device="cpu")
    assert history["step"][-1] == DDPM_RUNS["ddpm_mnist"].steps["smoke"]
    assert ema_model is not None and ema_model.config == model.config
    assert any(not torch.equal(a, b) for a, b in zip(model.state_dict().values(), ema_model.state_dict().values()))
    again, history_again, _ = train_ddpm(profile, "ddpm_mnist", ckpt, device="cpu")  # already done: resumes at the end
    assert history_again == history and all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                                              again.state_dict().values()))
    with pytest.raises(ValueError, match="name must be one of"):
        train_ddpm(profile, "ddpm_cifar", ckpt)


def test_cifar10_recipe_runs_end_to_end_on_an_archive_in_the_official_format(tmp_path, monkeypatch):
    """Chapter 6's CIFAR-10 configuration: load the (generated) official archive, train, sample."""
    import dgm.data.cifar10 as cifar10
    from dgm import get_profile
    from dgm.data import RemoteFile, md5sum
    from dgm.diffusion.sampling import ancestral_sample
    from dgm.recipes import DDPM_RUNS, train_ddpm
    from test_cifar10 import write_archive

    (tmp_path / "cifar10").mkdir()
    path = tmp_path / "cifar10" / cifar10.ARCHIVE.filename
    write_archive(path, n=8)  # 5 x 8 training images
    monkeypatch.setattr(cifar10, "ARCHIVE", RemoteFile(path.name, cifar10.ARCHIVE.urls, md5sum(path)))
    monkeypatch.setenv("DGM_DATA_DIR", str(tmp_path))
    run = DDPM_RUNS["ddpm_cifar10"]
    assert run.config.image_channels == 3 and run.config.image_size == 32 and run.hflip
    model, history, ema_model = train_ddpm(get_profile("smoke"), "ddpm_cifar10", tmp_path / "run.pt", device="cpu")
    assert history["step"][-1] == run.steps["smoke"] and all(torch.isfinite(torch.tensor(history["loss"])))
    short = Schedule(linear_betas(5, 1e-3, 0.2))
    samples = ancestral_sample(short, ema_model, (2, 3, 32, 32), generator=torch.Generator().manual_seed(0),
                               device="cpu", progress=False)
    assert samples.shape == (2, 3, 32, 32) and samples.abs().max() <= 1


def test_random_flips_flip_about_half_the_batch_and_nothing_else():
    from dgm.recipes import random_hflip

    x = torch.arange(4.0).repeat(200, 1, 4, 1)  # [200, 1, 4, 4], every row 0 1 2 3
    torch.manual_seed(0)
    y = random_hflip(x)
    flipped = (y == x.flip(-1)).flatten(1).all(1)
    kept = (y == x).flatten(1).all(1)
    assert (flipped ^ kept).all()  # each image is either flipped or untouched
    assert 70 < int(flipped.sum()) < 130


def test_amp_and_compile_are_off_on_the_cpu(tmp_path):
    """On the CPU, amp=True and compile=True must train exactly as without them."""
    from dgm.training import TrainSettings, cuda_speedups, train

    data = torch.randint(0, 256, (32, 1, 8, 8), dtype=torch.uint8)
    schedule = Schedule(linear_betas(20, 1e-3, 0.2))

    def loss(model, images):
        return l_simple(schedule, model, 2 * images.float() / 255 - 1).mean()

    runs = []
    for fast in (False, True):
        torch.manual_seed(0)
        model = UNet(TINY)
        settings = TrainSettings(steps=3, batch_size=8, log_every=1, ckpt_every=1, amp=fast, compile=fast)
        step_model, autocast, scaler = cuda_speedups(model, settings, torch.device("cpu"))
        assert step_model is model and scaler is None
        runs.append((train(model, loss, data, settings, device="cpu", progress=False)["loss"], model.state_dict()))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1].values(), runs[1][1].values()))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="mixed precision and torch.compile are CUDA-only here")
def test_amp_and_compile_train_on_cuda():
    from dgm.training import TrainSettings, train

    data = torch.randint(0, 256, (64, 1, 8, 8), dtype=torch.uint8)
    schedule = Schedule(linear_betas(20, 1e-3, 0.2))

    def loss(model, images):
        return l_simple(schedule, model, 2 * images.float() / 255 - 1).mean()

    model = UNet(TINY)
    settings = TrainSettings(steps=60, batch_size=16, log_every=20, ckpt_every=20, lr=2e-3, amp=True, compile=True)
    history = train(model, loss, data, settings, device="cuda", progress=False)
    assert all(torch.isfinite(torch.tensor(history["loss"]))) and history["loss"][-1] < history["loss"][0]

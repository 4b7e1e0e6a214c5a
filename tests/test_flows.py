"""Chapter 3: every flow layer is exactly invertible and its log-determinant is log |det J| (checked by autograd)."""

import math

import pytest
import torch

from dgm.checkpoint import CheckpointError, export_model, load_model
from dgm.flows import (ActNorm, AffineCoupling, Flow, FlowConfig, InvertibleConv1x1, checkerboard_mask, dequantize,
                       discrete_bits_per_dim, importance_weighted_bits_per_dim, logit_inverse, logit_transform, squeeze,
                       unsqueeze)
from dgm.distributions import standard_normal_log_prob
from dgm.flows.variational_dequantization import DequantizerConfig, VariationalDequantizer

F64 = torch.float64
TINY = FlowConfig(image_size=4, steps=(2, 1, 2), hidden=(4, 4, 4), blocks=1)


def perturbed(layer, scale=0.3, seed=0):
    """The layer in float64 with every parameter moved away from its (often identity) initialisation."""
    g = torch.Generator().manual_seed(seed)
    layer = layer.double()
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=F64))
    return layer.eval()


def autograd_logdet(fn, x):
    """log |det J| of fn at the single example x [1, ...], from the full Jacobian."""
    jac = torch.autograd.functional.jacobian(lambda v: fn(v.view(x.shape)).flatten(), x.flatten())
    return torch.linalg.slogdet(jac)[1]


LAYERS = {
    "checkerboard coupling": lambda: AffineCoupling(2, "checkerboard", 0, hidden=8, blocks=1),
    "checkerboard coupling, parity 1": lambda: AffineCoupling(2, "checkerboard", 1, hidden=8, blocks=1),
    "channel coupling": lambda: AffineCoupling(4, "channel", 1, hidden=8, blocks=2),
    "actnorm": lambda: ActNorm(3),
    "1x1 convolution": lambda: InvertibleConv1x1(4, seed=3),
}
SHAPES = {"checkerboard coupling": (1, 2, 4, 4), "checkerboard coupling, parity 1": (1, 2, 4, 4),
          "channel coupling": (1, 4, 3, 3), "actnorm": (1, 3, 3, 3), "1x1 convolution": (1, 4, 2, 3)}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_every_layer_inverts_and_its_logdet_is_log_abs_det_jacobian(name):
    layer = perturbed(LAYERS[name]())
    x = torch.randn(SHAPES[name], generator=torch.Generator().manual_seed(1), dtype=F64)
    y, logdet = layer(x)
    assert torch.allclose(layer.inverse(y), x, atol=1e-10)
    assert logdet.shape == (1,)
    assert torch.allclose(logdet[0], autograd_logdet(lambda v: layer(v)[0], x), atol=1e-8)


def test_coupling_starts_as_the_identity_and_keeps_the_masked_half():
    layer = AffineCoupling(1, "checkerboard", 0, hidden=8).double()
    x = torch.randn(2, 1, 6, 6, dtype=F64)
    y, logdet = layer(x)
    assert torch.equal(y, x) and torch.equal(logdet, torch.zeros(2, dtype=F64))
    layer = perturbed(layer)
    y, _ = layer(x)
    m = checkerboard_mask(6, 6, 0).bool().expand_as(x)
    assert torch.equal(y[m], x[m]) and not torch.allclose(y[~m], x[~m])


def test_actnorm_initialises_on_the_first_training_batch_only_and_keeps_it_in_its_state():
    layer = ActNorm(3).train()
    x = 5 + 3 * torch.randn(64, 3, 4, 4)
    y, _ = layer(x)
    assert torch.allclose(y.mean((0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(y.std((0, 2, 3)), torch.ones(3), atol=1e-4)
    before = layer.state_dict()["bias"].clone()
    layer(x + 100)  # already initialised: no change
    assert torch.equal(layer.bias.detach(), before)
    fresh = ActNorm(3)
    fresh.load_state_dict(layer.state_dict())
    assert bool(fresh.initialized) and torch.allclose(fresh.train()(x)[0], y)


def test_squeeze_moves_2x2_blocks_into_channels_and_back():
    x = torch.arange(2 * 3 * 4 * 6, dtype=F64).view(2, 3, 4, 6)
    s = squeeze(x)
    assert s.shape == (2, 12, 2, 3)
    assert s[0, 4 * 1 + 2 * 1 + 0, 1, 2] == x[0, 1, 3, 4]  # channel 4c + 2i + j holds pixel (2h + i, 2w + j)
    assert torch.equal(unsqueeze(s), x)
    with pytest.raises(ValueError, match="even height and width.*H = 5"):
        squeeze(torch.zeros(1, 1, 5, 4))
    with pytest.raises(ValueError, match="multiple of 4"):
        unsqueeze(torch.zeros(1, 6, 2, 2))


def test_logit_transform_inverts_and_its_logdet_matches_autograd():
    y = torch.rand(1, 1, 3, 3, generator=torch.Generator().manual_seed(0), dtype=F64)
    h, logdet = logit_transform(y, 0.05)
    assert torch.allclose(logit_inverse(h, 0.05), y)
    assert torch.allclose(logdet[0], autograd_logdet(lambda v: logit_transform(v, 0.05)[0], y))


def test_bits_per_dim_by_hand():
    # a uniform density on [0, 1)^D has log p = 0, so the discrete images cost log2(256) = 8 bits/dim
    assert torch.allclose(discrete_bits_per_dim(torch.zeros(3), 784), torch.full((3,), 8.0))
    # each doubling of the density saves exactly one bit per dimension
    assert math.isclose(float(discrete_bits_per_dim(torch.tensor(784 * math.log(2.0)), 784)), 7.0)


def test_importance_weighted_dequantization_by_hand():
    # two draws with densities 1 and 3: log of their mean is log 2, one bit below the uniform density's 8
    logp = torch.tensor([[0.0], [math.log(3.0)]])
    assert math.isclose(float(importance_weighted_bits_per_dim(logp, 1)), 7.0)
    one = torch.randn(1, 5, dtype=F64)
    assert torch.allclose(importance_weighted_bits_per_dim(one, 784), discrete_bits_per_dim(one[0], 784))
    with pytest.raises(ValueError, match=r"\[K, B\]"):
        importance_weighted_bits_per_dim(torch.zeros(5), 784)


def test_importance_weighting_closes_the_dequantization_gap():
    """p(y) = 2y on [0, 1) (D = 1) gives the bin of x = 0 the probability P = 256^-2 exactly. The uniform bound
    (eq. flow-dequant) misses it by E[-log u] - log 2 = 1 - log 2 nats; K draws (eq. flow-dequant-iw) close the gap."""
    g = torch.Generator().manual_seed(0)
    y = dequantize(torch.zeros(4000, 1, dtype=torch.uint8).expand(4000, 200), g).to(F64)  # [K, images]
    log_p = (2 * y).log()
    exact = 2 * math.log(256) / math.log(2)  # bits of -log2 P(0)
    uniform = discrete_bits_per_dim(log_p, 1).mean().item()
    assert abs(uniform - exact - (1 - math.log(2)) / math.log(2)) < 0.02
    gaps = [(importance_weighted_bits_per_dim(log_p[:k], 1).mean().item() - exact) for k in (1, 10, 4000)]
    assert gaps[0] > gaps[1] > 0 and abs(gaps[2]) < 0.01 < gaps[1]


def test_whole_flow_logdet_matches_autograd_and_inverts():
    flow = perturbed(Flow(TINY), scale=0.1)
    h = torch.randn(1, 1, 4, 4, generator=torch.Generator().manual_seed(2), dtype=F64)
    zs, logdet = flow(h)
    assert torch.allclose(flow.inverse(zs), h, atol=1e-10)
    assert torch.allclose(logdet[0], autograd_logdet(lambda v: torch.cat([z.flatten() for z in flow(v)[0]]), h),
                          atol=1e-8)


def test_untrained_flow_gives_the_standard_normal_its_analytic_log_density():
    """At initialisation the couplings are the identity, actnorm is not yet initialised (identity) and the 1x1
    convolutions are rotations, so the flow preserves volume and norms: log p(h) = log N(h; 0, I)."""
    flow = Flow(FlowConfig()).double().eval()
    h = torch.randn(5, 1, 28, 28, generator=torch.Generator().manual_seed(0), dtype=F64)
    zs, logdet = flow(h)
    log_p = sum(standard_normal_log_prob(z) for z in zs) + logdet
    analytic = -0.5 * (h**2).flatten(1).sum(1) - 784 / 2 * math.log(2 * math.pi)
    assert torch.allclose(log_p, analytic, atol=1e-8)


def test_log_prob_of_images_is_a_normalised_density_change():
    """log p(y) = log p(h) + log |dh/dy|: check the logit term on the whole flow."""
    flow = Flow(TINY).double().eval()
    y = torch.rand(3, 1, 4, 4, generator=torch.Generator().manual_seed(1), dtype=F64)
    h, ld = logit_transform(y, TINY.alpha)
    zs, logdet = flow(h)
    expected = sum(standard_normal_log_prob(z) for z in zs) + logdet + ld
    assert torch.allclose(flow.log_prob(y), expected)


def test_sampling_is_reproducible_and_temperature_zero_decodes_the_zero_latent():
    flow = perturbed(Flow(TINY), scale=0.1).float()
    draw = lambda t, seed: flow.sample(3, t, generator=torch.Generator().manual_seed(seed))  # noqa: E731
    assert torch.equal(draw(1.0, 0), draw(1.0, 0)) and not torch.equal(draw(1.0, 0), draw(1.0, 1))
    zero = flow.decode([torch.zeros(1, *s) for s in flow.latent_shapes()])
    assert torch.allclose(draw(0.0, 5), zero.expand(3, -1, -1, -1))
    s = draw(1.0, 2)
    assert s.shape == (3, 1, 4, 4) and 0 <= s.min() and s.max() <= 1


def test_bad_inputs_raise_clear_errors():
    flow = Flow(TINY)
    with pytest.raises(ValueError, match=r"\[B, 1, 4, 4\]"):
        flow.log_prob(torch.rand(2, 3, 4, 4))
    with pytest.raises(ValueError, match="8-bit"):
        flow.nll_bits_per_dim(torch.rand(2, 1, 4, 4))
    with pytest.raises(ValueError, match="temperature"):
        flow.sample(2, -0.5)
    with pytest.raises(ValueError, match="channels"):
        ActNorm(3)(torch.zeros(1, 2, 2, 2))
    with pytest.raises(ValueError, match="channels"):
        InvertibleConv1x1(4)(torch.zeros(1, 3, 2, 2))
    with pytest.raises(ValueError, match="mask must be one of"):
        AffineCoupling(2, "stripes", 0)
    with pytest.raises(ValueError, match="even number of channels"):
        AffineCoupling(3, "channel", 0)
    with pytest.raises(ValueError, match="divisible by 4"):
        FlowConfig(image_size=30)


def test_dequantized_bits_per_dim_and_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    flow = Flow(TINY).train()
    x = torch.randint(0, 256, (8, 1, 4, 4), dtype=torch.uint8)
    flow.nll_bits_per_dim(x)  # initialises actnorm
    flow.eval()
    y = dequantize(x, torch.Generator().manual_seed(0))
    assert ((y * 256).floor() == x.float()).all()  # the noise stays inside each pixel's bin
    path = export_model(flow, tmp_path / "flow.pt")
    again = load_model(path)
    assert bool(again.scale0[0].initialized)
    assert torch.equal(again.log_prob(y), flow.log_prob(y))


def test_flow_recipe_trains_and_resumes(tmp_path):
    from dgm import get_profile
    from dgm.recipes import FLOW_RUNS, train_flow

    profile = get_profile("smoke")
    model, history = train_flow(profile, "flow_mnist", tmp_path / "flow.pt", device="cpu")
    assert history["step"][-1] == FLOW_RUNS["flow_mnist"].steps["smoke"]
    assert history["loss"][-1] < 8  # already better than storing the pixels raw (8 bits/dim)
    again, history_again = train_flow(profile, "flow_mnist", tmp_path / "flow.pt", device="cpu")
    assert history_again == history
    from dgm.checkpoint import load_checkpoint
    from dgm.recipes import FLOW_SAMPLE_TEMPERATURES, export_flow

    path = export_flow(model, history, profile, "flow_mnist", seed=0, folder=tmp_path)
    record = load_checkpoint(path)
    assert record["history"] == history and record["settings"]["steps"] == history["step"][-1]
    assert sorted(record["samples"], key=float) == [str(t) for t in FLOW_SAMPLE_TEMPERATURES]
    assert all(v.shape == (64, 1, 28, 28) for v in record["samples"].values())
    assert torch.equal(load_model(path).log_prob(torch.full((1, 1, 28, 28), 0.5)), model.log_prob(torch.full((1, 1, 28, 28), 0.5)))
    with pytest.raises(ValueError, match="name must be one of"):
        train_flow(profile, "flow_cifar", tmp_path / "x.pt")


def test_warm_start_copies_the_weights_of_a_checkpoint(tmp_path, monkeypatch):
    import dgm.recipes
    from dgm import get_profile
    from dgm.recipes import FLOW_RUNS, train_flow, warm_start

    small = FlowConfig(steps=(1, 1, 1), hidden=(4, 4, 4), blocks=1)
    source = Flow(small)
    with torch.no_grad():
        for p in source.parameters():
            p.normal_()
    path = export_model(source, tmp_path / "source.pt")
    copy = warm_start(Flow(small), path)
    for k, v in source.state_dict().items():
        assert torch.equal(copy.state_dict()[k], v), k
    with pytest.raises(CheckpointError, match="config"):
        warm_start(Flow(FlowConfig(steps=(1, 1, 1), hidden=(4, 4, 8), blocks=1)), path)
    with pytest.raises(FileNotFoundError, match="checkpoints/README.md"):
        warm_start(Flow(small), tmp_path / "missing.pt")

    # the continued MNIST run starts from checkpoints/<init_from>.pt: here a smoke run exported to tmp_path
    monkeypatch.setattr(dgm.recipes, "CHECKPOINTS_DIR", tmp_path)
    run = FLOW_RUNS["flow_mnist_continued"]
    with pytest.raises(FileNotFoundError, match=f"{run.init_from}.pt is missing"):
        train_flow(get_profile("smoke"), "flow_mnist_continued", device="cpu")
    first, _ = train_flow(get_profile("smoke"), run.init_from, device="cpu")
    export_model(first, tmp_path / f"{run.init_from}.pt")
    second, history = train_flow(get_profile("smoke"), "flow_mnist_continued", device="cpu")
    assert history["step"][-1] == run.steps["smoke"]
    # the third run adds a variational dequantizer to the second's flow and trains both
    assert FLOW_RUNS["flow_mnist_vardeq"].init_from == "flow_mnist_continued"
    export_model(second, tmp_path / "flow_mnist_continued.pt")
    third, history = train_flow(get_profile("smoke"), "flow_mnist_vardeq", device="cpu")
    assert third.dequantizer is not None and history["step"][-1] == FLOW_RUNS["flow_mnist_vardeq"].steps["smoke"]
    assert all(torch.isfinite(torch.tensor(history["loss"])))


# --- variational dequantization (eq. flow-vardeq, eq. flow-vardeq-q) ---

def test_conditional_coupling_inverts_and_its_logdet_ignores_the_condition():
    layer = perturbed(AffineCoupling(1, "checkerboard", 1, hidden=8, blocks=1, cond_channels=3))
    g = torch.Generator().manual_seed(4)
    x, cond = torch.randn(1, 1, 4, 4, generator=g, dtype=F64), torch.randn(1, 3, 4, 4, generator=g, dtype=F64)
    y, logdet = layer(x, cond)
    assert torch.allclose(layer.inverse(y, cond), x, atol=1e-10)
    assert torch.allclose(logdet[0], autograd_logdet(lambda v: layer(v, cond)[0], x), atol=1e-8)
    assert not torch.allclose(layer(x, 2 * cond)[0], y)  # the condition does change the map
    with pytest.raises(ValueError, match=r"cond must be \[B, cond_channels, H, W\] = \[1, 3, 4, 4\], got None"):
        layer(x)
    with pytest.raises(ValueError, match=r"got \[1, 2, 4, 4\]"):
        layer(x, cond[:, :2])
    with pytest.raises(ValueError, match="takes no cond"):
        AffineCoupling(1, "checkerboard", 0)(x.float(), cond.float())
    with pytest.raises(ValueError, match="cond_channels must be an integer >= 0"):
        AffineCoupling(1, "checkerboard", 0, cond_channels=-1)


def test_untrained_variational_dequantizer_is_uniform_dequantization_exactly():
    dequantizer = VariationalDequantizer(DequantizerConfig(hidden=8, features=4))
    x = torch.randint(0, 256, (4000, 1, 2, 2), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    eps = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    u, log_q = dequantizer.noise_to_unit(eps, x)
    assert torch.equal(log_q, torch.zeros(len(x)))  # q = 1 on the unit cube
    assert torch.allclose(u, torch.special.ndtr(eps))  # u = Phi(eps) ~ U(0, 1)
    assert abs(u.mean().item() - 0.5) < 0.01 and abs(u.var().item() - 1 / 12) < 0.003


def test_log_q_of_the_dequantizer_is_its_change_of_variables():
    """eq. flow-vardeq-q: log q(u | x) = log N(eps) - log |det du/deps|, with the Jacobian from autograd."""
    dequantizer = perturbed(VariationalDequantizer(DequantizerConfig(steps=3, hidden=8, features=4)), scale=0.2)
    x = torch.randint(0, 256, (1, 1, 4, 4), generator=torch.Generator().manual_seed(2), dtype=torch.uint8)
    eps = torch.randn(1, 1, 4, 4, generator=torch.Generator().manual_seed(3), dtype=F64)
    u, log_q = dequantizer.noise_to_unit(eps, x)
    assert ((0 < u) & (u < 1)).all()
    expected = standard_normal_log_prob(eps) - autograd_logdet(lambda v: dequantizer.noise_to_unit(v, x)[0], eps)
    assert torch.allclose(log_q, expected, atol=1e-8)


def test_the_variational_bound_is_a_bound_and_importance_weighting_with_q_reaches_log_p():
    """On a tiny flow: log P(x) from 20,000 uniform draws (eq. flow-dequant-iw) lies above the variational bound
    (eq. flow-vardeq), and importance weighting with q as the proposal converges to the same log P(x)."""
    config = FlowConfig(image_size=4, steps=(1, 1, 1), hidden=(4, 4, 4), blocks=1,
                        dequantizer=DequantizerConfig(steps=2, hidden=4, features=2))
    flow = Flow(config)
    flow.dequantizer = perturbed(flow.dequantizer, scale=0.05, seed=1)  # q(u | x) a little away from uniform
    flow = perturbed(flow, scale=0.05)
    x = torch.randint(0, 256, (3, 1, 4, 4), generator=torch.Generator().manual_seed(5), dtype=torch.uint8)
    g = torch.Generator().manual_seed(6)
    k = 20_000
    with torch.no_grad():
        y = (x.to(F64) + torch.rand((k, *x.shape), generator=g, dtype=F64)) / 256  # uniform proposal
        uniform = flow.log_prob(y.flatten(0, 1)).view(k, 3)
        u, log_q = flow.dequantizer.noise_to_unit(torch.randn((k, *x.shape), generator=g, dtype=F64).flatten(0, 1),
                                                  x.repeat(k, 1, 1, 1))
        weights = (flow.log_prob((x.repeat(k, 1, 1, 1).to(F64) + u) / 256) - log_q).view(k, 3)
    log_p = importance_weighted_bits_per_dim(uniform, 16)  # bits/dim of the discrete x, to Monte Carlo error
    bound = discrete_bits_per_dim(weights, 16).mean(0)
    assert (bound > log_p + 0.02).all()  # the variational bound costs more bits: a gap KL(q || p(u | x)) > 0
    assert torch.allclose(importance_weighted_bits_per_dim(weights, 16), log_p, atol=0.01)


def test_flow_with_a_variational_dequantizer_trains_checkpoints_and_warm_starts(tmp_path):
    from dgm.recipes import warm_start

    base = FlowConfig(image_size=4, steps=(1, 1, 1), hidden=(4, 4, 4), blocks=1)
    config = FlowConfig(**{**base.__dict__, "dequantizer": DequantizerConfig(steps=2, hidden=4, features=2)})
    x = torch.randint(0, 256, (8, 1, 4, 4), generator=torch.Generator().manual_seed(7), dtype=torch.uint8)
    flow = perturbed(Flow(config), scale=0.1).float()
    flow.nll_bits_per_dim(x).mean().backward()
    assert all(p.grad is not None for p in flow.dequantizer.parameters())  # the bound trains q by the pathwise gradient
    again = load_model(export_model(flow, tmp_path / "vardeq.pt"))
    assert again.config == config and isinstance(again.config.dequantizer, DequantizerConfig)
    g = lambda: torch.Generator().manual_seed(8)  # noqa: E731
    assert torch.equal(again.nll_bits_per_dim(x, g()), flow.nll_bits_per_dim(x, g()))

    uniform = perturbed(Flow(base), scale=0.1).float()
    path = export_model(uniform, tmp_path / "uniform.pt")
    started = warm_start(Flow(config), path)  # the flow's weights; a fresh dequantizer, which is uniform
    _, log_q = started.sample_dequantization(x, g())
    assert torch.equal(log_q, torch.zeros(8))
    for name, value in uniform.state_dict().items():
        assert torch.equal(started.state_dict()[name], value), name
    with pytest.raises(CheckpointError, match="config"):  # a dequantizer cannot be dropped
        warm_start(Flow(base), export_model(flow, tmp_path / "vardeq.pt"))
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        DequantizerConfig(steps=0)

"""Chapter 2's VAE: reparameterization, ELBO and IWAE bounds, gradient estimators, active units."""

import math

import pytest
import torch

from dgm.checkpoint import export_model, load_model
from dgm.data.transforms import binarize
from dgm.estimators import pathwise_gradients, score_function_gradients
from dgm.models.vae import VAE, VAEConfig, active_units, prepare, vae_loss


def small_vae(decoder="bernoulli", seed=0):
    torch.manual_seed(seed)
    return VAE(VAEConfig(latent_dim=3, hidden=16, decoder=decoder)).eval()


def images(n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 1, 28, 28), generator=g, dtype=torch.uint8)


def test_reparameterized_samples_have_the_right_mean_and_variance():
    mu, logvar = torch.tensor([1.0, -2.0, 0.0]), torch.tensor([0.0, -1.0, 1.5])
    n = 100_000
    z = VAE.reparameterize(mu.expand(n, 3), logvar.expand(n, 3), torch.Generator().manual_seed(0))
    var = logvar.exp()
    se_mean = (var / n).sqrt()
    assert ((z.mean(0) - mu).abs() < 5 * se_mean).all()
    se_var = var * math.sqrt(2 / n)  # the sample variance of a Gaussian has variance 2 sigma^4 / n
    assert ((z.var(0) - var).abs() < 5 * se_var).all()


def test_reparameterization_is_differentiable_in_mean_and_logvar():
    mu, logvar = torch.zeros(2, 3, requires_grad=True), torch.zeros(2, 3, requires_grad=True)
    VAE.reparameterize(mu, logvar).sum().backward()
    assert torch.equal(mu.grad, torch.ones(2, 3)) and logvar.grad.abs().sum() > 0


def iwae_replicates(model, x, k, reps, seed):
    """IWAE_k of one image, drawn independently ``reps`` times: [reps]."""
    return model.iwae(x.expand(reps, -1, -1, -1), k, chunk=64, generator=torch.Generator().manual_seed(seed))


def test_elbo_below_iwae_and_iwae_nondecreasing_in_k():
    model = small_vae()
    x = binarize(images(1), torch.Generator().manual_seed(1))
    reps = 400
    torch.manual_seed(0)
    with torch.no_grad():
        elbo = torch.stack([model.elbo(x.expand(reps, -1, -1, -1))[0] for _ in range(1)]).flatten()
    means, ses = [], []
    for i, k in enumerate((1, 10, 100)):
        b = iwae_replicates(model, x, k, reps, seed=i)
        means.append(b.mean().item())
        ses.append(b.std().item() / math.sqrt(reps))
    se_elbo = elbo.std().item() / math.sqrt(reps)
    # IWAE_1 is an unbiased estimate of the ELBO
    assert abs(means[0] - elbo.mean().item()) < 5 * math.hypot(ses[0], se_elbo)
    # E[IWAE_k] increases with k, by much more than the Monte Carlo error on this untrained model
    for a, b, sa, sb in zip(means, means[1:], ses, ses[1:]):
        assert b - a > 5 * math.hypot(sa, sb), (means, ses)


def test_iwae_is_finite_in_chunks():
    model = small_vae()
    x = binarize(images(3), torch.Generator().manual_seed(2))
    a = model.iwae(x, 50, chunk=7, generator=torch.Generator().manual_seed(5))
    b = model.iwae(x, 50, chunk=50, generator=torch.Generator().manual_seed(5))
    assert a.shape == (3,)
    assert torch.isfinite(a).all() and torch.isfinite(b).all()
    with pytest.raises(ValueError, match="k must be"):
        model.iwae(x, -1)


def test_bad_arguments_raise_clear_errors():
    model = small_vae()
    x = binarize(images(2))
    with pytest.raises(ValueError, match="k must be"):
        model.iwae(x, 0)
    with pytest.raises(ValueError, match="k must be"):
        model.iwae(x, 2.5)
    with pytest.raises(ValueError, match=r"\[B, 1, 28, 28\]"):
        model.encode(torch.zeros(2, 784))
    with pytest.raises(ValueError, match="z must have shape"):
        model.decode(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="decoder"):
        VAEConfig(decoder="gaussian")
    with pytest.raises(ValueError, match="latent_dim"):
        VAEConfig(latent_dim=0)


def test_elbo_terms_and_8bit_decoder():
    for decoder in ("bernoulli", "discretized_gaussian"):
        model = small_vae(decoder)
        x = prepare(model, images(3))
        elbo, rec, kl = model.elbo(x)
        assert elbo.shape == rec.shape == kl.shape == (3,)
        assert (kl >= 0).all() and (rec <= 0).all()  # log of a probability mass; KL is non-negative
        torch.testing.assert_close(elbo, rec - kl)
        elbo2, rec2, kl2 = model.elbo(x, beta=2.0)
        torch.testing.assert_close(kl2, kl)  # the KL is analytic: no sampling noise
        torch.testing.assert_close(elbo2, rec2 - 2.0 * kl)


def test_gradient_estimators_are_unbiased_on_a_quadratic():
    # F = E[sum z^2] = sum(mu^2 + sigma^2): dF/dmu = 2 mu, dF/dlogvar = sigma^2
    mu, logvar = torch.tensor([0.5, -1.0], dtype=torch.float64), torch.tensor([0.0, -0.5], dtype=torch.float64)
    f = lambda z: (z**2).sum(1)
    for estimator in (score_function_gradients, pathwise_gradients):
        gm, gl = estimator(f, mu, logvar, 200_000, torch.Generator().manual_seed(0))
        for g, exact in ((gm, 2 * mu), (gl, logvar.exp())):
            se = g.std(0) / math.sqrt(len(g))
            assert ((g.mean(0) - exact).abs() < 5 * se).all(), (estimator.__name__, g.mean(0), exact)


def test_pathwise_variance_below_score_function_variance_on_a_vae():
    model = small_vae()
    x = binarize(images(1), torch.Generator().manual_seed(3))
    with torch.no_grad():
        mu, logvar = (t[0] for t in model.encode(x))
    f = lambda z: model.log_likelihood(x.expand(len(z), -1, -1, -1), z)
    g = torch.Generator().manual_seed(0)
    sf, _ = score_function_gradients(f, mu, logvar, 2000, g)
    pw, _ = pathwise_gradients(f, mu, logvar, 2000, g)
    assert (pw.var(0) < sf.var(0)).all(), (pw.var(0), sf.var(0))
    # both estimate the same gradient
    assert ((pw.mean(0) - sf.mean(0)).abs() < 5 * (sf.var(0) / 2000).sqrt() + 5 * (pw.var(0) / 2000).sqrt()).all()


def test_active_units():
    g = torch.Generator().manual_seed(0)
    mu = torch.cat([torch.randn(500, 2, generator=g), 1e-3 * torch.randn(500, 3, generator=g)], dim=1)
    count, var = active_units(mu)
    assert count == 2 and var.shape == (5,)
    with pytest.raises(ValueError):
        active_units(torch.zeros(1, 3))


def test_training_step_and_checkpoint_round_trip(tmp_path):
    model = small_vae()
    loss, metrics = vae_loss(model.train(), images(8))
    loss.backward()
    assert torch.isfinite(loss) and set(metrics) == {"reconstruction", "kl"}
    path = export_model(model, tmp_path / "vae.pt")
    loaded = load_model(path, VAE)
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
        torch.testing.assert_close(a, b)


def test_iwae_chunking_gives_the_same_value():
    model, x = small_vae(), binarize(images(16), generator=torch.Generator().manual_seed(0))
    a = model.iwae(x, 64, chunk=64, generator=torch.Generator().manual_seed(5))
    b = model.iwae(x, 64, chunk=64, generator=torch.Generator().manual_seed(5))
    c = model.iwae(x, 64, chunk=10, generator=torch.Generator().manual_seed(5))
    assert a.shape == (16,) and torch.isfinite(a).all() and torch.equal(a, b)  # seeded: reproducible
    assert abs(a.mean().item() - c.mean().item()) < 3.0  # other chunks draw other samples of the same quantity


@pytest.mark.parametrize("kw,match", [({"latent_dim": 0}, "latent_dim"), ({"hidden": 0}, "hidden"),
                                      ({"decoder": "poisson"}, "decoder")])
def test_bad_config(kw, match):
    with pytest.raises(ValueError, match=match):
        VAEConfig(**kw)

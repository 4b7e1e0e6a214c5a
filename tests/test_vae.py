import pytest
import torch

from dgm.data import load_mnist
from dgm.models.vae import VAE, VAEConfig, prepare, vae_loss
from dgm.training import TrainSettings, train


@pytest.fixture(scope="module")
def trained():
    """A small VAE trained briefly on real digits: enough for the bound's inequalities to be sharp."""
    torch.manual_seed(0)
    images, _ = load_mnist("test")
    model = VAE(VAEConfig(latent_dim=2, hidden=64))
    train(model, vae_loss, images[:5000], TrainSettings(steps=400, batch_size=100, lr=3e-3, log_every=50, ckpt_every=400),
          progress=False)
    torch.manual_seed(1)
    return model, prepare(model, images[2000:2016])


def test_shapes_and_decoders():
    for decoder in ("bernoulli", "discretized_gaussian"):
        model = VAE(VAEConfig(latent_dim=3, hidden=16, decoder=decoder))
        x = prepare(model, torch.randint(0, 256, (5, 1, 28, 28), dtype=torch.uint8))
        mu, logvar = model.encode(x)
        assert mu.shape == logvar.shape == (5, 3)
        elbo, rec, kl = model.elbo(x)
        assert elbo.shape == rec.shape == kl.shape == (5,) and (kl >= 0).all()
        assert model.mean_image(mu).shape == (5, 1, 28, 28)


def test_reparameterized_samples_have_the_right_moments():
    mu, logvar = torch.tensor([[1.5, -2.0]]), torch.tensor([[0.4, -1.2]])
    z = VAE.reparameterize(mu.expand(200_000, 2), logvar.expand(200_000, 2), torch.Generator().manual_seed(0))
    se_mean = logvar.exp().sqrt() / 200_000**0.5
    assert ((z.mean(0) - mu[0]).abs() < 5 * se_mean[0]).all()
    assert torch.allclose(z.var(0), logvar[0].exp(), rtol=0.02)


def test_reparameterized_sample_is_differentiable():
    mu, logvar = torch.zeros(1, 2, requires_grad=True), torch.zeros(1, 2, requires_grad=True)
    VAE.reparameterize(mu, logvar).sum().backward()
    assert torch.equal(mu.grad, torch.ones(1, 2)) and logvar.grad.abs().sum() > 0


def test_elbo_below_iwae_and_iwae_increases_with_k(trained):
    model, x = trained
    torch.manual_seed(2)
    with torch.no_grad():
        elbo = torch.stack([model.elbo(x)[0].mean() for _ in range(200)])  # one-sample ELBOs, batch-averaged
    g = torch.Generator().manual_seed(3)
    runs = {k: torch.stack([model.iwae(x, k, generator=g).mean() for _ in range(30)]) for k in (1, 10, 100)}

    def gap(a, b):  # mean difference in units of its standard error
        return (a.mean() - b.mean()) / (a.var() / len(a) + b.var() / len(b)).sqrt()

    assert abs(gap(runs[1], elbo)) < 4  # IWAE_1 is the ELBO in expectation
    assert gap(runs[10], runs[1]) > 4 and gap(runs[100], runs[10]) > 4  # and the bound grows with k


def test_iwae_chunking_gives_the_same_value(trained):
    model, x = trained
    a = model.iwae(x, 64, chunk=64, generator=torch.Generator().manual_seed(5))
    b = model.iwae(x, 64, chunk=10, generator=torch.Generator().manual_seed(5))
    assert a.shape == (16,) and torch.isfinite(a).all()
    assert torch.allclose(a.mean(), b.mean(), atol=3.0)  # different draws, same quantity


def test_pathwise_gradient_has_lower_variance_than_score_function():
    # d/dmu E_{z ~ N(mu, 1)}[z^2] = 2 mu, estimated by 2z (pathwise) and z^2 (z - mu) (score function)
    mu = 1.0
    z = mu + torch.randn(100_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    pathwise, score = 2 * z, z**2 * (z - mu)
    assert abs(pathwise.mean().item() - 2 * mu) < 0.02 and abs(score.mean().item() - 2 * mu) < 0.1  # both unbiased
    assert pathwise.var() * 3 < score.var()


@pytest.mark.parametrize("kw,match", [({"latent_dim": 0}, "latent_dim"), ({"hidden": 0}, "hidden"),
                                      ({"decoder": "poisson"}, "decoder")])
def test_bad_config(kw, match):
    with pytest.raises(ValueError, match=match):
        VAEConfig(**kw)


def test_bad_arguments():
    model = VAE(VAEConfig(latent_dim=2, hidden=8))
    x = torch.zeros(2, 1, 28, 28)
    for k in (0, -3, 2.5):
        with pytest.raises(ValueError, match="k must be an integer >= 1"):
            model.iwae(x, k)
    with pytest.raises(ValueError, match=r"x must have shape \[B, 1, 28, 28\]"):
        model.encode(torch.zeros(2, 784))
    with pytest.raises(ValueError, match=r"z must have shape \[B, 2\]"):
        model.decode(torch.zeros(2, 3))

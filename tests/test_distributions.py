import math

import pytest
import torch

from dgm.distributions import (bernoulli_log_prob, discretized_gaussian_log_prob, gaussian_log_prob, normal_kl,
                               standard_normal_kl)
from dgm.units import bits_per_dim


def monte_carlo_kl(m1, lv1, m2, lv2, n=200_000, seed=0):
    """E_q[log q(z) - log p(z)] with z ~ q, and its standard error."""
    g = torch.Generator().manual_seed(seed)
    z = m1 + torch.exp(0.5 * lv1) * torch.randn((n,) + m1.shape, generator=g, dtype=torch.float64)
    terms = (gaussian_log_prob(z, m1, lv1) - gaussian_log_prob(z, m2, lv2)).sum(-1)
    return terms.mean().item(), terms.std().item() / math.sqrt(n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_general_kl_matches_monte_carlo(seed):
    g = torch.Generator().manual_seed(seed)
    m1, m2 = torch.randn(3, generator=g, dtype=torch.float64), torch.randn(3, generator=g, dtype=torch.float64)
    lv1, lv2 = torch.randn(3, generator=g, dtype=torch.float64), torch.randn(3, generator=g, dtype=torch.float64)
    analytic = normal_kl(m1, lv1, m2, lv2).sum().item()
    estimate, se = monte_carlo_kl(m1, lv1, m2, lv2, seed=seed)
    assert abs(analytic - estimate) < 5 * se, (analytic, estimate, se)


def test_standard_kl_matches_closed_form_and_monte_carlo():
    mu = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    logvar = torch.tensor([-1.0, 0.3, -2.0], dtype=torch.float64)
    closed = 0.5 * (mu**2 + logvar.exp() - logvar - 1)
    assert torch.allclose(standard_normal_kl(mu, logvar), closed)
    estimate, se = monte_carlo_kl(mu, logvar, torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64))
    assert abs(closed.sum().item() - estimate) < 5 * se


def test_kl_properties():
    m, lv = torch.tensor([0.3]), torch.tensor([-0.5])
    assert normal_kl(m, lv, m, lv).item() == pytest.approx(0.0, abs=1e-7)
    a = normal_kl(torch.tensor(0.0), torch.tensor(0.0), torch.tensor(1.0), torch.tensor(-1.0)).item()
    b = normal_kl(torch.tensor(1.0), torch.tensor(-1.0), torch.tensor(0.0), torch.tensor(0.0)).item()
    assert a > 0 and b > 0 and a != pytest.approx(b)  # KL is not symmetric


def test_bad_kl_arguments():
    with pytest.raises(ValueError, match="logvar1 must be finite"):
        normal_kl(torch.zeros(2), torch.tensor([0.0, float("-inf")]), torch.zeros(2), torch.zeros(2))
    with pytest.raises(RuntimeError):
        normal_kl(torch.zeros(2), torch.zeros(3), torch.zeros(2), torch.zeros(2))


def test_gaussian_and_bernoulli_log_probs():
    x, mean, logvar = torch.tensor([0.2, -1.0]), torch.tensor([0.0, 1.0]), torch.tensor([0.5, -0.3])
    expected = torch.distributions.Normal(mean, (0.5 * logvar).exp()).log_prob(x)
    assert torch.allclose(gaussian_log_prob(x, mean, logvar), expected)
    logits = torch.tensor([2.0, -1.0, 0.0])
    xb = torch.tensor([1.0, 0.0, 1.0])
    assert torch.allclose(bernoulli_log_prob(xb, logits), torch.distributions.Bernoulli(logits=logits).log_prob(xb))
    with pytest.raises(ValueError, match="same shape"):
        bernoulli_log_prob(xb, logits[:2])


@pytest.mark.parametrize("mean,log_scale", [(0.0, -3.0), (0.9, -1.0), (-1.2, 0.5), (0.0, -6.0)])
def test_discretized_gaussian_sums_to_one_over_256_bins(mean, log_scale):
    x = torch.arange(256, dtype=torch.float64) * 2 / 255 - 1
    p = discretized_gaussian_log_prob(x, torch.tensor(mean, dtype=torch.float64), torch.tensor(log_scale, dtype=torch.float64)).exp()
    assert p.sum().item() == pytest.approx(1.0, abs=1e-6)
    assert (p >= 0).all()


def test_discretized_gaussian_interior_bin_is_the_cdf_difference():
    x = torch.tensor([2 * 100 / 255 - 1], dtype=torch.float64)
    dist = torch.distributions.Normal(torch.tensor(0.1, dtype=torch.float64), torch.tensor(0.2, dtype=torch.float64))
    expected = (dist.cdf(x + 1 / 255) - dist.cdf(x - 1 / 255)).log()
    got = discretized_gaussian_log_prob(x, torch.tensor(0.1, dtype=torch.float64), torch.tensor(math.log(0.2), dtype=torch.float64))
    assert torch.allclose(got, expected)


def test_discretized_gaussian_rejects_unscaled_pixels():
    with pytest.raises(ValueError, match=r"scaled to \[-1, 1\]"):
        discretized_gaussian_log_prob(torch.tensor([0.0, 255.0]), torch.zeros(2), torch.zeros(2))


def test_bits_per_dim_by_hand():
    # 784 pixels at exactly 1 bit each: -log p = 784 ln 2 nats
    assert bits_per_dim(784 * math.log(2), 784) == pytest.approx(1.0)
    assert bits_per_dim(torch.tensor([3072 * 8 * math.log(2)]), 3072).item() == pytest.approx(8.0)
    with pytest.raises(ValueError, match="num_dims"):
        bits_per_dim(1.0, 0)

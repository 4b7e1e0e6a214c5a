"""The shared Gaussian KL, the log-densities of the decoders, and the bits/dim conversion."""

import math

import pytest
import torch

from dgm.distributions import (bernoulli_log_prob, discretized_gaussian_log_prob, gaussian_log_prob, normal_kl,
                               standard_normal_kl)
from dgm.units import bits_per_dim


def mc_kl(mean1, logvar1, mean2, logvar2, n, seed=0):
    """Monte Carlo KL: mean and standard error of log q(z) - log p(z) over n samples z ~ q."""
    g = torch.Generator().manual_seed(seed)
    z = mean1 + torch.exp(0.5 * logvar1) * torch.randn((n, *mean1.shape), generator=g, dtype=torch.float64)
    terms = (gaussian_log_prob(z, mean1, logvar1) - gaussian_log_prob(z, mean2, logvar2)).sum(-1)  # [n]
    return terms.mean().item(), (terms.std() / math.sqrt(n)).item()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_general_kl_matches_monte_carlo_within_5_standard_errors(seed):
    g = torch.Generator().manual_seed(100 + seed)
    m1, m2 = torch.randn(4, generator=g, dtype=torch.float64), torch.randn(4, generator=g, dtype=torch.float64)
    lv1, lv2 = torch.randn(4, generator=g, dtype=torch.float64) * 0.5, torch.randn(4, generator=g, dtype=torch.float64) * 0.5
    exact = normal_kl(m1, lv1, m2, lv2).sum().item()
    estimate, se = mc_kl(m1, lv1, m2, lv2, 200_000, seed)
    assert abs(estimate - exact) < 5 * se, (exact, estimate, se)


def test_standard_normal_kl_matches_monte_carlo_and_closed_form():
    mean = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    logvar = torch.tensor([0.0, -1.0, 0.7], dtype=torch.float64)
    exact = standard_normal_kl(mean, logvar)
    closed_form = 0.5 * (mean**2 + logvar.exp() - logvar - 1)  # eq. (vae-kl-standard)
    torch.testing.assert_close(exact, closed_form)
    zeros = torch.zeros(3, dtype=torch.float64)
    estimate, se = mc_kl(mean, logvar, zeros, zeros, 200_000)
    assert abs(estimate - exact.sum().item()) < 5 * se


def test_known_cases_zero_for_equal_and_asymmetric():
    m, lv = torch.tensor([0.3, -2.0]), torch.tensor([0.1, -0.5])
    torch.testing.assert_close(normal_kl(m, lv, m, lv), torch.zeros(2))
    # KL(N(0,1) || N(0,4)) = (log 4 + 1/4 - 1) / 2 and KL(N(0,4) || N(0,1)) = (-log 4 + 4 - 1) / 2
    a = normal_kl(torch.tensor(0.0), torch.tensor(0.0), torch.tensor(0.0), torch.tensor(math.log(4.0)))
    b = normal_kl(torch.tensor(0.0), torch.tensor(math.log(4.0)), torch.tensor(0.0), torch.tensor(0.0))
    assert a.item() == pytest.approx((math.log(4) + 0.25 - 1) / 2)
    assert b.item() == pytest.approx((-math.log(4) + 3) / 2)
    assert a.item() != pytest.approx(b.item())
    # a shift of the mean by 1 with unit variances costs 1/2 nat
    assert normal_kl(torch.tensor(1.0), torch.tensor(0.0), torch.tensor(0.0), torch.tensor(0.0)).item() == pytest.approx(0.5)


def test_kl_broadcasts_and_is_nonnegative():
    g = torch.Generator().manual_seed(0)
    kl = normal_kl(torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g), torch.zeros(3), torch.tensor(0.2))
    assert kl.shape == (5, 3) and (kl >= 0).all()


def test_bad_arguments_raise_clear_errors():
    negative_variance = torch.log(torch.tensor(-1.0))  # nan: the log of a negative variance
    with pytest.raises(ValueError, match="variance"):
        normal_kl(torch.zeros(2), negative_variance.expand(2), torch.zeros(2), torch.zeros(2))
    with pytest.raises(ValueError, match="variance"):
        gaussian_log_prob(torch.zeros(2), torch.zeros(2), torch.tensor([0.0, float("nan")]))
    with pytest.raises(ValueError, match="shapes"):
        normal_kl(torch.zeros(3), torch.zeros(4), torch.zeros(3), torch.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        bernoulli_log_prob(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        discretized_gaussian_log_prob(torch.tensor([2.0]), torch.zeros(1), torch.zeros(1))
    with pytest.raises(ValueError, match="num_dims"):
        bits_per_dim(1.0, 0)


def test_gaussian_log_prob_matches_torch():
    x, m, lv = torch.tensor([0.3, -1.0]), torch.tensor([0.0, 0.5]), torch.tensor([0.2, -0.3])
    expected = torch.distributions.Normal(m, torch.exp(0.5 * lv)).log_prob(x)
    torch.testing.assert_close(gaussian_log_prob(x, m, lv), expected)


def test_bernoulli_log_prob_matches_definition():
    logits = torch.tensor([-3.0, 0.0, 2.5, 40.0])
    x = torch.tensor([1.0, 0.0, 1.0, 0.0])
    p = torch.sigmoid(logits.double())
    expected = (x * torch.log(p) + (1 - x) * torch.log1p(-p)).float()
    torch.testing.assert_close(bernoulli_log_prob(x, logits)[:3], expected[:3])
    assert bernoulli_log_prob(x, logits)[3].item() == pytest.approx(-40.0, abs=1e-4)  # stable far in the tail


@pytest.mark.parametrize("mean,log_scale", [(0.0, -2.0), (0.9, -4.0), (-1.0, 0.0), (0.3, -6.0)])
def test_discretized_gaussian_sums_to_one_over_the_256_bins(mean, log_scale):
    x = torch.arange(256, dtype=torch.float64) * 2 / 255 - 1  # the grid 2k/255 - 1
    log_p = discretized_gaussian_log_prob(x, torch.tensor(mean, dtype=torch.float64), torch.tensor(log_scale, dtype=torch.float64))
    assert torch.logsumexp(log_p, 0).exp().item() == pytest.approx(1.0, abs=1e-6)


def test_bits_per_dim_by_hand():
    assert bits_per_dim(784 * math.log(2), 784) == pytest.approx(1.0)
    assert bits_per_dim(100.0, 784) == pytest.approx(100.0 / (784 * 0.6931471805599453))
    torch.testing.assert_close(bits_per_dim(torch.tensor([3072 * math.log(2) * 3.0]), 3072), torch.tensor([3.0]))


def test_discretized_gaussian_interior_bin_is_the_cdf_difference():
    x = torch.tensor([2 * 100 / 255 - 1], dtype=torch.float64)
    dist = torch.distributions.Normal(torch.tensor(0.1, dtype=torch.float64), torch.tensor(0.2, dtype=torch.float64))
    expected = (dist.cdf(x + 1 / 255) - dist.cdf(x - 1 / 255)).log()
    got = discretized_gaussian_log_prob(x, torch.tensor(0.1, dtype=torch.float64), torch.tensor(math.log(0.2), dtype=torch.float64))
    assert torch.allclose(got, expected)


def test_discretized_gaussian_rejects_unscaled_pixels():
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        discretized_gaussian_log_prob(torch.tensor([0.0, 255.0]), torch.zeros(2), torch.zeros(2))

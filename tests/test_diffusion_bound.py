"""Chapter 5: the reverse process, the bound term by term, L_simple and ancestral sampling."""

import math

import pytest
import torch

from dgm.diffusion import (Schedule, bound_terms, eps_weight, l_simple, linear_betas, linear_schedule, mu_from_eps,
                           prior_term, q_posterior_mean_variance, q_sample, sampled_bound, sigma2, term,
                           timestep_strata, x0_from_eps)
from dgm.diffusion.forward import q_step_sample
from dgm.diffusion.reverse import mu_from_output
from dgm.diffusion.sampling import ancestral_sample
from dgm.distributions import discretized_gaussian_log_prob, gaussian_log_prob

F64 = torch.float64


def pixels(shape, seed=0):
    """8-bit pixel values k in 0..255 as x = 2k/255 - 1, float64."""
    k = torch.randint(0, 256, shape, generator=torch.Generator().manual_seed(seed))
    return (2 * k / 255 - 1).to(F64)


def oracle(schedule, x0):
    """The perfect noise predictor for a single known image x0 [1, ...]: eps = (x_t - sqrt(a_t) x0) / sqrt(1 - a_t)."""
    def eps_model(xt, t):
        a = schedule.at(schedule.alpha_bar, t, xt)
        return (xt - a.sqrt() * x0) / (1 - a).sqrt()
    return eps_model


def toy_model(xt, t):
    """A fixed, imperfect noise predictor (no training needed): affine in x_t, with a t-dependent offset."""
    return 0.7 * xt + 0.05 * t.to(xt.dtype).view(-1, *[1] * (xt.dim() - 1)) - 0.1


def test_lt_matches_its_closed_form():
    s = linear_schedule()
    x0 = pixels((3, 1, 4, 4))
    a = s.alpha_bar[-1]
    # KL(N(sqrt(a) x0, 1 - a) || N(0, 1)) per pixel, written out by hand
    by_hand = 0.5 * (a * x0**2 + (1 - a) - 1 - torch.log(1 - a))
    assert torch.allclose(prior_term(s, x0), by_hand.flatten(1).sum(1), rtol=1e-10)
    # the linear schedule leaves almost nothing: ~1e-5 bits/dim
    bpd = prior_term(s, x0) / (16 * math.log(2))
    assert (bpd > 0).all() and (bpd < 1e-4).all()


@pytest.mark.parametrize("t", [2, 10, 500, 1000])
def test_l_t_minus_1_is_the_weighted_eps_error(t):
    s = linear_schedule()
    x0 = pixels((4, 1, 5, 5), seed=t)
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(1), dtype=F64)
    steps = torch.full((4,), t)
    xt = q_sample(s, x0, steps, eps)
    err = ((eps - toy_model(xt, steps)) ** 2).flatten(1).sum(1)
    # with sigma_t^2 = beta_tilde_t the KL is exactly lambda_t ||eps - eps_theta||^2 ...
    got = term(s, toy_model, x0, steps, variance="beta_tilde", eps=eps)
    assert torch.allclose(got, eps_weight(s, "beta_tilde")[t - 1] * err, rtol=1e-9)
    # ... with sigma_t^2 = beta_t a constant (the mismatch of the variances) is added
    b, bt = s.betas[t - 1], s.beta_tilde[t - 1]
    const = 25 * 0.5 * (torch.log(b / bt) + bt / b - 1)
    got = term(s, toy_model, x0, steps, variance="beta", eps=eps)
    assert torch.allclose(got, const + eps_weight(s, "beta")[t - 1] * err, rtol=1e-9)


def test_l0_is_the_discretized_decoder():
    s = linear_schedule()
    x0 = pixels((2, 1, 3, 3))
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(2), dtype=F64)
    one = torch.ones(2, dtype=torch.long)
    x1 = q_sample(s, x0, one, eps)
    mu = mu_from_eps(s, x1, one, toy_model(x1, one))
    expected = -discretized_gaussian_log_prob(x0, mu, 0.5 * sigma2(s)[0].log()).flatten(1).sum(1)
    assert torch.allclose(term(s, toy_model, x0, one, eps=eps), expected)


def test_oracle_makes_every_kl_term_zero_and_the_sampler_return_x0():
    s = linear_schedule()
    x0 = pixels((1, 1, 6, 6), seed=3)
    model = oracle(s, x0)
    steps = torch.tensor([2, 50, 999, 1000])
    kl = term(s, model, x0.expand(4, -1, -1, -1), steps, variance="beta_tilde")
    assert kl.abs().max() < 1e-8
    net = torch.nn.Linear(1, 1)  # only to give the sampler a device
    sample = ancestral_sample(s, lambda x, t: model(x.double(), t).float(), (1, 1, 6, 6), device="cpu",
                              generator=torch.Generator().manual_seed(0), progress=False)
    assert torch.allclose(sample.double(), x0, atol=1e-4)
    del net


def test_sampling_is_reproducible_under_a_seed():
    s = Schedule(linear_betas(20, 1e-3, 0.2))
    run = lambda seed: ancestral_sample(s, toy_model, (2, 1, 4, 4), device="cpu",  # noqa: E731
                                        generator=torch.Generator().manual_seed(seed), progress=False)
    assert torch.equal(run(0), run(0)) and not torch.equal(run(0), run(1))


def test_sum_of_terms_equals_the_bound_computed_on_whole_trajectories():
    """E_q[log q(x_{1:T}|x_0) - log p(x_{0:T})], estimated from whole forward trajectories, equals L_T + sum L_{t-1} + L_0."""
    s = Schedule(linear_betas(6, 0.05, 0.6))
    x0 = pixels((1, 1, 2, 2), seed=4)
    n = 100_000
    g = torch.Generator().manual_seed(0)
    sig2 = sigma2(s, "beta")
    # independent estimate: one log-ratio per whole trajectory x_1, ..., x_T ~ q(. | x_0)
    x_prev = x0.expand(n, -1, -1, -1)
    log_ratio = torch.zeros(n, dtype=F64)
    for t in range(1, s.T + 1):
        steps = torch.full((n,), t)
        xt = q_step_sample(s, x_prev, steps, torch.randn(x_prev.shape, generator=g, dtype=F64))
        log_q = gaussian_log_prob(xt, (1 - s.betas[t - 1]).sqrt() * x_prev, s.betas[t - 1].log())
        mu = mu_from_eps(s, xt, steps, toy_model(xt, steps))
        if t == 1:
            log_p = discretized_gaussian_log_prob(x0.expand(n, -1, -1, -1), mu, 0.5 * sig2[0].log())
        else:
            log_p = gaussian_log_prob(x_prev, mu, sig2[t - 1].log())
        log_ratio += (log_q - log_p).flatten(1).sum(1)
        x_prev = xt
    log_ratio -= gaussian_log_prob(x_prev, torch.zeros(()), torch.zeros(())).flatten(1).sum(1)  # log p(x_T)
    independent, se1 = log_ratio.mean(), log_ratio.std() / math.sqrt(n)
    # the book's decomposition, each term averaged over its own draws of x_t
    terms, prior = bound_terms(s, toy_model, x0.expand(n, -1, -1, -1), generator=torch.Generator().manual_seed(1))
    total = terms.sum(1) + prior
    split, se2 = total.mean(), total.std() / math.sqrt(n)
    assert abs(independent - split) < 5 * math.hypot(se1, se2)
    assert abs(independent - split) < 0.02 * abs(split)


@pytest.mark.parametrize("T,strata", [(1000, 32), (1000, 999), (20, 3), (2, 1)])
def test_timestep_strata_partition_2_to_T(T, strata):
    ranges = timestep_strata(T, strata)
    assert len(ranges) == strata and ranges[0][0] == 2 and ranges[-1][1] == T
    assert all(lo <= hi for lo, hi in ranges)
    assert all(nxt[0] == cur[1] + 1 for cur, nxt in zip(ranges[:-1], ranges[1:]))  # contiguous, no overlap
    with pytest.raises(ValueError, match=r"strata must be an integer in \[1, T - 1\]"):
        timestep_strata(T, T)


def test_sampled_bound_with_one_t_per_stratum_is_the_exact_bound():
    """With the oracle every term is deterministic; with T - 1 strata every t is drawn exactly once."""
    s = Schedule(linear_betas(12, 0.01, 0.3))
    x0 = pixels((1, 1, 3, 3), seed=5)
    terms, prior = bound_terms(s, oracle(s, x0), x0, variance="beta")
    exact = terms.sum(1) + prior
    assert torch.allclose(sampled_bound(s, oracle(s, x0), x0, strata=11), exact, rtol=1e-12)
    fewer = sampled_bound(s, oracle(s, x0), x0.expand(200, -1, -1, -1), strata=3,
                          generator=torch.Generator().manual_seed(0))
    assert fewer.std() > 0  # with 3 strata t is really sampled


@pytest.mark.parametrize("model", ["oracle", "toy"])
def test_sampled_bound_is_unbiased(model):
    """The mean of the stratified estimate (eq. ddpm-bound-strata) over many draws equals the exact sum."""
    s = Schedule(linear_betas(20, 0.01, 0.3))
    x0 = pixels((1, 1, 2, 2), seed=6)
    eps_model = oracle(s, x0) if model == "oracle" else toy_model
    n = 20_000
    estimate = sampled_bound(s, eps_model, x0.expand(n, -1, -1, -1), strata=3, generator=torch.Generator().manual_seed(0))
    terms, prior = bound_terms(s, eps_model, x0.expand(n, -1, -1, -1), generator=torch.Generator().manual_seed(1))
    exact = terms.sum(1) + prior  # for the oracle: the same number in every row
    se = math.hypot(estimate.std() / math.sqrt(n), exact.std() / math.sqrt(n))
    assert abs(estimate.mean() - exact.mean()) < 5 * se
    # not vacuous: the tolerance is under 2% of the sampled part, so a stratum dropped or mis-weighted fails
    assert estimate.std() > 0 and 5 * se < 0.02 * terms[:, 1:].sum(1).mean()


def test_l_simple_is_zero_for_the_quantity_each_parametrization_predicts():
    s = linear_schedule()
    x0 = pixels((1, 1, 4, 4), seed=5)
    torch.manual_seed(0)
    assert l_simple(s, oracle(s, x0), x0).item() < 1e-12
    torch.manual_seed(0)
    assert l_simple(s, lambda xt, t: x0.expand_as(xt), x0, parametrization="x0").item() == 0.0


def test_parametrizations_agree_when_they_describe_the_same_mean():
    s = linear_schedule()
    x0 = pixels((3, 1, 4, 4), seed=6)
    steps = torch.tensor([2, 300, 900])
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(3), dtype=F64)
    xt = q_sample(s, x0, steps, eps)
    mu_eps = mu_from_output(s, eps, xt, steps, "eps")
    mu_x0 = mu_from_output(s, x0_from_eps(s, xt, steps, eps), xt, steps, "x0")
    mu_tilde = q_posterior_mean_variance(s, x0, xt, steps)[0]
    assert torch.allclose(mu_eps, mu_tilde) and torch.allclose(mu_x0, mu_tilde)


def test_eps_weight_shape_and_the_weights_l_simple_drops():
    s = linear_schedule()
    w = eps_weight(s)
    assert w.shape == (1000,) and (w > 0).all()
    assert w[1] > 10 * w[-1]  # L_simple gives small t relatively less weight than the bound does


def test_bad_arguments_raise_clear_errors():
    s = linear_schedule()
    x0 = pixels((2, 1, 4, 4))
    with pytest.raises(ValueError, match=r"t must lie in \[1, 1000\]"):
        term(s, toy_model, x0, torch.tensor([0, 5]))
    with pytest.raises(ValueError, match=r"t must lie in \[1, 1000\]"):
        term(s, toy_model, x0, torch.tensor([1001, 5]))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        term(s, toy_model, x0 * 255, torch.tensor([3, 5]))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        prior_term(s, x0 + 2)
    with pytest.raises(ValueError, match="kind must be one of"):
        sigma2(s, "learned")
    with pytest.raises(ValueError, match="parametrization must be one of"):
        term(s, toy_model, x0, torch.tensor([3, 5]), parametrization="v")
    with pytest.raises(ValueError, match="parametrization must be one of"):
        l_simple(s, toy_model, x0, parametrization="score")
    with pytest.raises(ValueError, match="non-decreasing"):
        Schedule(torch.tensor([0.1, 0.05], dtype=F64))
    with pytest.raises(ValueError, match=r"lie in \(0, 1\)"):
        Schedule(torch.tensor([0.1, 1.0], dtype=F64))

import math

import pytest
import torch

from dgm.diffusion import (Schedule, cosine_betas, cosine_schedule, linear_betas, linear_schedule, q_mean_variance,
                           q_posterior_mean_variance, q_sample, q_step_sample)
from dgm.diffusion.forward import check_images
from dgm.stats import ks_two_sample


def test_linear_schedule_matches_ho_et_al():
    s = linear_schedule()
    assert s.T == 1000 and s.betas[0].item() == pytest.approx(1e-4) and s.betas[-1].item() == pytest.approx(0.02)
    assert s.betas.dtype == torch.float64
    assert torch.allclose(s.alpha_bar, torch.cumprod(1 - s.betas, 0))
    assert s.alpha_bar_prev[0] == 1 and torch.equal(s.alpha_bar_prev[1:], s.alpha_bar[:-1])
    assert s.beta_tilde[0] == 0 and (s.beta_tilde[1:] < s.betas[1:]).all()


def test_cosine_schedule_has_the_defining_alpha_bar():
    T, s_ = 1000, 0.008
    sched = cosine_schedule(T)
    t = torch.arange(1, T + 1, dtype=torch.float64)
    f = lambda u: torch.cos((u / T + s_) / (1 + s_) * math.pi / 2) ** 2
    target = f(t) / f(torch.zeros(1, dtype=torch.float64))
    unclipped = sched.betas < 0.999
    assert torch.allclose(sched.alpha_bar[:950], target[:950], rtol=1e-10)
    assert unclipped[:950].all() and sched.betas.max() <= 0.999


@pytest.mark.parametrize("betas,match", [
    (torch.tensor([0.1, 0.05]), "non-decreasing.*beta_2"),
    (torch.tensor([0.0, 0.1]), r"in \(0, 1\)"),
    (torch.tensor([0.5, 1.0]), r"in \(0, 1\)"),
    (torch.zeros(0), "at least one entry"),
])
def test_bad_schedules_are_refused(betas, match):
    with pytest.raises(ValueError, match=match):
        Schedule(betas)


def test_steps_outside_1_to_T_are_refused():
    s = linear_schedule(10)
    x = torch.zeros(2, 3)
    for bad in ([0, 1], [5, 11]):
        with pytest.raises(ValueError, match=r"t must lie in \[1, 10\]"):
            q_sample(s, x, torch.tensor(bad))
    with pytest.raises(ValueError, match="integers"):
        q_sample(s, x, torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="T must be an integer"):
        linear_betas(0)
    with pytest.raises(ValueError, match="T must be an integer"):
        cosine_betas(-1)


def test_images_outside_minus_one_one_are_refused():
    with pytest.raises(ValueError, match=r"scaled to \[-1, 1\]"):
        check_images(torch.tensor([0.0, 255.0]))
    assert check_images(torch.tensor([-1.0, 1.0])) is not None


@pytest.mark.parametrize("t", [1, 30, 200])
def test_iterated_kernel_equals_closed_form(t):
    s = linear_schedule(200)
    n = 20_000
    x0 = torch.tensor([1.0, -1.0, 0.3], dtype=torch.float64).expand(n, 3)
    g = torch.Generator().manual_seed(t)
    x = x0.clone()
    for step in range(1, t + 1):
        x = q_step_sample(s, x, torch.full((n,), step), eps=torch.randn(x.shape, generator=g, dtype=x.dtype))
    mean, var = q_mean_variance(s, x0[:1], torch.tensor([t]))
    assert (((x.mean(0) - mean[0]) / (var[0] / n).sqrt()).abs() < 4.5).all()
    assert (((x.var(0) - var[0]) / (var[0] * (2 / n) ** 0.5)).abs() < 4.5).all()
    direct = q_sample(s, x0, torch.full((n,), t), eps=torch.randn(x.shape, generator=g, dtype=x.dtype))
    assert ks_two_sample(x[:, 0], direct[:, 0])[1] > 1e-3


def test_a_wrong_closed_form_would_be_caught():
    # the same check must fail for a schedule whose closed form is applied with the wrong t
    s = linear_schedule(200)
    n = 20_000
    x0 = torch.ones(n, 1, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    x = x0.clone()
    for step in range(1, 101):
        x = q_step_sample(s, x, torch.full((n,), step), eps=torch.randn(x.shape, generator=g, dtype=x.dtype))
    mean, var = q_mean_variance(s, x0[:1], torch.tensor([90]))
    assert (((x.mean(0) - mean[0]) / (var[0] / n).sqrt()).abs() > 4.5).any()


def test_posterior_matches_bayes_rule_on_a_grid():
    """q(x_{t-1} | x_t, x_0) ∝ q(x_t | x_{t-1}) q(x_{t-1} | x_0), computed numerically on a 1-D grid."""
    s = linear_schedule(100)
    grid = torch.linspace(-6, 6, 200_001, dtype=torch.float64)
    dx = grid[1] - grid[0]
    x0, xt = torch.tensor([0.7], dtype=torch.float64), torch.tensor([-0.4], dtype=torch.float64)
    for t in (2, 10, 60, 100):
        a_t, a_bar_prev = s.alphas[t - 1], s.alpha_bar_prev[t - 1]
        log_lik = -0.5 * (xt - a_t.sqrt() * grid) ** 2 / (1 - a_t)  # log q(x_t | x_{t-1} = grid)
        log_prior = -0.5 * (grid - a_bar_prev.sqrt() * x0) ** 2 / (1 - a_bar_prev)  # log q(x_{t-1} = grid | x_0)
        w = torch.exp(log_lik + log_prior - (log_lik + log_prior).max())
        w = w / (w.sum() * dx)
        mean_num = (grid * w).sum() * dx
        var_num = ((grid - mean_num) ** 2 * w).sum() * dx
        mean, var = q_posterior_mean_variance(s, x0.view(1, 1), xt.view(1, 1), torch.tensor([t]))
        assert mean.item() == pytest.approx(mean_num.item(), abs=1e-6)
        assert var.item() == pytest.approx(var_num.item(), rel=1e-4)


def test_posterior_at_t1_is_x0_and_shapes_are_checked():
    s = linear_schedule(10)
    x0, xt = torch.rand(3, 1, 2, 2), torch.rand(3, 1, 2, 2)
    mean, var = q_posterior_mean_variance(s, x0, xt, torch.tensor([1, 1, 1]))
    assert torch.allclose(mean, x0) and (var == 0).all()
    with pytest.raises(ValueError, match="same shape"):
        q_posterior_mean_variance(s, x0, xt[:2], torch.tensor([1, 1, 1]))


def test_forward_frame_is_a_figure():
    import matplotlib

    matplotlib.use("Agg")
    from dgm.diffusion.figures import forward_process_frame

    x0 = torch.rand(4, 1, 28, 28) * 2 - 1
    fig = forward_process_frame(x0, torch.randn_like(x0), 10, {"linear": linear_schedule(), "cosine": cosine_schedule()})
    assert len(fig.axes) == 4
    matplotlib.pyplot.close(fig)


def test_ks_two_sample_detects_a_shift():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(3000, generator=g), torch.randn(3000, generator=g)
    assert ks_two_sample(a, b)[1] > 0.01
    assert ks_two_sample(a, b + 0.2)[1] < 1e-6
    with pytest.raises(ValueError, match="at least 2"):
        ks_two_sample(a[:1], b)

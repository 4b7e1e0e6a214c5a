"""Chapter 6: the reverse process run from any x_t, with the model's guess of x_0 recorded along the way."""

import pytest
import torch

from dgm.diffusion import Schedule, linear_betas, linear_schedule, q_posterior_mean_variance, q_sample
from dgm.diffusion.reverse import PARAMETRIZATIONS, mu_from_output, x0_from_output
from dgm.diffusion.sampling import ancestral_sample, reverse_process

from test_diffusion_bound import oracle, pixels, toy_model

F64 = torch.float64


@pytest.mark.parametrize("parametrization", PARAMETRIZATIONS)
def test_x0_guess_inverts_each_parametrization(parametrization):
    s = linear_schedule()
    x0 = pixels((3, 1, 4, 4), seed=1)
    steps = torch.tensor([2, 400, 1000])
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(0), dtype=F64)
    xt = q_sample(s, x0, steps, eps)
    output = {"eps": eps, "x0": x0, "mu": q_posterior_mean_variance(s, x0, xt, steps)[0]}[parametrization]
    assert torch.allclose(x0_from_output(s, output, xt, steps, parametrization), x0, atol=1e-6)
    # and the guess is consistent with the mean the sampler uses
    mu = mu_from_output(s, output, xt, steps, parametrization)
    assert torch.allclose(mu, q_posterior_mean_variance(s, x0, xt, steps)[0], atol=1e-8)


def test_oracle_guesses_x0_at_every_recorded_step():
    s = linear_schedule()
    x0 = pixels((1, 1, 5, 5), seed=4)
    xT = torch.randn(x0.shape, generator=torch.Generator().manual_seed(1), dtype=F64)
    out, frames = reverse_process(s, oracle(s, x0), xT, s.T, generator=torch.Generator().manual_seed(2),
                                  record=(1000, 500, 10, 1, 0), progress=False)
    assert sorted(frames) == [0, 1, 10, 500, 1000]
    assert torch.equal(frames[1000][0], xT)
    for t, (xt, guess) in frames.items():
        assert torch.allclose(guess, x0, atol=1e-6), t
    assert torch.allclose(out, x0, atol=1e-6)


def test_full_reverse_process_is_algorithm_2_under_the_same_seed():
    s = Schedule(linear_betas(30, 1e-3, 0.2))
    g = lambda: torch.Generator().manual_seed(7)  # noqa: E731
    sample = ancestral_sample(s, toy_model, (2, 1, 4, 4), device="cpu", generator=g(), progress=False)
    gen = g()
    xT = torch.randn((2, 1, 4, 4), generator=gen)
    again, _ = reverse_process(s, toy_model, xT, s.T, generator=gen, progress=False)
    assert torch.equal(sample, again)


def test_starting_from_an_intermediate_step_runs_only_the_remaining_steps():
    s = Schedule(linear_betas(30, 1e-3, 0.2))
    calls = []

    def model(x, t):
        calls.append(int(t[0]))
        return toy_model(x, t)

    xt = torch.randn(3, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    out, frames = reverse_process(s, model, xt, 12, generator=torch.Generator().manual_seed(1), record=(12, 5),
                                  progress=False)
    assert calls == list(range(12, 0, -1)) and out.shape == xt.shape
    assert torch.equal(frames[12][0], xt)
    # branches from the same x_t with different noise differ; with the same noise they agree
    again, _ = reverse_process(s, toy_model, xt, 12, generator=torch.Generator().manual_seed(1), progress=False)
    other, _ = reverse_process(s, toy_model, xt, 12, generator=torch.Generator().manual_seed(2), progress=False)
    assert torch.equal(out, again) and not torch.equal(out, other)


def test_bad_arguments_raise_clear_errors():
    s = Schedule(linear_betas(10, 1e-3, 0.2))
    x = torch.zeros(1, 1, 2, 2)
    with pytest.raises(ValueError, match="t_start"):
        reverse_process(s, toy_model, x, 11)
    with pytest.raises(ValueError, match="t_start"):
        reverse_process(s, toy_model, x, 0)
    with pytest.raises(ValueError, match="record"):
        reverse_process(s, toy_model, x, 5, record=(6,))
    with pytest.raises(ValueError, match="parametrization"):
        x0_from_output(s, x, x, torch.tensor([2]), "v")

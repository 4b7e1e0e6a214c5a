import random

import numpy as np
import pytest
import torch

import dgm
from dgm.profiles import PROFILES


def test_profile_by_name_and_environment(monkeypatch):
    assert dgm.get_profile("cpu").name == "cpu"
    monkeypatch.setenv("DGM_PROFILE", "gpu")
    assert dgm.get_profile().name == "gpu"
    monkeypatch.delenv("DGM_PROFILE")
    assert dgm.get_profile().name == ("gpu" if torch.cuda.is_available() else "cpu")


def test_invalid_profile_lists_the_allowed_names(monkeypatch):
    with pytest.raises(ValueError, match=r"\['cpu', 'gpu', 'smoke'\].*'large'"):
        dgm.get_profile("large")
    monkeypatch.setenv("DGM_PROFILE", "fast")
    with pytest.raises(ValueError, match="DGM_PROFILE"):
        dgm.get_profile()


def test_pick_and_budgets():
    assert [PROFILES[n].pick(smoke=1, cpu=2, gpu=3) for n in ("smoke", "cpu", "gpu")] == [1, 2, 3]
    assert PROFILES["smoke"].max_train_examples < 60_000
    assert PROFILES["cpu"].max_train_examples is None  # the full training set


def test_seed_everything_makes_all_generators_repeat():
    def draw():
        return random.random(), float(np.random.rand()), torch.rand(3).tolist()

    dgm.seed_everything(123)
    first = draw()
    dgm.seed_everything(123)
    assert draw() == first
    dgm.seed_everything(124)
    assert draw() != first


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, True, "0"])
def test_bad_seeds(seed):
    with pytest.raises(ValueError, match="seed must be an integer"):
        dgm.seed_everything(seed)


def test_device_choice(monkeypatch):
    monkeypatch.delenv("DGM_DEVICE", raising=False)
    assert dgm.get_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert dgm.get_device("cpu").type == "cpu"
    monkeypatch.setenv("DGM_DEVICE", "cpu")
    assert dgm.get_device().type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised when CUDA is missing")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        dgm.get_device("cuda")

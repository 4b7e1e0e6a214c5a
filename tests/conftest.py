"""Shared fixtures: the tests run in the smoke profile, on the CPU, with a fixed seed."""

import pytest

import dgm


@pytest.fixture(autouse=True)
def _smoke_profile(monkeypatch):
    monkeypatch.setenv("DGM_PROFILE", "smoke")
    dgm.seed_everything(0)

import os

import pytest
import torch

from dgm.checkpoint import CheckpointError, export_model, load_checkpoint, load_model, save_checkpoint
from dgm.models import AutoencoderConfig, ConvAutoencoder


def test_save_is_atomic_and_loads_safely(tmp_path):
    path = save_checkpoint({"w": torch.ones(3), "step": 7, "name": "x", "h": {"loss": [1.0, 0.5]}}, tmp_path / "a" / "c.pt")
    assert sorted(os.listdir(path.parent)) == ["c.pt"]  # no temporary file left behind
    assert torch.load(path, weights_only=True)["step"] == 7
    assert load_checkpoint(path)["h"]["loss"] == [1.0, 0.5]


def test_overwrite_replaces_whole_file(tmp_path):
    path = tmp_path / "c.pt"
    save_checkpoint({"v": torch.zeros(1000)}, path)
    save_checkpoint({"v": torch.ones(2)}, path)
    assert load_checkpoint(path)["v"].tolist() == [1.0, 1.0]


class Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickled_code_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"x": Evil()}, path)
    with pytest.raises(CheckpointError, match="cannot be read safely"):
        load_checkpoint(path)


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "none.pt")


def test_export_and_load_model_round_trip(tmp_path):
    model = ConvAutoencoder(AutoencoderConfig(latent_dim=3, hidden=16)).eval()
    path = export_model(model, tmp_path / "ae.pt", note="test")
    again = load_model(path, ConvAutoencoder)
    assert again.config == model.config
    x = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(model(x), again(x))
    assert load_checkpoint(path)["note"] == "test"


def test_wrong_class_unknown_field_and_bad_weights(tmp_path):
    model = ConvAutoencoder(AutoencoderConfig(latent_dim=3, hidden=16))
    path = export_model(model, tmp_path / "ae.pt")
    ckpt = load_checkpoint(path)

    save_checkpoint({**ckpt, "model_class": "Unknown"}, tmp_path / "a.pt")
    with pytest.raises(CheckpointError, match="unknown model class 'Unknown'"):
        load_model(tmp_path / "a.pt")

    class Other(torch.nn.Module):
        pass

    with pytest.raises(CheckpointError, match="holds a ConvAutoencoder, not a Other"):
        load_model(path, Other)

    save_checkpoint({**ckpt, "model_config": {**ckpt["model_config"], "depth": 9}}, tmp_path / "b.pt")
    with pytest.raises(CheckpointError, match=r"config fields \['depth'\] are unknown to AutoencoderConfig"):
        load_model(tmp_path / "b.pt")

    save_checkpoint({**ckpt, "model_config": {**ckpt["model_config"], "hidden": 32}}, tmp_path / "c.pt")
    with pytest.raises(CheckpointError, match="weights do not fit ConvAutoencoder"):
        load_model(tmp_path / "c.pt")


def test_committed_checkpoints_load():
    from dgm.paths import CHECKPOINTS_DIR

    for d in (2, 32):
        model = load_model(CHECKPOINTS_DIR / f"autoencoder_mnist_z{d}.pt", ConvAutoencoder)
        assert model.config.latent_dim == d and not model.training

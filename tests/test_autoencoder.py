import pytest
import torch

from dgm.data import load_mnist, to_unit_interval
from dgm.models.autoencoder import AutoencoderConfig, ConvAutoencoder, autoencoder_loss, reconstruction_error
from dgm.training import TrainSettings, train


@pytest.mark.parametrize("d", [2, 32])
def test_shapes_and_range(d):
    model = ConvAutoencoder(AutoencoderConfig(latent_dim=d))
    x = torch.rand(5, 1, 28, 28)
    z = model.encode(x)
    assert z.shape == (5, d)
    x_hat = model.decode(z)
    assert x_hat.shape == x.shape and 0 < x_hat.min() and x_hat.max() < 1
    assert reconstruction_error(model, x).shape == (5,)


def test_reconstruction_error_is_the_squared_distance():
    model = ConvAutoencoder(AutoencoderConfig(latent_dim=2))
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        expected = torch.stack([((model(x[i : i + 1]) - x[i : i + 1]) ** 2).sum() for i in range(3)])
        assert torch.allclose(reconstruction_error(model, x), expected)


def test_wrong_shapes_are_named():
    model = ConvAutoencoder(AutoencoderConfig(latent_dim=2))
    with pytest.raises(ValueError, match=r"x must have shape \[B, 1, 28, 28\], got \[4, 28, 28\]"):
        model.encode(torch.rand(4, 28, 28))
    with pytest.raises(ValueError, match=r"z must have shape \[B, 2\], got \[4, 3\]"):
        model.decode(torch.rand(4, 3))


@pytest.mark.parametrize("kw,match", [({"latent_dim": 0}, "latent_dim"), ({"channels": (8,)}, "channels"),
                                      ({"hidden": 0}, "hidden")])
def test_bad_config(kw, match):
    with pytest.raises(ValueError, match=match):
        AutoencoderConfig(**kw)


def test_loss_rejects_float_images():
    with pytest.raises(ValueError, match="uint8"):
        autoencoder_loss(ConvAutoencoder(), torch.rand(2, 1, 28, 28))


def test_overfits_a_batch_of_real_digits():
    images, _ = load_mnist("test")
    batch = images[:64]
    model = ConvAutoencoder(AutoencoderConfig(latent_dim=16))
    before = autoencoder_loss(model, batch).item()
    history = train(model, autoencoder_loss, batch, TrainSettings(steps=250, batch_size=64, lr=2e-3, log_every=10, ckpt_every=250),
                    progress=False)
    with torch.no_grad():
        after = reconstruction_error(model, to_unit_interval(batch)).mean().item()
    assert history["loss"][-1] < history["loss"][0]
    assert after < 0.3 * before, (before, after)

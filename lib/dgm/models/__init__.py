"""The models of the book, one module per model, and the registry checkpoints are rebuilt from."""

from dgm.flows.model import Flow, FlowConfig
from dgm.models.autoencoder import AutoencoderConfig, ConvAutoencoder
from dgm.models.unet import UNet, UNetConfig
from dgm.models.vae import VAE, VAEConfig

# Class name -> class, for dgm.checkpoint.load_model. Each class has a `Config` dataclass.
MODELS = {"ConvAutoencoder": ConvAutoencoder, "VAE": VAE, "UNet": UNet, "Flow": Flow}

__all__ = ["AutoencoderConfig", "ConvAutoencoder", "VAE", "VAEConfig", "UNet", "UNetConfig", "Flow", "FlowConfig", "MODELS"]

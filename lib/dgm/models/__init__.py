"""The models of the book, one module per model, and the registry checkpoints are rebuilt from."""

from dgm.models.autoencoder import AutoencoderConfig, ConvAutoencoder

# Class name -> class, for dgm.checkpoint.load_model. Each class has a `Config` dataclass.
MODELS = {"ConvAutoencoder": ConvAutoencoder}

__all__ = ["AutoencoderConfig", "ConvAutoencoder", "MODELS"]

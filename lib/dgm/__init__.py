"""dgm: the shared library of *From Autoencoders to Diffusion*.

Every notebook, test, script and benchmark of the book imports this one package, so
the equations in the text and the code that trains the models are the same code.

Modules (one concept each):

- ``dgm.profiles``   run size: ``smoke`` (seconds, CI), ``cpu`` (a laptop), ``gpu`` (full training)
- ``dgm.runtime``    seeding and device choice
- ``dgm.data``       real datasets (MNIST, CIFAR-10): download, checksum, parse
- ``dgm.training``   the one training loop (progress bar, checkpoints, resume)
- ``dgm.checkpoint`` atomic save/load of checkpoints, loaded with ``weights_only=True``
- ``dgm.results``    headline numbers written to ``results/*.json`` with their provenance
- ``dgm.models``     the models of the book, one module per model
- ``dgm.plotting``   image grids and figures
- ``dgm.widgets``    sliders that also work in the static HTML book
"""

__version__ = "0.1.0"

from dgm.profiles import Profile, get_profile  # noqa: E402
from dgm.runtime import get_device, seed_everything  # noqa: E402

__all__ = ["Profile", "get_profile", "get_device", "seed_everything", "__version__"]

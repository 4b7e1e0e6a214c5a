"""Sliders that work both with a live kernel and in the static HTML book.

A static page has no Python behind it, so a slider there cannot call a function. What
does work is to compute every frame in advance and let the browser switch between them:
an ``IntSlider`` is linked on the JavaScript side (``jslink``) to the ``selected_index``
of a ``Stack`` of ``Image`` widgets. The widget state is saved in the notebook when it
is executed, and the HTML book replays it.
"""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np


def png_bytes(array: np.ndarray, scale: int = 4) -> bytes:
    """Encode a grey-level [H, W] or colour [H, W, 3] float array in [0, 1] as PNG, enlarged ``scale`` times."""
    import matplotlib.image

    a = np.clip(np.asarray(array, dtype=np.float32), 0, 1)
    a = a.repeat(scale, axis=0).repeat(scale, axis=1)
    buf = io.BytesIO()
    matplotlib.image.imsave(buf, a, cmap="gray" if a.ndim == 2 else None, vmin=0, vmax=1, format="png")
    return buf.getvalue()


def figure_png(fig, dpi: int = 80) -> bytes:
    """Render a matplotlib figure to PNG bytes (and close it, so it is not displayed twice)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def frame_slider(frames: Sequence[bytes], description: str = "frame", labels: Sequence[str] | None = None, width: str = "auto"):
    """A slider over precomputed PNG frames that also works without a kernel.

    Args:
        frames: PNG images (e.g. from :func:`png_bytes` or :func:`figure_png`), one per slider position.
        description: the slider's label.
        labels: optional caption per frame, shown under the image (switched by the same slider).
        width: CSS width of the images.

    Returns:
        an ``ipywidgets.VBox`` holding the slider and the frames.
    """
    import ipywidgets as widgets

    if len(frames) < 2:
        raise ValueError(f"frames must hold at least 2 images, got {len(frames)}")
    if labels is not None and len(labels) != len(frames):
        raise ValueError(f"labels must have one entry per frame ({len(frames)}), got {len(labels)}")
    slider = widgets.IntSlider(value=0, min=0, max=len(frames) - 1, step=1, description=description,
                               continuous_update=True, readout=True)
    images = widgets.Stack([widgets.Image(value=f, format="png", layout=widgets.Layout(width=width)) for f in frames],
                           selected_index=0)
    widgets.jslink((slider, "value"), (images, "selected_index"))
    children = [slider, images]
    if labels is not None:
        captions = widgets.Stack([widgets.HTML(value=f"<small>{text}</small>") for text in labels], selected_index=0)
        widgets.jslink((slider, "value"), (captions, "selected_index"))
        children.append(captions)
    return widgets.VBox(children)

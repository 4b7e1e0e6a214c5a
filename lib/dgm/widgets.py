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


def _index_slider(n: int, description: str):
    """An integer slider over the indices 0..n-1 of a ``Stack`` (to be ``jslink``-ed to its ``selected_index``)."""
    import ipywidgets as widgets

    return widgets.IntSlider(value=0, min=0, max=n - 1, step=1, description=description, continuous_update=True,
                             readout=True)


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
    slider = _index_slider(len(frames), description)
    images = widgets.Stack([widgets.Image(value=f, format="png", layout=widgets.Layout(width=width)) for f in frames],
                           selected_index=0)
    widgets.jslink((slider, "value"), (images, "selected_index"))
    children = [slider, images]
    if labels is not None:
        captions = widgets.Stack([widgets.HTML(value=f"<small>{text}</small>") for text in labels], selected_index=0)
        widgets.jslink((slider, "value"), (captions, "selected_index"))
        children.append(captions)
    return widgets.VBox(children)


def frame_pad(frames: Sequence[Sequence[bytes]], descriptions: tuple[str, str] = ("row", "column"),
              labels: Sequence[Sequence[str]] | None = None, width: str = "auto"):
    """Two sliders over a 2-D table of precomputed PNG frames (``frames[i][j]``), working without a kernel.

    The first slider picks the row ``i``: it is ``jslink``-ed to the ``selected_index`` of an outer
    ``Stack`` whose children are one inner ``Stack`` of images per row. The second slider picks the
    column ``j``: it is ``jslink``-ed to the ``selected_index`` of every inner ``Stack``. Both links
    run in the browser, so the page needs no Python (unlike ``observe`` callbacks or ``Play``).

    Args:
        frames: rows of PNG images, all rows of the same length (at least 2 x 2).
        descriptions: the labels of the row slider and the column slider.
        labels: optional caption per frame, same layout as ``frames``.
        width: CSS width of the images.

    Returns:
        an ``ipywidgets.VBox`` holding the two sliders and the frames.
    """
    import ipywidgets as widgets

    rows = [list(r) for r in frames]
    if len(rows) < 2 or len(rows[0]) < 2 or any(len(r) != len(rows[0]) for r in rows):
        raise ValueError("frames must be a rectangular table of at least 2 x 2 images, got row lengths "
                         f"{[len(r) for r in rows]}")
    if labels is not None and [len(r) for r in labels] != [len(r) for r in rows]:
        raise ValueError("labels must have the same layout as frames")
    n_rows, n_cols = len(rows), len(rows[0])

    s_row, s_col = _index_slider(n_rows, descriptions[0]), _index_slider(n_cols, descriptions[1])

    def table(make):
        inner = [widgets.Stack([make(i, j) for j in range(n_cols)], selected_index=0) for i in range(n_rows)]
        outer = widgets.Stack(inner, selected_index=0)
        widgets.jslink((s_row, "value"), (outer, "selected_index"))
        for stack in inner:
            widgets.jslink((s_col, "value"), (stack, "selected_index"))
        return outer

    children = [s_row, s_col,
                table(lambda i, j: widgets.Image(value=rows[i][j], format="png", layout=widgets.Layout(width=width)))]
    if labels is not None:
        children.append(table(lambda i, j: widgets.HTML(value=f"<small>{labels[i][j]}</small>")))
    return widgets.VBox(children)

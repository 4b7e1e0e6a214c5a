import numpy as np
import pytest
import torch

from dgm.plotting import image_grid
from dgm.widgets import frame_slider, png_bytes


def test_image_grid_places_images_row_by_row():
    images = torch.zeros(5, 1, 2, 3)
    images[4] = 1.0  # the fifth image is white
    grid = image_grid(images, nrow=2, pad=1, pad_value=0.5)
    assert grid.shape == (3 * 3 + 1, 2 * 4 + 1)
    assert (grid[7:9, 1:4] == 1.0).all()  # row 2, column 0
    assert (grid[7:9, 5:8] == 0.5).all()  # the empty sixth slot keeps the padding value
    with pytest.raises(ValueError, match=r"\[B, C, H, W\]"):
        image_grid(torch.zeros(2, 3, 3))


def test_png_bytes_is_a_png_of_the_right_size():
    import matplotlib.image

    data = png_bytes(np.eye(4), scale=3)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    import io

    assert matplotlib.image.imread(io.BytesIO(data)).shape[:2] == (12, 12)


def test_frame_slider_links_slider_to_frames():
    frames = [png_bytes(np.full((2, 2), v)) for v in (0.0, 0.5, 1.0)]
    box = frame_slider(frames, description="t", labels=["a", "b", "c"])
    slider, stack, captions = box.children
    assert (slider.min, slider.max) == (0, 2) and len(stack.children) == 3 and len(captions.children) == 3
    assert stack.selected_index == 0 and slider.value == 0  # the browser moves both (checked by scripts/check_book.py)
    with pytest.raises(ValueError, match="at least 2"):
        frame_slider(frames[:1])
    with pytest.raises(ValueError, match="one entry per frame"):
        frame_slider(frames, labels=["a"])


def test_frame_pad_links_two_sliders_to_nested_stacks():
    import ipywidgets as widgets

    from dgm.widgets import frame_pad, png_bytes

    frames = [[png_bytes(np.full((4, 4), (i + j) / 4)) for j in range(3)] for i in range(2)]
    box = frame_pad(frames, ("z1", "z2"), labels=[[f"{i},{j}" for j in range(3)] for i in range(2)])
    s_row, s_col, outer = box.children[:3]
    assert (s_row.max, s_col.max) == (1, 2) and len(outer.children) == 2
    assert all(isinstance(inner, widgets.Stack) and len(inner.children) == 3 for inner in outer.children)
    with pytest.raises(ValueError):
        frame_pad([[frames[0][0]]])

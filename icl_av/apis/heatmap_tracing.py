"""Maps of the model's input geometry back onto the original frame, by tracing pixels through the pipeline.

Before the test pipeline runs, the frame is paired with :func:`index_map` (each pixel's
linear index) as its ``gt_map``; the pipeline's geometric transforms (resize, crop, flip)
move it exactly like the frame. :func:`paste_heatmap` reads from its corners which window
of the frame the model saw and pastes the prediction back there.
"""
from typing import Optional, Tuple

import numpy as np
import torch

from icl_av.visualization.heatmap import heatmap_to_size


def index_map(height: int, width: int) -> np.ndarray:
    """A float32 map whose value is each pixel's linear index (exact up to 2**24 pixels)."""
    if height * width >= 2 ** 24:
        raise ValueError(f'frame of {height}×{width} is too large to trace through the pipeline')
    return np.arange(height * width, dtype=np.float32).reshape(height, width)


def paste_heatmap(pred_map: torch.Tensor, traced: Optional[torch.Tensor], size: Tuple[int, int]) -> np.ndarray:
    """Bring a map of the model's input geometry back to the original frame of ``size``.

    ``traced`` is the index map after the pipeline's geometric transforms: its corner
    values tell which source window (and flips) the model saw. Pixels outside that
    window (cropped away) get 0.
    """
    height, width = size
    if traced is None or traced.numel() == 0:
        return heatmap_to_size(pred_map, size)
    traced = traced.cpu().double()
    rows, cols = traced.shape
    corners = [int(round(float(v))) for v in (traced[0, 0], traced[0, -1], traced[-1, 0])]
    (y0, x0), (_, x1), (y1, _) = [divmod(v, width) for v in corners]
    # The window's far edge is one source step beyond the last sampled pixel (the step is
    # the resize factor; nearest-neighbour sampling makes this exact to within one step).
    step_x = abs(x1 - x0) / (cols - 1) if cols > 1 else 1.0
    step_y = abs(y1 - y0) / (rows - 1) if rows > 1 else 1.0
    left, top = min(x0, x1), min(y0, y1)
    right = min(width, max(left + 1, int(round(max(x0, x1) + max(step_x, 1.0)))))
    bottom = min(height, max(top + 1, int(round(max(y0, y1) + max(step_y, 1.0)))))
    window = heatmap_to_size(pred_map, (bottom - top, right - left))
    if x0 > x1:
        window = window[:, ::-1]
    if y0 > y1:
        window = window[::-1, :]
    heatmap = np.zeros((height, width), dtype=np.float32)
    heatmap[top:bottom, left:right] = window
    return heatmap

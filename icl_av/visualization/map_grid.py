"""A grid picture of many maps: one coloured cell per map, for a glance at a round of pseudo-labels."""
import math

import numpy as np
import torch
import torch.nn.functional as F

from .heatmap import colorize_heatmap

#: White pixels between cells.
GRID_GAP = 2


def map_grid(maps: torch.Tensor, cell_size: int = 64, colormap: str = 'jet') -> np.ndarray:
    """Tile ``N×h×w`` maps in [0, 1] into one RGB uint8 image, row by row, in the given order.

    Each map is resized bilinearly to a ``cell_size`` square and coloured by
    :func:`~icl_av.visualization.heatmap.colorize_heatmap` (so it looks like every other
    heatmap of the package); cells are ``GRID_GAP`` white pixels apart, and the grid is
    about square (``ceil(sqrt(N))`` columns).

    Args:
        maps (Tensor): ``N×h×w`` maps in ``[0, 1]`` (values outside are clipped).
        cell_size (int): Side of each cell in pixels. Defaults to 64.
        colormap (str): A colormap name of :func:`colorize_heatmap`. Defaults to ``'jet'``.

    Returns:
        np.ndarray: ``H×W×3`` uint8 RGB grid.
    """
    if maps.dim() != 3:
        raise ValueError(f'map_grid: expected N×h×w maps, got shape {tuple(maps.shape)}')
    count = maps.shape[0]
    columns = max(1, math.ceil(math.sqrt(count)))
    rows = max(1, math.ceil(count / columns))
    step = cell_size + GRID_GAP
    grid = np.full((rows * step - GRID_GAP, columns * step - GRID_GAP, 3), 255, np.uint8)
    if count == 0:
        return grid
    cells = F.interpolate(maps[:, None].detach().float().cpu(), size=(cell_size, cell_size), mode='bilinear',
                          align_corners=False)[:, 0]
    for index, cell in enumerate(cells):
        top, left = (index // columns) * step, (index % columns) * step
        grid[top:top + cell_size, left:left + cell_size] = colorize_heatmap(cell.clamp(0, 1).numpy(), colormap)
    return grid


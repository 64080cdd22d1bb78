"""map_grid: layout, and colours that are colorize_heatmap's (RGB, not cv2's BGR)."""
import numpy as np
import pytest
import torch

from icl_av.visualization import colorize_heatmap, map_grid
from icl_av.visualization.map_grid import GRID_GAP


def test_cells_are_laid_out_row_by_row_with_white_gaps():
    grid = map_grid(torch.rand(5, 4, 4), cell_size=8)
    assert grid.dtype == np.uint8 and grid.shape == (2 * 8 + GRID_GAP, 3 * 8 + 2 * GRID_GAP, 3)
    assert (grid[8:8 + GRID_GAP] == 255).all()  # the gap between the rows
    assert (grid[10:, 20:] == 255).all()  # the sixth cell is empty


def test_cell_colours_are_colorize_heatmaps_rgb():
    values = (1.0, 0.0, 0.25, 0.75)
    grid = map_grid(torch.stack([torch.full((2, 2), value) for value in values]), cell_size=4)  # 2×2 cells
    step = 4 + GRID_GAP
    for index, value in enumerate(values):
        top, left = (index // 2) * step, (index % 2) * step
        cell = grid[top:top + 4, left:left + 4]
        assert np.array_equal(cell, colorize_heatmap(np.full((4, 4), value, np.float32)))
    hot, cold = grid[0, 0], grid[0, 4 + GRID_GAP]
    assert hot[0] > hot[2] and cold[2] > cold[0]  # jet: 1 is red, 0 is blue, in RGB order


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match='N×h×w'):
        map_grid(torch.rand(5, 5))

"""Pasting a prediction back onto the original frame through the traced pipeline geometry."""
import numpy as np
import torch

from icl_av.apis.heatmap_tracing import index_map, paste_heatmap


def test_index_map_numbers_pixels_row_major():
    assert index_map(2, 3).tolist() == [[0, 1, 2], [3, 4, 5]]


def test_paste_heatmap_puts_a_flipped_crop_back_in_its_window():
    traced = torch.from_numpy(index_map(4, 6)[1:3, 2:5][:, ::-1].copy())  # crop rows 1-2, cols 2-4, mirrored
    pred = torch.tensor([[1.0, 0.5, 0.0], [1.0, 0.5, 0.0]])  # strongest on the model's left
    heatmap = paste_heatmap(pred, traced, (4, 6))
    assert heatmap.shape == (4, 6)
    outside = np.ones((4, 6), dtype=bool)
    outside[1:3, 2:5] = False
    assert np.all(heatmap[outside] == 0)
    # The model's left is the frame's right once the mirror is undone.
    assert heatmap[1, 4] > heatmap[1, 2]

"""AVLocalVisualizer and the pure heatmap helpers."""
import numpy as np
import pytest
import torch

from icl_av.structures import AVDataSample
from icl_av.visualization import AVLocalVisualizer, heatmap_to_size, overlay_heatmap


@pytest.fixture(scope='module')
def visualizer():
    # Pixel-exact checks below run at the input size (no display enlargement).
    return AVLocalVisualizer.get_instance('test_av_visualizer', alpha=1.0, min_display_size=0)


def make_sample(pred_map, boxes=None, img_shape=(32, 32)):
    sample = AVDataSample(metainfo=dict(video_id='v', img_shape=img_shape))
    sample.pred_map = pred_map
    sample.gt_bboxes = torch.tensor(boxes if boxes is not None else [], dtype=torch.float32).reshape(-1, 4)
    return sample


def test_heatmap_to_size_normalises_and_handles_constants():
    heat = heatmap_to_size(torch.tensor([[0., 2.], [4., 8.]]), (8, 8))
    assert heat.shape == (8, 8) and heat.dtype == np.float32
    assert heat.min() == 0.0 and heat.max() == 1.0
    assert heat[-1, -1] == 1.0 and heat[0, 0] == 0.0
    assert not heatmap_to_size(torch.full((3, 3), 7.0), (5, 6)).any()


def test_colorize_heatmap_is_rgb_with_the_colormaps_known_ends():
    from icl_av.visualization.heatmap import colorize_heatmap
    ends = colorize_heatmap(np.array([[0.0, 1.0]], dtype=np.float32))
    assert ends.dtype == np.uint8 and ends.shape == (1, 2, 3)
    # cv2's jet runs from dark blue to dark red; RGB order puts them at channel 2 and channel 0.
    assert tuple(ends[0, 0]) == (0, 0, 128) and tuple(ends[0, 1]) == (128, 0, 0)
    # viridis ends in yellow, RGB (253, 231, 37) in cv2's table.
    assert tuple(colorize_heatmap(np.ones((1, 1), dtype=np.float32), 'viridis')[0, 0]) == (253, 231, 37)


def test_overlay_blends_with_alpha():
    image = np.full((4, 4, 3), 100, dtype=np.uint8)
    heat = np.zeros((4, 4), dtype=np.float32)
    assert np.array_equal(overlay_heatmap(image, heat, alpha=0.0), image)
    full = overlay_heatmap(image, np.ones((4, 4), dtype=np.float32), alpha=1.0)
    assert full[0, 0, 0] > 100 and full[0, 0, 2] < 50  # jet's top end is red (RGB order)
    with pytest.raises(ValueError, match='alpha'):
        overlay_heatmap(image, heat, alpha=2.0)


def test_add_datasample_draws_heatmap_where_the_map_peaks(visualizer):
    pred = torch.zeros(4, 4)
    pred[0, 3] = 1.0  # top-right peak
    image = np.zeros((32, 32, 3), dtype=np.uint8)
    drawn = visualizer.add_datasample('s', image, make_sample(pred), draw_gt=False)
    assert drawn.shape == (32, 32, 3) and drawn.dtype == np.uint8
    # jet: high = (dark) red, low = (dark) blue
    assert drawn[2, 29, 0] > 100 and drawn[2, 29, 1] < 60 and drawn[2, 29, 2] < 60
    assert drawn[29, 2, 2] > 100 and drawn[29, 2, 0] < 60


def test_add_datasample_draws_boxes_scaled_to_the_image(visualizer, tmp_path):
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    sample = make_sample(torch.zeros(2, 2), boxes=[[8., 8., 24., 24.]], img_shape=(32, 32))
    out_file = tmp_path / 'vis' / 'a.png'
    drawn = visualizer.add_datasample('b', image, sample, draw_pred=False, out_file=str(out_file))
    assert tuple(drawn[16, 30]) == (0, 255, 0)  # left edge of the box at x = 16 after 2x scaling
    assert tuple(drawn[5, 5]) == (0, 0, 0)
    assert out_file.is_file()
    import mmcv
    written = mmcv.imread(str(out_file))  # BGR on disk
    assert np.array_equal(written[:, :, ::-1], drawn)


def test_constant_map_and_gt_map_outline(visualizer):
    sample = make_sample(torch.full((2, 2), 3.0))
    gt_map = torch.zeros(16, 16)
    gt_map[4:12, 4:12] = 1
    sample.gt_map = gt_map
    image = np.zeros((16, 16, 3), dtype=np.uint8)
    drawn = visualizer.add_datasample('c', image, sample)
    assert tuple(drawn[4, 8]) == (255, 255, 255)  # outline of the consensus region
    with pytest.raises(ValueError, match='H×W×3'):
        visualizer.add_datasample('d', np.zeros((4, 4), dtype=np.uint8), sample)


def test_small_frames_are_enlarged_for_display():
    vis = AVLocalVisualizer.get_instance('test_av_visualizer_enlarge', alpha=1.0, min_display_size=64)
    pred = torch.zeros(4, 4)
    pred[0, 0] = 1.0
    drawn = vis.add_datasample('s', np.zeros((16, 16, 3), np.uint8), make_sample(pred, img_shape=(16, 16)),
                               draw_gt=False)
    assert drawn.shape == (64, 64, 3)
    # The map's peak (top-left cell) is still drawn top-left at the enlarged size.
    assert drawn[:16, :16].mean() != drawn[48:, 48:].mean()

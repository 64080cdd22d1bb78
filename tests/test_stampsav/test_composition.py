"""Laying stamps out: boxes, truncation, overlap and visibility constraints, z-order compositing."""
import numpy as np
import pytest

from icl_av.stampsav.composition import (LayoutError, box_iou, clip_to_canvas, composite, lay_out_stamps,
                                         tight_box)


def disc(height, width, value=0.8):
    """Premultiplied RGBA picture of an opaque ellipse filling the box."""
    yy, xx = np.mgrid[0:height, 0:width]
    inside = (((yy + 0.5 - height / 2) / (height / 2)) ** 2 + ((xx + 0.5 - width / 2) / (width / 2)) ** 2) <= 1
    pic = np.zeros((height, width, 4), np.float32)
    pic[inside] = (value, value / 2, 0.1, 1.0)
    return pic


def test_box_helpers():
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert box_iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0
    alpha = np.zeros((6, 8))
    alpha[2:4, 3:7] = 0.5
    assert tight_box(alpha, 10, 20) == (13, 22, 17, 24)
    assert tight_box(np.zeros((3, 3)), 0, 0) is None
    stamp = np.ones((10, 10, 4), np.float32)
    part, x0, y0 = clip_to_canvas(stamp, -4, 7, 12)
    assert (x0, y0) == (0, 7) and part.shape == (5, 6, 4)
    assert clip_to_canvas(stamp, 12, 0, 12)[0] is None


@pytest.mark.parametrize('max_trunc', [0.0, 0.4])
def test_layout_meets_its_constraints(max_trunc):
    pictures = [disc(60, 90), disc(80, 50), disc(70, 70)]
    size = 64
    for seed in range(15):
        layout = lay_out_stamps(np.random.default_rng(seed), pictures, size, 0.4, 0.8, max_trunc, 0.3, 0.6)
        assert sorted(layout.z_order) == [0, 1, 2]
        for k, (layer, box) in enumerate(zip(layout.layers, layout.boxes)):
            x1, y1, x2, y2 = box
            assert 0 <= x1 < x2 <= size and 0 <= y1 < y2 <= size
            # the box is tight on the stamp's in-frame alpha
            assert tight_box(layer[..., 3], 0, 0) == box
            inside = layer[..., 3].sum() / layout.total_alpha[k]
            assert inside == pytest.approx(layout.in_canvas[k], abs=1e-5)
            assert layout.in_canvas[k] >= 1 - max_trunc - 1e-6
            if max_trunc == 0:
                assert layout.in_canvas[k] == pytest.approx(1.0, abs=1e-5)
            assert layout.visible[k] >= 0.6
        for a in range(3):
            for b in range(a + 1, 3):
                assert box_iou(layout.boxes[a], layout.boxes[b]) <= 0.3


def test_an_impossible_layout_raises():
    pictures = [disc(60, 60), disc(60, 60)]
    with pytest.raises(LayoutError, match='no layout'):
        lay_out_stamps(np.random.default_rng(0), pictures, 32, 1.0, 1.0, 0.0, 0.0, 0.6)


def test_composite_draws_back_to_front():
    pictures = [disc(40, 40, value=1.0), disc(40, 40, value=0.2)]
    layout = lay_out_stamps(np.random.default_rng(1), pictures, 64, 0.5, 0.5, 0.0, 0.3, 0.0)
    background = np.zeros((64, 64, 3), np.float32)
    img = composite(background, layout)
    front = layout.z_order[-1]
    alpha = layout.layers[front][..., 3] == 1
    assert np.allclose(img[alpha], layout.layers[front][alpha][:, :3])
    outside = sum(layer[..., 3] for layer in layout.layers) == 0
    assert (img[outside] == 0).all()

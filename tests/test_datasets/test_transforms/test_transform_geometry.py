"""Geometric transforms move image, boxes, consensus map and RLE masks together."""
import numpy as np
import pytest

from icl_av.datasets.utils.annotation_geometry import annotations_to_image, consensus_map
from icl_av.registry import TRANSFORMS
from icl_av.structures.masks import decode_rle, encode_rle


def _sample(height=40, width=60, box=(10, 5, 30, 25)):
    """An image whose only bright pixels are inside ``box``, with matching box/map/mask annotations."""
    x1, y1, x2, y2 = box
    img = np.zeros((height, width, 3), np.uint8)
    img[y1:y2, x1:x2] = 255
    mask = np.zeros((height, width), np.uint8)
    mask[y1:y2, x1:x2] = 1
    return dict(img=img, img_shape=(height, width), ori_shape=(height, width),
                gt_bboxes=np.array([box], np.float32), gt_map=mask.astype(np.float32),
                gt_masks=[encode_rle(mask)])


def _dilate(mask):
    """Binary dilation by one pixel (3×3), without scipy."""
    padded = np.pad(mask, 1)
    height, width = mask.shape
    return np.any([padded[dy:dy + height, dx:dx + width] for dy in range(3) for dx in range(3)], axis=0)


def _erode(mask):
    return ~_dilate(~mask)


def _assert_consistent(results):
    """Box, map, mask and bright image pixels all describe the same region."""
    height, width = results['img'].shape[:2]
    assert tuple(results['img_shape']) == (height, width)
    bright = results['img'][:, :, 0] > 127
    mask = decode_rle(results['gt_masks'][0]).astype(bool)
    assert mask.shape == (height, width) and results['gt_map'].shape == (height, width)
    assert np.array_equal(mask, results['gt_map'] > 0.5)
    # Image (bilinear) and mask (nearest) may differ on the object's 1-pixel boundary only.
    inner, outer = _erode(mask), ~_dilate(mask)
    assert bright[inner].all() and not bright[outer].any()
    rows, cols = np.nonzero(mask)
    x1, y1, x2, y2 = results['gt_bboxes'][0]
    assert abs(cols.min() - x1) <= 1.5 and abs(cols.max() + 1 - x2) <= 1.5
    assert abs(rows.min() - y1) <= 1.5 and abs(rows.max() + 1 - y2) <= 1.5


@pytest.mark.parametrize('cfg', [
    dict(type='Resize', scale=(30, 20)),
    dict(type='Resize', scale=(32, 32)),
    dict(type='Resize', scale=20, keep_ratio=True),
    dict(type='RandomFlip', prob=1.0),
    dict(type='RandomFlip', prob=1.0, direction='vertical'),
    dict(type='CenterCrop', crop_size=(40, 30)),
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.6, 1.0)),
])
@pytest.mark.parametrize('seed', [0, 1, 2, 3])
def test_geometry_moves_all_annotations(cfg, seed):
    np.random.seed(seed)  # random transforms draw from numpy's global generator
    results = TRANSFORMS.build(cfg)(_sample())
    _assert_consistent(results)


def test_resize_keep_ratio_and_squash_sizes():
    assert TRANSFORMS.build(dict(type='Resize', scale=20, keep_ratio=True))(_sample())['img_shape'] == (20, 30)
    assert TRANSFORMS.build(dict(type='Resize', scale=(100, 50), keep_ratio=True))(_sample())['img_shape'] == (50, 75)
    assert TRANSFORMS.build(dict(type='Resize', scale=(16, 24)))(_sample())['img_shape'] == (24, 16)


def test_hflip_box_coordinates_and_flag():
    results = TRANSFORMS.build(dict(type='RandomFlip', prob=1.0))(_sample())
    np.testing.assert_allclose(results['gt_bboxes'], [[30, 5, 50, 25]])
    assert results['flip'] is True
    assert TRANSFORMS.build(dict(type='RandomFlip', prob=0.0))(_sample())['flip'] is False


def test_center_crop_drops_boxes_outside():
    sample = _sample(box=(0, 0, 5, 5))
    results = TRANSFORMS.build(dict(type='CenterCrop', crop_size=20))(sample)
    assert results['gt_bboxes'].shape == (0, 4)
    assert results['img_shape'] == (20, 20)


def test_invalid_geometry_arguments_raise():
    with pytest.raises(ValueError, match='scale'):
        TRANSFORMS.build(dict(type='Resize', scale=0))
    with pytest.raises(ValueError, match='prob'):
        TRANSFORMS.build(dict(type='RandomFlip', prob=2))
    with pytest.raises(ValueError, match='direction'):
        TRANSFORMS.build(dict(type='RandomFlip', direction='diagonal'))


def test_consensus_map_levels():
    boxes = np.array([[0, 0, 4, 4], [2, 2, 6, 6]], np.float32)
    gt_map = consensus_map(boxes, 8, 8)
    assert gt_map[0, 0] == 0.5 and gt_map[3, 3] == 1.0 and gt_map[7, 7] == 0.0
    three = consensus_map(np.array([[0, 0, 4, 4]] * 3, np.float32), 8, 8)
    assert three.max() == 1.0  # clipped at 1


def test_annotations_to_image_converts_normalised_and_flickr_frames():
    results = dict(gt_bboxes=np.array([[0.25, 0.5, 0.75, 1.0]], np.float32), bbox_frame_size=(1.0, 1.0))
    annotations_to_image(results, 40, 80)
    np.testing.assert_allclose(results['gt_bboxes'], [[20, 20, 60, 40]])
    assert results['ori_shape'] == (40, 80) and 'bbox_frame_size' not in results

    flickr = dict(gt_bboxes=np.array([[0, 0, 128, 256]], np.float32), bbox_frame_size=(256, 256),
                  gt_map_from_boxes=True)
    annotations_to_image(flickr, 100, 200)
    np.testing.assert_allclose(flickr['gt_bboxes'], [[0, 0, 100, 100]])
    assert flickr['gt_map'].shape == (100, 200)
    assert flickr['gt_map'][:, :100].min() == 0.5 and flickr['gt_map'][:, 100:].max() == 0.0


def test_masks_of_another_size_are_resized_to_the_image():
    mask = np.zeros((10, 10), np.uint8)
    mask[:, :5] = 1
    results = dict(gt_masks=[encode_rle(mask)])
    annotations_to_image(results, 20, 40)
    decoded = decode_rle(results['gt_masks'][0])
    assert decoded.shape == (20, 40) and decoded[:, :20].all() and not decoded[:, 20:].any()


def test_random_resized_crop_records_its_window_in_frame_fractions():
    from icl_av.datasets.transforms.geometry import compose_windows
    np.random.seed(0)
    import random
    random.seed(0)
    sample = _sample()
    height, width = sample['img'].shape[:2]
    results = TRANSFORMS.build(dict(type='RandomResizedCrop', scale=16, crop_ratio_range=(0.3, 0.6)))(sample)
    x1, y1, x2, y2 = results['crop_window']
    assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1
    area = (x2 - x1) * (y2 - y1)
    assert 0.25 < area < 0.65  # the sampled fraction of the frame (rounded to pixels)
    assert abs(x2 * width - round(x2 * width)) < 1e-6  # pixel-aligned window of the loaded frame
    assert compose_windows((0.5, 0.0, 1.0, 0.5), (0.0, 0.0, 0.5, 1.0)) == (0.5, 0.0, 0.75, 0.5)

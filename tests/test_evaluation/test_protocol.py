"""The evaluation protocol's pure functions, checked against hand-computed values."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from icl_av.evaluation.metrics.ciou_scores import ciou, ciou_auc, summarize_cious
from icl_av.evaluation.metrics.gt_maps import build_gt_map
from icl_av.evaluation.metrics.map_binarization import binarize_map, binarize_prediction, upsample_map
from icl_av.evaluation.metrics.protocol_presets import PRESETS, resolve_protocol
from icl_av.evaluation.metrics.reference_maps import center_prior_map, perfect_prediction
from icl_av.structures.masks import decode_rle, encode_rle


def proto(**kwargs):
    return resolve_protocol('lvs', **kwargs)


def test_lvs_preset_is_the_default_protocol():
    p = resolve_protocol()
    assert (p.eval_size, p.upsample, p.threshold, p.comparison) == ((224, 224), 'bilinear', 'median', '>=')
    assert set(PRESETS) >= {'lvs', 'adaptive', 'native'}


@pytest.mark.parametrize('kwargs, word', [
    (dict(preset='nope'), 'preset'), (dict(upsample='cubic'), 'upsample'), (dict(threshold='mean'), 'threshold'),
    (dict(threshold=1.5), 'threshold'), (dict(comparison='=>'), 'comparison'), (dict(eval_size=(0, 3)), 'eval_size'),
])
def test_invalid_knobs_are_named(kwargs, word):
    with pytest.raises(ValueError, match=word):
        resolve_protocol(**kwargs)


def test_upsample_modes_hand_values():
    pred = torch.tensor([[0., 1.]])
    assert upsample_map(pred, (1, 4), 'bilinear').tolist() == [[0.0, 0.25, 0.75, 1.0]]
    ac = upsample_map(pred, (1, 4), 'bilinear_ac')[0].tolist()
    assert ac == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0])
    assert upsample_map(pred, (1, 4), 'nearest').tolist() == [[0.0, 0.0, 1.0, 1.0]]
    assert upsample_map(pred, (1, 4), 'area').tolist() == [[0.0, 0.0, 1.0, 1.0]]
    big = torch.rand(3, 3)
    expected = F.interpolate(big[None, None], size=(6, 6), mode='bicubic', align_corners=False)[0, 0]
    assert torch.allclose(upsample_map(big, (6, 6), 'bicubic'), expected)


def test_upsample_knob_changes_the_ciou():
    # GT = the right half of a 1×4 grid; a float threshold 0.3 keeps 2 pixels after
    # bilinear (0, .25, .75, 1) but 3 after bilinear with aligned corners (0, 1/3, 2/3, 1).
    gt = torch.tensor([[0., 0., 1., 1.]])
    pred = torch.tensor([[0., 1.]])
    scores = {mode: ciou(binarize_prediction(pred, (1, 4), proto(upsample=mode, threshold=0.3)), gt)
              for mode in ('bilinear', 'bilinear_ac', 'nearest')}
    assert scores == pytest.approx({'bilinear': 1.0, 'bilinear_ac': 2 / 3, 'nearest': 1.0})


def test_median_threshold_and_comparison_hand_values():
    pred = torch.tensor([[0., 1.], [2., 3.]])  # normalised 0, 1/3, 2/3, 1; sorted[N // 2] = 2/3
    gt = torch.tensor([[0., 0.], [1., 1.]])
    ge = binarize_map(pred, proto(comparison='>='))
    gt_only = binarize_map(pred, proto(comparison='>'))
    assert ge.tolist() == [[0, 0], [1, 1]]
    assert gt_only.tolist() == [[0, 0], [0, 1]]
    assert ciou(ge, gt) == 1.0
    assert ciou(gt_only, gt) == 0.5


def test_gt_area_and_float_thresholds_hand_values():
    pred = torch.tensor([[0., 1.], [2., 3.]])
    corner = torch.tensor([[0., 0.], [0., 1.]])
    adaptive = binarize_map(pred, proto(threshold='gt_area'), gt_area=1)
    assert adaptive.tolist() == [[0, 0], [0, 1]]
    assert ciou(adaptive, corner) == 1.0
    assert ciou(binarize_map(pred, proto()), corner) == 0.5  # median keeps 2 pixels
    loose = binarize_map(pred, proto(threshold=0.3))  # keeps 1/3, 2/3, 1
    assert loose.tolist() == [[0, 1], [1, 1]]
    assert ciou(loose, torch.tensor([[0., 0.], [1., 1.]])) == pytest.approx(2 / 3)
    assert binarize_map(pred, proto(threshold='gt_area'), gt_area=0).sum() == 0


def test_constant_map_is_the_whole_image_without_nan():
    gt = torch.zeros(8, 8)
    gt[:2, :] = 1  # a = 1/4
    for p in (proto(), proto(comparison='>'), proto(threshold=0.7), proto(threshold='gt_area')):
        binary = binarize_prediction(torch.full((2, 2), 5.0), (8, 8), p, gt_area=16)
        assert binary.sum() == 64
        assert ciou(binary, gt) == pytest.approx(0.25)


def test_ciou_with_consensus_map_and_empty_cases():
    gt = torch.tensor([[1., .5], [0., 0.]])
    pred = torch.tensor([[1., 0.], [1., 0.]])
    assert ciou(pred, gt) == pytest.approx(1 / 2.5)
    assert ciou(torch.zeros(2, 2), torch.zeros(2, 2)) == 0.0


@pytest.mark.parametrize('rows, expected', [(1, 0.125), (2, 0.25), (4, 0.5), (8, 1.0), (12, 1 / 1.5), (15, 8 / 15)])
def test_perfect_prediction_matches_ceiling_formula(rows, expected):
    gt = torch.zeros(16, 16)
    gt[:rows] = 1
    a = rows / 16
    assert expected == pytest.approx(min(2 * a, 1 / (2 * a)))
    assert ciou(perfect_prediction(gt, proto()), gt) == pytest.approx(expected)
    # the adaptive protocol's ceiling is 1 for a binary GT
    assert ciou(perfect_prediction(gt, proto(threshold='gt_area')), gt) == pytest.approx(1.0)


def test_gt_covering_everything_is_a_constant_map():
    # a = 1: the GT map is constant, hence scored as the whole image (cIoU 1), not 1 / (2a).
    gt = torch.ones(8, 8)
    assert ciou(perfect_prediction(gt, proto()), gt) == 1.0


def test_no_map_beats_the_ceiling():
    gen = torch.Generator().manual_seed(0)
    gt = torch.zeros(16, 16)
    gt[3:9, 2:12] = 1
    gt[4:6, 4:6] = 0.5
    ceiling = ciou(perfect_prediction(gt, proto()), gt)
    for _ in range(20):
        pred = torch.rand(4, 4, generator=gen)
        assert ciou(binarize_prediction(pred, (16, 16), proto()), gt) <= ceiling + 1e-12


def test_center_prior_selects_a_centred_region():
    binary = binarize_map(center_prior_map((16, 16)), proto())
    assert binary[8, 8] == 1 and binary[0, 0] == 0
    assert abs(binary.mean().item() - 0.5) < 0.1


def test_gt_from_boxes_is_scaled_to_the_eval_grid():
    sample = dict(img_shape=(10, 20), gt_bboxes=torch.tensor([[0., 0., 10., 10.]]))
    gt = build_gt_map(sample, (4, 4))
    assert gt.tolist() == [[1, 1, 0, 0]] * 4
    native = build_gt_map(sample, (10, 20))
    assert native.sum() == 100 and native[:, :10].min() == 1


def test_gt_union_of_boxes():
    sample = dict(img_shape=(4, 4), gt_bboxes=torch.tensor([[0., 0., 2., 2.], [1., 1., 3., 3.]]))
    assert build_gt_map(sample, (4, 4)).sum() == 7


def test_gt_source_priority_and_masks():
    mask = np.zeros((4, 4), dtype=np.uint8)
    mask[1:3, 1:3] = 1
    rle = encode_rle(mask)
    assert isinstance(rle['counts'], str)
    assert np.array_equal(decode_rle(rle), mask)
    sample = dict(img_shape=(4, 4), gt_bboxes=torch.tensor([[0., 0., 4., 4.]]), gt_masks=[rle])
    assert build_gt_map(sample, (4, 4)).sum() == 4  # masks before boxes
    assert build_gt_map(sample, (8, 8)).sum() == 16  # resized to the eval grid
    assert build_gt_map(sample, (4, 4), source='bboxes').sum() == 16
    sample['gt_map'] = torch.full((4, 4), 0.5)
    assert build_gt_map(sample, (4, 4)).sum() == 8  # consensus map first
    assert build_gt_map(dict(img_shape=(4, 4), gt_bboxes=torch.zeros(0, 4)), (4, 4)) is None


def test_auc_and_success_rate_hand_values():
    scores = summarize_cious([0.0, 0.5, 1.0])
    assert scores['ciou@0.5'] == pytest.approx(2 / 3)
    assert scores['mean_ciou'] == pytest.approx(0.5)
    expected_auc = 0.05 * ((1 + 2 / 3) / 2 + 9 * 2 / 3 + (2 / 3 + 1 / 3) / 2 + 9 / 3)
    assert scores['auc'] == pytest.approx(expected_auc)
    assert ciou_auc([1.0, 1.0]) == pytest.approx(1.0)
    assert math.isnan(ciou_auc([]))

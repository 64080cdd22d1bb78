"""LocalizationMetric end to end on hand-made predicted samples."""
import json

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator

from icl_av.evaluation import LocalizationMetric, format_localization_table
from icl_av.structures import AVDataSample
from icl_av.structures.masks import decode_rle, encode_rle


def box_sample(idx, box, pred, img_shape=(8, 8), **extra):
    """A predicted sample as the Evaluator hands it to the metric (a dict)."""
    sample = dict(sample_idx=idx, video_id=f'v{idx}', img_shape=img_shape, pred_map=torch.as_tensor(pred).float(),
                  gt_bboxes=torch.tensor([box], dtype=torch.float32).reshape(-1, 4))
    sample.update(extra)
    return sample


def region_map(rows, cols, size=(8, 8), low=0.0, high=1.0):
    pred = torch.full(size, low)
    pred[rows, cols] = high
    return pred


def evaluate(metric, samples, batch_size=None):
    batch_size = batch_size or len(samples)
    for start in range(0, len(samples), batch_size):
        metric.process({}, samples[start:start + batch_size])
    return metric.compute_metrics(metric.results)


def make_set(n=10, seed=0):
    gen = torch.Generator().manual_seed(seed)
    samples = []
    for i in range(n):
        x1, y1 = int(torch.randint(0, 4, (1,), generator=gen)), int(torch.randint(0, 4, (1,), generator=gen))
        samples.append(box_sample(i, [x1, y1, x1 + 4, y1 + 3], torch.rand(4, 4, generator=gen)))
    return samples


def test_hand_computed_scores_and_baselines():
    # GT: the top half (a = 1/2). Sample 0: prediction = the top half -> cIoU 1.
    # Sample 1: prediction = the bottom half -> cIoU 0.
    metric = LocalizationMetric(eval_size='img_shape')
    samples = [box_sample(0, [0, 0, 8, 4], region_map(slice(0, 4), slice(None))),
               box_sample(1, [0, 0, 8, 4], region_map(slice(4, 8), slice(None)))]
    result = evaluate(metric, samples)
    assert result['ciou@0.5'] == 0.5
    assert result['mean_ciou'] == 0.5
    assert result['num_samples'] == 2
    assert result['auc'] == pytest.approx(0.05 * (1 + 0.5) / 2 + 0.95 * 0.5)  # 1 at t=0, then 1/2 up to t=1
    assert result['perfect/ciou@0.5'] == 1.0 and result['perfect/mean_ciou'] == 1.0
    assert result['whole/mean_ciou'] == pytest.approx(0.5)
    assert 'center/auc' in result


def test_prefix_and_evaluator_with_avdatasamples():
    evaluator = Evaluator(LocalizationMetric(eval_size='img_shape'))
    sample = AVDataSample(metainfo=dict(video_id='a', img_shape=(8, 8)))
    sample.pred_map = region_map(slice(0, 4), slice(None))
    sample.gt_bboxes = torch.tensor([[0., 0., 8., 4.]])
    sample.confidence = torch.tensor(0.7)
    evaluator.process([sample], {})
    result = evaluator.evaluate(1)
    assert result['loc/ciou@0.5'] == 1.0 and result['loc/num_samples'] == 1


def test_default_preset_evaluates_at_224():
    metric = LocalizationMetric()
    # pred at 7x7 with the hot region in the left half; GT box the left half of a 64x64 image
    pred = torch.zeros(7, 7)
    pred[:, :3] = 1
    pred[:, 3] = 0.5
    result = evaluate(metric, [box_sample(0, [0, 0, 32, 64], pred, img_shape=(64, 64))])
    assert result['mean_ciou'] == pytest.approx(1.0, abs=0.02)
    assert result['perfect/mean_ciou'] == pytest.approx(1.0)


def test_flickr_consensus_map_is_used():
    gt_map = torch.zeros(8, 8)
    gt_map[:4, :4] = 1.0   # two annotators agree
    gt_map[:4, 4:] = 0.5   # one annotator
    pred = region_map(slice(0, 4), slice(None))  # top half
    metric = LocalizationMetric(eval_size='img_shape')
    sample = box_sample(0, [0, 0, 8, 8], pred, gt_map=gt_map)  # the box would say "whole image"
    result = evaluate(metric, [sample])
    assert result['mean_ciou'] == pytest.approx((16 + 8) / 24)  # P covers all G>0 with no false pixels


def test_masks_via_rle():
    mask = np.zeros((8, 8), dtype=np.uint8)
    mask[2:6, 2:6] = 1
    metric = LocalizationMetric(eval_size='img_shape', threshold='gt_area')
    sample = dict(video_id='m', sample_idx=0, img_shape=(8, 8), gt_bboxes=torch.zeros(0, 4),
                  gt_masks=[encode_rle(mask)], pred_map=torch.as_tensor(mask).float())
    result = evaluate(metric, [sample])
    assert result['mean_ciou'] == 1.0


def test_constant_prediction_is_whole_image():
    metric = LocalizationMetric(eval_size='img_shape')
    result = evaluate(metric, [box_sample(0, [0, 0, 8, 2], torch.full((4, 4), 3.0))])
    assert result['mean_ciou'] == pytest.approx(0.25) == result['whole/mean_ciou']


@pytest.mark.parametrize('batch_size', [1, 3, 4])
def test_invariant_to_batch_size(batch_size):
    samples = make_set()
    reference = evaluate(LocalizationMetric(eval_size=(16, 16)), samples)
    assert evaluate(LocalizationMetric(eval_size=(16, 16)), samples, batch_size) == pytest.approx(reference)


def test_invariant_to_number_of_processes():
    # Each "rank" processes an interleaved shard (as DefaultSampler gives it); BaseMetric
    # gathers the per-sample records (rank order) and rank 0 computes on their concatenation.
    samples = make_set(11)
    reference_metric = LocalizationMetric(eval_size=(16, 16), extended=False)
    reference = evaluate(reference_metric, samples)
    for world_size in (2, 3):
        shards = []
        for rank in range(world_size):
            metric = LocalizationMetric(eval_size=(16, 16))
            metric.process({}, samples[rank::world_size])
            shards.append(metric.results)
        gathered = [record for shard in shards for record in shard]
        final = LocalizationMetric(eval_size=(16, 16))
        assert final.compute_metrics(gathered) == pytest.approx(reference)
        assert [r['video_id'] for r in final.per_sample_results] == \
            [r['video_id'] for r in reference_metric.per_sample_results]


def test_extended_mode_matches_hand_scores():
    top = region_map(slice(0, 4), slice(None))
    bottom = region_map(slice(4, 8), slice(None))
    empty = torch.zeros(0, 4)
    box = [0, 0, 8, 4]
    samples = [
        box_sample(0, box, top, is_sounding=True, confidence=torch.tensor(0.9)),      # good
        box_sample(1, box, top, is_sounding=False, confidence=torch.tensor(0.8), gt_bboxes=empty),
        box_sample(2, box, bottom, is_sounding=True, confidence=torch.tensor(0.7)),   # mislocalised
        box_sample(3, box, top, is_sounding=True, confidence=torch.tensor(0.6)),      # good
        box_sample(4, box, top, is_sounding=False, confidence=torch.tensor(0.1), gt_bboxes=empty),
    ]
    metric = LocalizationMetric(eval_size='img_shape', extended=True)
    result = evaluate(metric, samples)
    assert result['ap'] == pytest.approx(2 / 3)
    assert result['max_f1'] == pytest.approx(2 / 3)
    assert result['precision@0.5'] == pytest.approx(2 / 5)
    assert result['num_samples'] == 3 and result['num_non_sounding'] == 2
    assert result['ciou@0.5'] == pytest.approx(2 / 3)  # sounding pairs only


def test_extended_confidence_defaults_to_map_max_and_needs_is_sounding():
    metric = LocalizationMetric(eval_size='img_shape', extended=True)
    record = metric.score_sample(box_sample(0, [0, 0, 8, 4], torch.full((2, 2), 0.25) + torch.eye(2),
                                            is_sounding=True))
    assert record['confidence'] == pytest.approx(1.25)
    with pytest.raises(KeyError, match='is_sounding'):
        metric.score_sample(box_sample(1, [0, 0, 8, 4], torch.rand(2, 2)))


def test_per_sample_results_and_out_file(tmp_path):
    out = tmp_path / 'sub' / 'per_sample.json'
    metric = LocalizationMetric(eval_size='img_shape', save_pred_rle=True, out_file=str(out))
    pred = region_map(slice(0, 4), slice(None))
    samples = [box_sample(1, [0, 0, 8, 4], pred), box_sample(0, [0, 4, 8, 8], pred)]
    result = evaluate(metric, samples)
    records = metric.per_sample_results
    assert [r['video_id'] for r in records] == ['v0', 'v1']  # sorted by sample_idx
    assert records[0]['ciou'] == 0.0 and records[1]['ciou'] == 1.0
    assert np.array_equal(decode_rle(records[1]['pred_rle']), pred.numpy().astype(np.uint8))
    saved = json.loads(out.read_text())
    assert saved['metrics']['mean_ciou'] == result['mean_ciou']
    assert saved['protocol']['threshold'] == 'median' and len(saved['samples']) == 2


def test_missing_pred_map_is_a_clear_error():
    with pytest.raises(KeyError, match='pred_map'):
        LocalizationMetric().score_sample(dict(video_id='x', img_shape=(8, 8)))


def test_table_lists_model_baselines_and_ceiling():
    metric = LocalizationMetric(eval_size='img_shape')
    result = evaluate(metric, [box_sample(0, [0, 0, 8, 4], region_map(slice(0, 4), slice(None)))])
    for metrics in (result, {f'loc/{k}': v for k, v in result.items()}):
        table = format_localization_table(metrics, 'flickr_test')
        lines = table.splitlines()
        assert 'flickr_test' in lines[0]
        for label in ('model', 'centre prior', 'whole image', 'perfect localiser'):
            assert any(line.startswith(f'| {label}') for line in lines)
        model_line = next(line for line in lines if line.startswith('| model'))
        assert '1.0000' in model_line and model_line.rstrip(' |').endswith('1')
    assert 'no localization metrics' in format_localization_table({}, 'x')


def test_out_file_can_be_a_pickle(tmp_path):
    import pickle
    out = tmp_path / 'per_sample.pkl'
    metric = LocalizationMetric(eval_size='img_shape', out_file=str(out))
    evaluate(metric, [box_sample(0, [0, 0, 8, 4], region_map(slice(0, 4), slice(None)))])
    with open(out, 'rb') as f:
        saved = pickle.load(f)
    assert saved['samples'][0]['ciou'] == 1.0

"""LocalizationMetric's order policy: records by sample_idx, or arrival order with a warning."""
import torch
from mmengine.logging import MMLogger

from icl_av.evaluation import LocalizationMetric


def sample(video_id, sample_idx, top_half):
    pred = torch.zeros(8, 8)
    pred[:4] = 1.0 if top_half else 0.0
    pred[4:] = 0.0 if top_half else 1.0
    return dict(sample_idx=sample_idx, video_id=video_id, img_shape=(8, 8), pred_map=pred,
                gt_bboxes=torch.tensor([[0., 0., 8., 4.]]))


def scored(samples, monkeypatch):
    warnings = []
    monkeypatch.setattr(MMLogger.get_current_instance(), 'warning', warnings.append)
    metric = LocalizationMetric(eval_size='img_shape')
    metric.process({}, samples)
    return metric.compute_metrics(metric.results), [r['video_id'] for r in metric.per_sample_results], warnings


def test_records_follow_sample_idx_and_without_it_arrival_order_with_a_warning(monkeypatch):
    result, order, warnings = scored([sample('b', 1, True), sample('a', 0, False)], monkeypatch)
    assert order == ['a', 'b'] and warnings == []
    unsorted, order, warnings = scored([sample('b', 1, True), sample('a', None, False)], monkeypatch)
    assert order == ['b', 'a'] and len(warnings) == 1 and 'sample_idx' in warnings[0]
    assert unsorted == result  # the numbers never depend on the order

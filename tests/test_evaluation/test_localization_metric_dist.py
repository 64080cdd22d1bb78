"""LocalizationMetric across ranks holding different numbers of records (samples dropped by on_corrupt='skip').

Two gloo processes on CPU score the shards ``DefaultSampler`` deals for 5 test samples
(rank 0: 0, 2, 4; rank 1: 1, 3 and a padded repeat of 0). Rank 0 lost sample 2, so it holds
2 records and rank 1 holds 3. The metric must score exactly samples 0, 1, 3 and 4, once
each, and give what one process scoring those four gives, whichever way the lists travel
(the process group, or files in a ``collect_dir``). MMEngine's interleave-and-cut merge
keeps the padded repeat there (5 records, sample 0 twice), which the test shows too.
"""
import os.path as osp

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from mmengine.logging import MMLogger
from process_groups import init_gloo, rendezvous_url

from icl_av.evaluation import LocalizationMetric
from icl_av.evaluation.metrics.localization_metric import merge_rank_parts

NUM_SAMPLES = 5
SHARDS = {0: [0, 4], 1: [1, 3, 0]}  # rank 0 dropped sample 2; rank 1 ends with the sampler's repeat of 0


def sample(index):
    """A predicted sample whose map covers a different share of its box per index (distinct cIoUs)."""
    pred = torch.zeros(8, 8)
    pred[:, :index + 2] = 1.0
    return dict(sample_idx=index, video_id=f'v{index}', img_shape=(8, 8), pred_map=pred,
                gt_bboxes=torch.tensor([[0., 0., 4., 8.]]))


def _worker(rank, world_size, url, out_dir, collect_device, collect_dir):
    torch.set_num_threads(1)
    init_gloo(rank, world_size, url)
    try:
        metric = LocalizationMetric(eval_size='img_shape', collect_device=collect_device, collect_dir=collect_dir)
        metric.process({}, [sample(i) for i in SHARDS[rank]])
        metrics = metric.evaluate(NUM_SAMPLES)
        from mmengine.dist import collect_results
        theirs = collect_results([dict(sample_idx=i) for i in SHARDS[rank]], NUM_SAMPLES, 'cpu',
                                 tmpdir=osp.join(out_dir, f'mmengine_{collect_device}'))
        torch.save(dict(metrics=metrics, order=[r['sample_idx'] for r in metric.per_sample_results],
                        mmengine=None if theirs is None else [r['sample_idx'] for r in theirs]),
                   osp.join(out_dir, f'rank{rank}.pt'))
    finally:
        torch_dist.destroy_process_group()


@pytest.mark.parametrize('collect_device', ['auto', 'cpu'])
def test_unequal_shards_are_merged_without_losing_or_repeating_a_sample(tmp_path, collect_device):
    collect_dir = str(tmp_path / 'shared') if collect_device == 'cpu' else None
    mp.start_processes(_worker, args=(2, rendezvous_url(), str(tmp_path), collect_device, collect_dir), nprocs=2,
                       join=True, start_method='spawn')
    ranks = [torch.load(osp.join(tmp_path, f'rank{r}.pt'), weights_only=False) for r in range(2)]
    single = LocalizationMetric(eval_size='img_shape')
    single.process({}, [sample(i) for i in (0, 1, 3, 4)])
    expected = {f'loc/{k}': v for k, v in single.compute_metrics(single.results).items()}
    assert ranks[0]['metrics'] == ranks[1]['metrics'] == expected  # every rank gets rank 0's metrics
    assert expected['loc/num_samples'] == 4
    assert ranks[0]['order'] == [0, 1, 3, 4]
    assert sorted(ranks[0]['mmengine']) == [0, 0, 1, 3, 4]  # MMEngine's merge counts sample 0 twice


def test_merge_without_sample_idx_falls_back_to_the_interleave_and_warns(monkeypatch):
    warnings = []
    monkeypatch.setattr(MMLogger.get_current_instance(), 'warning', warnings.append)
    parts = [[dict(sample_idx=None, id=0), dict(sample_idx=None, id=2)],
             [dict(sample_idx=None, id=1), dict(sample_idx=None, id=3), dict(sample_idx=None, id=0)]]
    assert [r['id'] for r in merge_rank_parts(parts, 4)] == [0, 1, 2, 3]
    assert len(warnings) == 1 and 'sample_idx' in warnings[0]
    same = [[dict(sample_idx=None, id=0)], [dict(sample_idx=None, id=1)]]
    assert [r['id'] for r in merge_rank_parts(same, 2)] == [0, 1] and len(warnings) == 1


def test_padded_repeats_are_dropped_by_sample_and_id():
    parts = [[dict(sample_idx=0, video_id='a'), dict(sample_idx=2, video_id='c')],
             [dict(sample_idx=1, video_id='b'), dict(sample_idx=0, video_id='a'), dict(sample_idx=0, video_id='z')]]
    merged = merge_rank_parts(parts, 3)
    assert [(r['sample_idx'], r['video_id']) for r in merged] == [(0, 'a'), (2, 'c'), (1, 'b'), (0, 'z')]


def test_collect_settings_are_checked():
    with pytest.raises(ValueError, match='collect_device'):
        LocalizationMetric(collect_device='npu')
    assert LocalizationMetric(collect_dir='/tmp/x').collect_device == 'cpu'
    assert LocalizationMetric().collect_device == 'auto'

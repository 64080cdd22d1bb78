"""PseudoLabelHook across processes: wrapped models and a 2-rank gloo group on CPU.

Each run builds the tiny AVLocalizer with the same seed, a real Runner and refreshes
once. The extraction loader uses batch size 1 and every process one thread, so every
sample's prediction is computed bit-identically wherever it runs; the tables must then
be *equal*, not merely close:

- world size 1: the plain model and the model wrapped in ``MMDistributedDataParallel``
  (1-process gloo group) write the same tables;
- world size 2: each rank extracts only its shard (``DefaultSampler`` pads the last one),
  and afterwards both ranks hold the same tables as the single-process run.
"""
import os.path as osp
import sys

import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from mmengine.model import MMDistributedDataParallel
from process_groups import init_gloo, rendezvous_url

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from test_pseudo_label_hook import (TEST_PIPELINE, build_localizer, hook_of,  # noqa: E402
                                    make_runner, record_test_step)

NUM_SAMPLES = 7  # odd: the second shard is padded with a duplicate
NUM_CLUSTERS = 2


def _refresh_once(work_dir, wrap: bool):
    """Build a seeded localizer (optionally DDP-wrapped), refresh once; return tables and seen indices."""
    model = build_localizer(seed=0)
    received = record_test_step(model)
    if wrap:
        model = MMDistributedDataParallel(module=model)
    hook_cfg = dict(type='PseudoLabelHook', num_clusters=NUM_CLUSTERS, iteration_epochs=[1, 1], seed=3,
                    dataloader=dict(batch_size=1, dataset=dict(pipeline=TEST_PIPELINE)))
    runner = make_runner(work_dir, hook_cfg, model=model, num_samples=NUM_SAMPLES, batch_size=2)
    hook_of(runner).refresh(runner)
    localizer = runner.model.module if wrap else runner.model
    bank = localizer.pseudo_label_bank
    return dict(maps=bank.maps.clone(), clusters=bank.clusters.clone(), valid=bank.valid.clone(),
                round=bank.round.clone(), seen=[index for index, _, _ in received],
                wrapped=isinstance(runner.model, MMDistributedDataParallel))


def _worker(rank: int, world_size: int, url: str, out_dir: str) -> None:
    """One process of the group: refresh with the DDP-wrapped model, save what it holds."""
    torch.set_num_threads(1)
    init_gloo(rank, world_size, url)
    try:
        result = _refresh_once(osp.join(out_dir, f'rank{rank}'), wrap=True)
        torch.save(result, osp.join(out_dir, f'rank{rank}.pt'))
    finally:
        torch_dist.destroy_process_group()


def _single_process_results(out_dir: str):
    """Plain and DDP-wrapped refresh in this process, inside a 1-process gloo group."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    init_gloo(0, 1, rendezvous_url())
    try:
        return (_refresh_once(osp.join(out_dir, 'plain'), wrap=False),
                _refresh_once(osp.join(out_dir, 'wrapped'), wrap=True))
    finally:
        torch_dist.destroy_process_group()
        torch.set_num_threads(threads)


def _assert_same_tables(first, second):
    for key in ('maps', 'clusters', 'valid', 'round'):
        assert torch.equal(first[key], second[key]), key


def test_wrapped_and_two_rank_refreshes_write_identical_tables(tmp_path):
    plain, wrapped = _single_process_results(str(tmp_path))

    # World size 1: wrapping changes nothing; every sample extracted once, in order.
    assert wrapped['wrapped'] and not plain['wrapped']
    _assert_same_tables(plain, wrapped)
    assert plain['seen'] == list(range(NUM_SAMPLES))
    assert plain['valid'].all() and int(plain['round']) == 1 and plain['maps'].shape[0] == NUM_SAMPLES
    assert torch.bincount(plain['clusters'], minlength=NUM_CLUSTERS).min() >= 1

    mp.spawn(_worker, args=(2, rendezvous_url(), str(tmp_path)), nprocs=2, join=True)
    rank0, rank1 = (torch.load(osp.join(tmp_path, f'rank{rank}.pt'), weights_only=False) for rank in range(2))
    # World size 2: each rank saw only its shard (4 samples, the second padded) ...
    assert len(rank0['seen']) == len(rank1['seen']) == 4
    assert sorted(set(rank0['seen']) | set(rank1['seen'])) == list(range(NUM_SAMPLES))
    assert len(set(rank0['seen']) & set(rank1['seen'])) == 1  # the padding duplicate
    # ... and both ranks hold the single-process tables.
    _assert_same_tables(rank0, plain)
    _assert_same_tables(rank1, plain)

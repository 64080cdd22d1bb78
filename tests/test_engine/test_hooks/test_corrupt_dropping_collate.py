"""CorruptSampleHook makes any training collate see only the samples that loaded (markers ride along)."""
import pickle
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate, pseudo_collate
from mmengine.logging import MessageHub
from torch.utils.data import DataLoader, Dataset

from icl_av.datasets import CorruptSample
from icl_av.datasets.corrupt_samples import CorruptDroppingCollate, MarkedBatch, corrupt_in, has_samples
from icl_av.datasets.transforms import PackAVInputs
from icl_av.engine.hooks import CorruptSampleHook
from icl_av.engine.hooks.corrupt_sample_hook import CorruptSkippingLoader


def packed(idx):
    results = dict(img=np.zeros((8, 8, 3), np.uint8), audio=np.zeros(160, np.float32), audio_sample_rate=16000,
                   sample_idx=idx, video_id=f'v{idx}', img_shape=(8, 8), ori_shape=(8, 8))
    return PackAVInputs()(results)


def marker(idx):
    return CorruptSample(sample_idx=idx, video_id=f'v{idx}', path=f'/data/frames/v{idx}.jpg',
                         reason='truncated JPEG (no end-of-image marker)')


class WithCorrupt(Dataset):
    """Packed samples, with markers at the given indices (what on_corrupt='skip' returns)."""

    def __init__(self, size, bad):
        self.size, self.bad = size, set(bad)

    def __len__(self):
        return self.size

    def __getitem__(self, idx):
        return marker(idx) if idx in self.bad else packed(idx)


def as_tuple(samples):
    """A custom collate whose result has no room for a 'corrupt' key."""
    return tuple(s['data_samples'].sample_idx for s in samples)


@pytest.mark.parametrize('collate_fn', [pseudo_collate, default_collate])
def test_mmengine_collates_see_only_real_samples(collate_fn):
    batch = CorruptDroppingCollate(collate_fn)([packed(0), marker(1), packed(2)])
    assert [s.sample_idx for s in batch['data_samples']] == [0, 2]
    assert [m.sample_idx for m in corrupt_in(batch)] == [1] and has_samples(batch)
    empty = CorruptDroppingCollate(collate_fn)([marker(3), marker(4)])
    assert not has_samples(empty) and len(corrupt_in(empty)) == 2


def test_a_non_dict_collate_gets_its_markers_in_a_marked_batch():
    collate = CorruptDroppingCollate(as_tuple)
    assert collate([packed(0), packed(1)]) == (0, 1)
    marked = collate([packed(0), marker(1)])
    assert isinstance(marked, MarkedBatch) and marked.batch == (0,) and corrupt_in(marked) == [marker(1)]
    again = pickle.loads(pickle.dumps(marked))
    assert again.batch == (0,) and again.corrupt == [marker(1)]
    assert CorruptDroppingCollate(collate).collate_fn is as_tuple  # wrapped once
    assert pickle.loads(pickle.dumps(collate)).collate_fn is as_tuple  # spawned workers get it


class FakeRunner:
    def __init__(self, loader):
        self.epoch = 0
        self._resume = False
        self.warnings = []
        self.logger = SimpleNamespace(warning=self.warnings.append)
        self.message_hub = MessageHub.get_instance(f'corrupt_collate_test_{id(self)}')
        self.train_loop = SimpleNamespace(dataloader=loader)


@pytest.mark.parametrize('collate_fn', [pseudo_collate, default_collate, as_tuple])
def test_hook_drops_markers_before_the_loaders_own_collate_in_workers(collate_fn):
    """Two loader workers, a collate that knows nothing of markers: the loop sees only real samples."""
    loader = DataLoader(WithCorrupt(8, bad={1, 4, 5}), batch_size=2, num_workers=2, collate_fn=collate_fn)
    runner = FakeRunner(loader)
    hook = CorruptSampleHook(max_corrupt_fraction=0.5)
    hook.before_train(runner)
    hook.before_train_epoch(runner)
    wrapped = runner.train_loop.dataloader
    assert isinstance(wrapped, CorruptSkippingLoader)
    batches = list(wrapped)
    if collate_fn is as_tuple:
        seen = [list(b) for b in batches]
    else:
        seen = [[s.sample_idx for s in b['data_samples']] for b in batches]
    assert seen == [[0], [2, 3], [6, 7]]  # the batch (4, 5) is skipped; nothing is replaced
    assert hook.per_epoch == {0: 3}
    assert sorted(hook.logged) == ['/data/frames/v1.jpg', '/data/frames/v4.jpg', '/data/frames/v5.jpg']
    hook.after_train(runner)
    assert runner.train_loop.dataloader is loader and loader.collate_fn is collate_fn


def test_a_persistent_loader_restarts_its_workers_with_the_new_collate():
    loader = DataLoader(WithCorrupt(4, bad={1}), batch_size=2, num_workers=1, persistent_workers=True,
                        collate_fn=pseudo_collate)
    with pytest.raises(TypeError, match='CorruptSampleHook'):
        next(iter(loader))  # the workers start with the plain collate
    assert loader._iterator is not None
    runner = FakeRunner(loader)
    hook = CorruptSampleHook(max_corrupt_fraction=1.0)
    hook.before_train(runner)
    hook.before_train_epoch(runner)
    seen = [[s.sample_idx for s in b['data_samples']] for b in runner.train_loop.dataloader]
    assert seen == [[0], [2, 3]]


def test_unbatched_loader_yields_samples_and_markers_are_skipped():
    loader = DataLoader(WithCorrupt(3, bad={1}), batch_size=None)
    runner = FakeRunner(loader)
    hook = CorruptSampleHook(max_corrupt_fraction=1.0)
    hook.before_train(runner)
    hook.before_train_epoch(runner)
    items = list(runner.train_loop.dataloader)
    assert [item['data_samples'].sample_idx for item in items] == [0, 2] and hook.per_epoch == {0: 1}


@pytest.mark.skipif(not torch.cuda.is_available(), reason='pinning memory needs an accelerator')
def test_marked_batch_pins_its_batch():
    marked = MarkedBatch((torch.zeros(2),), [marker(1)]).pin_memory()
    assert marked.batch[0].is_pinned() and marked.corrupt == [marker(1)]

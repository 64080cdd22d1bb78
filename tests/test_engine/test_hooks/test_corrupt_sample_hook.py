"""CorruptSampleHook and corrupt_aware_collate: markers dropped from batches, counted once, bounded, resumable."""
import logging
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub

from icl_av.datasets import CorruptSample, corrupt_aware_collate
from icl_av.datasets.errors import CorruptSampleLimitError
from icl_av.datasets.transforms import PackAVInputs
from icl_av.engine.hooks import CorruptSampleHook
from icl_av.engine.hooks.corrupt_sample_hook import CorruptSkippingLoader
from icl_av.models.data_preprocessors.av_data_preprocessor import AVDataPreprocessor


def packed(idx):
    results = dict(img=np.zeros((8, 8, 3), np.uint8), audio=np.zeros(160, np.float32), audio_sample_rate=16000,
                   sample_idx=idx, video_id=f'v{idx}', img_shape=(8, 8), ori_shape=(8, 8))
    return PackAVInputs()(results)


def marker(idx, path=None):
    return CorruptSample(sample_idx=idx, video_id=f'v{idx}', path=path or f'/data/frames/v{idx}.jpg',
                         reason='truncated JPEG (no end-of-image marker)')


class FakeRunner:
    """What the hook touches: epoch, logger, message hub, the train loop's dataloader, the resume flag."""

    def __init__(self, batches, epoch=0, resume=False):
        self.epoch = epoch
        self._resume = resume
        self.warnings = []
        self.logger = SimpleNamespace(warning=self.warnings.append)
        self.message_hub = MessageHub.get_instance(f'corrupt_hook_test_{id(self)}')
        self.train_loop = SimpleNamespace(dataloader=ListLoader(batches))


class ListLoader(list):
    """A 'dataloader' yielding prepared batches; its sampler has one entry per sample."""

    @property
    def sampler(self):
        return range(sum(len(b['data_samples']) + len(b.get('corrupt', [])) for b in self))


def collated(*items):
    return corrupt_aware_collate(list(items))


def test_collate_drops_markers_and_keeps_order():
    batch = collated(packed(0), marker(1), packed(2))
    assert [s.sample_idx for s in batch['data_samples']] == [0, 2]
    assert len(batch['inputs']['img']) == 2
    assert [m.sample_idx for m in batch['corrupt']] == [1]
    empty = collated(marker(3), marker(4))
    assert empty['data_samples'] == [] and len(empty['corrupt']) == 2


def test_preprocessor_ignores_markers_and_explains_an_empty_batch():
    preprocessor = AVDataPreprocessor(audio_frontend=dict(type='LogMelFrontend', sample_rate=16000, n_mels=8,
                                                          n_fft=64, win_length=64, hop_length=32))
    out = preprocessor(collated(packed(0), marker(1)))
    assert out['inputs']['img'].shape[0] == 1 and len(out['data_samples']) == 1
    with pytest.raises(ValueError, match='every sample of this batch failed to load.*CorruptSampleHook'):
        preprocessor(collated(marker(2)))


def test_hook_skips_empty_batches_logs_each_file_once_and_counts_per_epoch():
    batches = [collated(packed(0), marker(1)), collated(marker(2), marker(3)), collated(packed(4), marker(1))]
    runner = FakeRunner(batches)
    hook = CorruptSampleHook(max_corrupt_fraction=0.9)
    hook.before_train(runner)
    hook.before_train(runner)  # idempotent: wrapped once
    loader = runner.train_loop.dataloader
    assert isinstance(loader, CorruptSkippingLoader) and len(loader) == 3
    hook.before_train_epoch(runner)
    seen = [[s.sample_idx for s in b['data_samples']] for b in loader]
    assert seen == [[0], [4]]  # the all-corrupt batch is skipped, nothing replaced
    logged = [w for w in runner.warnings if w.startswith('corrupt sample skipped')]
    assert len(logged) == 3 and sum('v1.jpg' in w for w in logged) == 1
    assert hook.per_epoch == {0: 4}
    assert runner.message_hub.get_scalar('train/corrupt_samples').current() == 4
    hook.after_train_epoch(runner)
    assert '4 of 6 samples failed' in runner.warnings[-1]


def test_hook_stops_the_run_with_one_line_past_the_limit():
    runner = FakeRunner([collated(packed(0), marker(1)), collated(marker(2), packed(3))])
    hook = CorruptSampleHook(max_corrupt_fraction=0.3)
    hook.before_train(runner)
    hook.before_train_epoch(runner)
    with pytest.raises(CorruptSampleLimitError) as caught:
        list(runner.train_loop.dataloader)
    message = str(caught.value)
    assert '\n' not in message and '2 of 4 samples of training epoch 1' in message
    assert 'max_corrupt_fraction=0.3' in message and 'verify_dataset.py' in message


def test_state_survives_a_checkpoint_only_when_resuming():
    runner = FakeRunner([collated(packed(0), marker(1))])
    hook = CorruptSampleHook(max_corrupt_fraction=1.0)
    hook.before_train(runner)
    hook.before_train_epoch(runner)
    list(runner.train_loop.dataloader)
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    torch.save(checkpoint, '/dev/null')  # plain python types only

    resumed = CorruptSampleHook()
    resumed.after_load_checkpoint(FakeRunner([], resume=True), checkpoint)
    assert resumed.state_dict() == hook.state_dict() == {'logged': {'/data/frames/v1.jpg': marker(1).reason},
                                                         'per_epoch': {0: 1}}
    fresh = CorruptSampleHook()
    fresh.after_load_checkpoint(FakeRunner([], resume=False), checkpoint)  # load_from: fine-tuning starts afresh
    assert fresh.state_dict() == {'logged': {}, 'per_epoch': {}}


def test_fraction_is_validated():
    with pytest.raises(ValueError, match='max_corrupt_fraction'):
        CorruptSampleHook(max_corrupt_fraction=1.5)


def test_a_marker_in_the_default_collate_says_which_collate_to_use():
    from mmengine.dataset import pseudo_collate
    with pytest.raises(TypeError, match="corrupt_aware_collate"):
        pseudo_collate([packed(0), marker(1)])
    preprocessor = AVDataPreprocessor()
    with pytest.raises(TypeError, match='corrupt_aware_collate'):
        preprocessor(pseudo_collate([marker(1), packed(0)]))  # a marker first: pseudo_collate returns the list


class OtherRank:
    """A second rank simulated in ``all_reduce``: per batch, its number of failed samples and whether it is empty."""

    def __init__(self, per_batch):
        self.per_batch = list(per_batch)
        self.calls = 0

    def __call__(self, counts):
        failed, empty = self.per_batch[self.calls]
        counts += torch.tensor([failed, int(empty)], dtype=counts.dtype)
        self.calls += 1


def two_ranks(monkeypatch, other_rank):
    from icl_av.engine.hooks import corrupt_sample_hook
    monkeypatch.setattr(corrupt_sample_hook, 'get_world_size', lambda: 2)
    monkeypatch.setattr(corrupt_sample_hook, 'all_reduce', other_rank)


def test_ranks_skip_together_and_count_over_all_ranks(monkeypatch):
    """A batch empty on any rank is skipped on every rank (same number of steps), and the count is the sum."""
    other = OtherRank([(1, False), (2, True), (0, False)])  # the other rank's second batch failed entirely
    two_ranks(monkeypatch, other)
    runner = FakeRunner([collated(packed(0), marker(1)), collated(packed(2), packed(3)), collated(packed(4))])
    hook = CorruptSampleHook(max_corrupt_fraction=0.9)
    hook.before_train(runner)
    hook.before_train_epoch(runner)
    seen = [[s.sample_idx for s in b['data_samples']] for b in runner.train_loop.dataloader]
    assert seen == [[0], [4]] and other.calls == 3  # this rank's full second batch is skipped too
    assert any('failed to load on another rank' in w for w in runner.warnings)
    assert hook.per_epoch == {0: 1 + 1 + 2}  # this rank's 1 and the other rank's 1 + 2
    hook.after_train_epoch(runner)
    assert '4 of 10 samples failed' in runner.warnings[-1]  # 5 samples here, 5 on the other rank


def test_every_rank_stops_when_the_sum_passes_the_limit(monkeypatch):
    """This rank alone is under the limit; with the other rank's failures every rank stops."""
    two_ranks(monkeypatch, OtherRank([(2, False)]))
    runner = FakeRunner([collated(packed(0), packed(1), packed(2), marker(3))])
    hook = CorruptSampleHook(max_corrupt_fraction=0.3)
    hook.before_train(runner)
    hook.before_train_epoch(runner)
    with pytest.raises(CorruptSampleLimitError, match='3 of 8 samples of training epoch 1'):
        list(runner.train_loop.dataloader)

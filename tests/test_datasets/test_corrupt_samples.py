"""corrupt_aware_collate stacks the inputs into batch tensors (in the loader workers); values never change."""
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader, Dataset

from icl_av.datasets import CorruptSample, corrupt_aware_collate
from icl_av.datasets.corrupt_samples import CorruptDroppingCollate, stack_inputs
from icl_av.datasets.transforms import PackAVInputs
from icl_av.models.data_preprocessors import AVDataPreprocessor


def packed(idx, audio_len=160):
    rng = np.random.default_rng(idx)
    results = dict(img=rng.integers(0, 255, (8, 8, 3), dtype=np.uint8),
                   audio=rng.standard_normal(audio_len).astype(np.float32), audio_sample_rate=16000,
                   sample_idx=idx, video_id=f'v{idx}', img_shape=(8, 8), ori_shape=(8, 8))
    return PackAVInputs()(results)


class Packed(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, idx):
        if idx == 3:
            return CorruptSample(sample_idx=3, video_id='v3', path='v3.jpg', reason='truncated')
        return packed(idx)


def test_equal_shapes_are_stacked_and_equal_the_lists():
    items = [packed(i) for i in range(3)]
    lists = pseudo_collate(items)
    batch = corrupt_aware_collate(items)
    assert batch['inputs']['img'].shape == (3, 3, 8, 8) and batch['inputs']['img'].dtype == torch.uint8
    assert torch.equal(batch['inputs']['img'], torch.stack(lists['inputs']['img']))
    assert torch.equal(batch['inputs']['audio'], torch.stack(lists['inputs']['audio']))
    assert [s.sample_idx for s in batch['data_samples']] == [0, 1, 2] and batch['corrupt'] == []


def test_different_shapes_stay_lists_and_stack_false_keeps_lists():
    batch = corrupt_aware_collate([packed(0, 160), packed(1, 150)])
    assert isinstance(batch['inputs']['img'], torch.Tensor)
    assert isinstance(batch['inputs']['audio'], list) and len(batch['inputs']['audio']) == 2
    kept = corrupt_aware_collate([packed(0), packed(1)], stack=False)
    assert isinstance(kept['inputs']['img'], list)
    assert stack_inputs([1, 2]) == [1, 2]  # not a batch dict: untouched


@pytest.mark.parametrize('collate', ['corrupt_aware', 'pseudo_wrapped'])
def test_stacking_in_workers_gives_the_preprocessor_the_same_batch(collate):
    collate_fn = corrupt_aware_collate if collate == 'corrupt_aware' else CorruptDroppingCollate(pseudo_collate)
    loader = DataLoader(Packed(), batch_size=3, num_workers=1, collate_fn=collate_fn)
    batches = list(loader)
    reference = [pseudo_collate([packed(i) for i in ids]) for ids in ([0, 1, 2], [4, 5])]
    preprocessor = AVDataPreprocessor(audio_frontend=dict(type='LogMelFrontend', sample_rate=16000, n_mels=8,
                                                          n_fft=64, hop_length=32, win_length=64))
    for batch, expected in zip(batches, reference):
        assert isinstance(batch['inputs']['img'], torch.Tensor) == (collate == 'corrupt_aware')
        ours, theirs = preprocessor(batch)['inputs'], preprocessor(expected)['inputs']
        assert torch.equal(ours['img'], theirs['img']) and torch.equal(ours['audio'], theirs['audio'])
    assert [m.sample_idx for m in batches[1]['corrupt']] == [3]

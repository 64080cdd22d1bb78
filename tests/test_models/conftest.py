"""Fixtures for the model tests: a tiny localizer config and a packed batch."""
import copy

import pytest
import torch

from icl_av.structures import AVDataSample

SAMPLE_RATE = 16000
TINY_LOCALIZER = dict(
    type='AVLocalizer',
    data_preprocessor=dict(type='AVDataPreprocessor',
                           audio_frontend=dict(type='LogMelFrontend', sample_rate=SAMPLE_RATE, n_mels=32)),
    visual_backbone=dict(type='TimmVisualBackbone', model_name='resnet18', out_index=3),
    audio_backbone=dict(type='TimmAudioEncoder', model_name='resnet18', pool='max'),
    head=dict(type='AVSimilarityHead', embed_dims=16),
    loss=dict(type='ICLLoss', fg_ratio=0.25, bg_ratio=0.5))


def make_batch(batch_size: int = 4, size: int = 64, num_audio_samples: int = 4000, seed: int = 0,
               flips=None) -> dict:
    """A packed batch as PackAVInputs + pseudo_collate deliver it (uint8 BGR images, 1×N waveforms)."""
    gen = torch.Generator().manual_seed(seed)
    flips = flips or [False] * batch_size
    return dict(
        inputs=dict(
            img=[torch.randint(0, 256, (3, size, size), generator=gen, dtype=torch.uint8) for _ in range(batch_size)],
            audio=[torch.randn(1, num_audio_samples, generator=gen) for _ in range(batch_size)]),
        data_samples=[AVDataSample(metainfo=dict(sample_idx=i, flip=flips[i], img_shape=(size, size)))
                      for i in range(batch_size)])


@pytest.fixture
def tiny_localizer_cfg():
    """A deep copy of the tiny resnet18 localizer config (64 px -> 4×4 maps)."""
    return copy.deepcopy(TINY_LOCALIZER)


@pytest.fixture
def tiny_batch():
    """Four random samples, 64 px images and 0.25 s of audio."""
    return make_batch()


@pytest.fixture
def batch_factory():
    """``make_batch(batch_size, size, num_audio_samples, seed, flips)`` for tests needing other batches."""
    return make_batch

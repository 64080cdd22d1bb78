"""PackAVInputs produces the contract layout of docs/contracts.md."""
import numpy as np
import pytest
import torch

from icl_av.registry import TRANSFORMS
from icl_av.structures import AVDataSample


def _results(**extra):
    img = np.zeros((8, 12, 3), np.uint8)
    img[..., 0] = 10  # B
    img[..., 2] = 200  # R
    base = dict(img=img, img_shape=(8, 12), ori_shape=(16, 24), audio=np.ones(100, np.float32),
                audio_sample_rate=16000, audio_meta=dict(rate=16000, offset=0.5, duration=3.0),
                sample_idx=3, video_id='vid', flip=True)
    base.update(extra)
    return base


def test_pack_waveform_layout_and_metainfo():
    packed = TRANSFORMS.build(dict(type='PackAVInputs'))(_results())
    img, audio = packed['inputs']['img'], packed['inputs']['audio']
    assert img.dtype == torch.uint8 and img.shape == (3, 8, 12)
    assert img[0, 0, 0] == 10 and img[2, 0, 0] == 200  # still BGR
    assert audio.dtype == torch.float32 and audio.shape == (1, 100)
    sample = packed['data_samples']
    assert isinstance(sample, AVDataSample)
    meta = sample.metainfo
    assert meta['sample_idx'] == 3 and meta['video_id'] == 'vid' and meta['flip'] is True
    assert meta['img_shape'] == (8, 12) and meta['ori_shape'] == (16, 24)
    assert meta['audio_meta']['offset'] == 0.5
    # No boxes on this sample: still a float (0, 4) tensor.
    assert sample.gt_bboxes.dtype == torch.float32 and sample.gt_bboxes.shape == (0, 4)


def test_pack_feature_and_annotations():
    rle = {'size': [8, 12], 'counts': '0`1'}
    packed = TRANSFORMS.build(dict(type='PackAVInputs'))(_results(
        audio=np.zeros((64, 20), np.float32), audio_is_feature=True,
        gt_bboxes=np.array([[1, 2, 3, 4]], np.float32), gt_map=np.ones((8, 12), np.float32),
        gt_masks=[rle], is_sounding=False))
    assert packed['inputs']['audio'].shape == (1, 64, 20)
    sample = packed['data_samples']
    assert torch.equal(sample.gt_bboxes, torch.tensor([[1., 2., 3., 4.]]))
    assert sample.gt_map.shape == (8, 12) and sample.gt_masks == [rle]
    assert sample.is_sounding is False


def test_pack_grayscale_and_bad_audio_shape():
    packed = TRANSFORMS.build(dict(type='PackAVInputs'))(_results(img=np.zeros((8, 12), np.uint8)))
    assert packed['inputs']['img'].shape == (3, 8, 12)
    with pytest.raises(ValueError, match='waveform'):
        TRANSFORMS.build(dict(type='PackAVInputs'))(_results(audio=np.zeros((2, 3, 4), np.float32)))


def test_pack_sets_flip_false_by_default():
    results = _results()
    results.pop('flip')
    assert TRANSFORMS.build(dict(type='PackAVInputs'))(results)['data_samples'].metainfo['flip'] is False

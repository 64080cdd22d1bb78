"""AVDataPreprocessor: stacking, BGR->RGB, normalisation, channels_last and the audio front end."""
import pytest
import torch

from icl_av.models.data_preprocessors import AVDataPreprocessor
from icl_av.registry import MODELS


def _bgr_image(b, g, r, size=8):
    return torch.stack([torch.full((size, size), v, dtype=torch.uint8) for v in (b, g, r)])


def test_bgr_to_rgb_and_normalisation():
    mean, std = (100.0, 110.0, 120.0), (10.0, 20.0, 40.0)
    pre = AVDataPreprocessor(mean=mean, std=std, bgr_to_rgb=True)
    data = dict(inputs=dict(img=[_bgr_image(10, 20, 30)] * 2, audio=[torch.zeros(1, 4, 5)] * 2),
                data_samples=['a', 'b'])
    out = pre(data)
    img = out['inputs']['img']
    assert img.shape == (2, 3, 8, 8) and img.dtype == torch.float32
    # RGB order after the flip: r=30, g=20, b=10
    assert img[0, 0, 0, 0].item() == pytest.approx((30 - 100) / 10)
    assert img[0, 1, 0, 0].item() == pytest.approx((20 - 110) / 20)
    assert img[0, 2, 0, 0].item() == pytest.approx((10 - 120) / 40)
    assert out['data_samples'] == ['a', 'b']
    keep = AVDataPreprocessor(mean=mean, std=std, bgr_to_rgb=False)(data)['inputs']['img']
    assert keep[0, 0, 0, 0].item() == pytest.approx((10 - 100) / 10)


def test_channels_last():
    pre = AVDataPreprocessor(channels_last=True)
    out = pre(dict(inputs=dict(img=[_bgr_image(1, 2, 3)] * 2, audio=torch.zeros(2, 1, 4, 5))))
    assert out['inputs']['img'].is_contiguous(memory_format=torch.channels_last)


def test_waveform_goes_through_frontend_and_is_padded():
    pre = MODELS.build(dict(type='AVDataPreprocessor',
                            audio_frontend=dict(type='LogMelFrontend', sample_rate=16000, n_mels=64)))
    audio = [torch.randn(1, 16000), torch.randn(1, 15990)]
    out = pre(dict(inputs=dict(img=[_bgr_image(1, 2, 3)] * 2, audio=audio)))
    spec = out['inputs']['audio']
    assert spec.shape == (2, 1, 64, 101)  # 1 + 16000 // 160 frames
    expected = pre.audio_frontend(audio[0][None])
    assert torch.allclose(spec[0], expected[0], atol=1e-5)


def test_features_bypass_frontend_and_normalise():
    pre = AVDataPreprocessor(audio_frontend=dict(type='LogMelFrontend'), audio_norm='batch')
    feats = [torch.randn(1, 16, 10) * 3 + 5 for _ in range(3)]
    out = pre(dict(inputs=dict(img=[_bgr_image(1, 2, 3)] * 3, audio=feats)))['inputs']['audio']
    assert out.shape == (3, 1, 16, 10)
    assert out.mean().item() == pytest.approx(0.0, abs=1e-5) and out.std().item() == pytest.approx(1.0, abs=1e-4)
    per = AVDataPreprocessor(audio_norm='sample')(dict(inputs=dict(img=[_bgr_image(1, 2, 3)] * 3,
                                                                   audio=feats)))['inputs']['audio']
    assert torch.allclose(per.flatten(1).mean(1), torch.zeros(3), atol=1e-5)


def test_errors_name_the_problem():
    pre = AVDataPreprocessor()
    with pytest.raises(ValueError, match='audio_frontend'):
        pre(dict(inputs=dict(img=[_bgr_image(1, 2, 3)], audio=[torch.randn(1, 100)])))
    with pytest.raises(ValueError, match='share a shape'):
        pre(dict(inputs=dict(img=[_bgr_image(1, 2, 3), _bgr_image(1, 2, 3, size=4)],
                             audio=[torch.zeros(1, 4, 4)] * 2)))
    with pytest.raises(ValueError, match='audio_norm'):
        AVDataPreprocessor(audio_norm='global')


def test_channels_last_auto_is_for_cuda_only():
    pre = AVDataPreprocessor()
    assert pre.channels_last == 'auto'
    assert pre.use_channels_last(torch.device('cuda', 0)) and not pre.use_channels_last(torch.device('cpu'))
    out = pre(dict(inputs=dict(img=[_bgr_image(1, 2, 3)] * 2, audio=torch.zeros(2, 1, 4, 5))))
    img = out['inputs']['img']
    assert img.is_contiguous() and not img.is_contiguous(memory_format=torch.channels_last)  # CPU: unchanged
    assert not AVDataPreprocessor(channels_last=False).use_channels_last(torch.device('cuda'))
    assert AVDataPreprocessor(channels_last=True).use_channels_last(torch.device('cpu'))
    with pytest.raises(ValueError, match='channels_last'):
        AVDataPreprocessor(channels_last='cuda')


def test_copies_to_the_device_are_non_blocking(monkeypatch):
    pre = AVDataPreprocessor()
    calls = []
    original = torch.Tensor.to

    def spy(self, *args, **kwargs):
        calls.append(kwargs.get('non_blocking'))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, 'to', spy)
    stacked = torch.stack([_bgr_image(1, 2, 3)] * 2)
    out = pre(dict(inputs=dict(img=stacked, audio=torch.zeros(2, 1, 4, 5))))
    assert calls and all(calls)  # every host-to-device copy asked for non_blocking
    assert out['inputs']['img'].shape == (2, 3, 8, 8)


def test_a_stacked_batch_and_a_list_give_the_same_tensors():
    images = [_bgr_image(1, 2, 3), _bgr_image(4, 5, 6)]
    feats = [torch.randn(1, 4, 5), torch.randn(1, 4, 5)]
    pre = AVDataPreprocessor()
    listed = pre(dict(inputs=dict(img=images, audio=feats)))['inputs']
    stacked = pre(dict(inputs=dict(img=torch.stack(images), audio=torch.stack(feats))))['inputs']
    assert torch.equal(listed['img'], stacked['img']) and torch.equal(listed['audio'], stacked['audio'])

"""init_localizer / inference_localizer on a tiny random-weight model."""
import numpy as np
import pytest
import soundfile as sf
import torch

from icl_av.apis import build_inference_pipeline, inference_localizer, init_localizer
from icl_av.datasets import AVLoadError
from icl_av.utils.errors import UserInputError


@pytest.fixture(scope='module')
def model(tiny_config, tiny_checkpoint):
    return init_localizer(tiny_config, tiny_checkpoint, device='cpu')


def test_init_localizer_loads_weights_and_sets_cfg(model, tiny_checkpoint):
    assert not model.training
    assert model.cfg.test_dataloader.dataset.img_size == 32
    saved = torch.load(tiny_checkpoint, map_location='cpu')['state_dict']
    name = next(k for k in saved if k.endswith('weight') and saved[k].dim() == 4)
    assert torch.equal(model.state_dict()[name], saved[name])


def test_init_localizer_errors(tiny_config, tmp_path):
    with pytest.raises(UserInputError, match='config file not found'):
        init_localizer(str(tmp_path / 'missing.py'))
    with pytest.raises(UserInputError, match='checkpoint not found'):
        init_localizer(tiny_config, str(tmp_path / 'missing.pth'))
    garbage = tmp_path / 'garbage.pth'
    garbage.write_text('this is not a checkpoint')
    with pytest.raises(UserInputError, match='not a checkpoint'):
        init_localizer(tiny_config, str(garbage))


def test_inference_pipeline_adds_clip_and_resize_for_in_memory_configs(model):
    pipeline, rate = build_inference_pipeline(model.cfg)
    names = [type(t).__name__ for t in pipeline.transforms]
    assert names == ['AudioClip', 'Resize', 'PackAVInputs'] and rate == 16000


def test_inference_on_arrays_returns_heatmap_in_frame_size(model, rng):
    frame = rng.integers(0, 255, (48, 40, 3), dtype=np.uint8)
    wave = rng.standard_normal(8000 * 2).astype(np.float32) * 0.1
    out = inference_localizer(model, frame=frame, audio=wave, sample_rate=8000)
    heat = out['heatmap']
    assert heat.shape == (48, 40) and heat.dtype == np.float32
    assert 0.0 <= heat.min() and heat.max() <= 1.0 and heat.max() == pytest.approx(1.0)
    assert isinstance(out['confidence'], float) and out['time'] is None
    several = inference_localizer(model, frame=frame, audio=wave, sample_rate=8000, time=[0.5, 1.5])
    assert [o['time'] for o in several] == [0.5, 1.5]
    assert not np.array_equal(several[0]['heatmap'], several[1]['heatmap'])  # different audio windows


def test_inference_on_files(model, rng, tmp_path):
    import cv2
    frame_path = tmp_path / 'frame.png'
    cv2.imwrite(str(frame_path), rng.integers(0, 255, (30, 50, 3), dtype=np.uint8))
    wav_path = tmp_path / 'a.wav'
    sf.write(str(wav_path), (rng.standard_normal(16000) * 0.1).astype(np.float32), 16000)
    out = inference_localizer(model, frame=str(frame_path), audio=str(wav_path))
    assert out['heatmap'].shape == (30, 50)
    with pytest.raises(AVLoadError, match='does not exist'):
        inference_localizer(model, frame=str(tmp_path / 'nope.png'), audio=str(wav_path))
    with pytest.raises(ValueError, match='sample_rate'):
        inference_localizer(model, frame=str(frame_path), audio=np.zeros(100, dtype=np.float32))
    with pytest.raises(ValueError, match='video, or both a frame and an audio'):
        inference_localizer(model, frame=str(frame_path))


def test_heatmap_is_pasted_back_through_a_centre_crop(model, rng):
    from mmcv.transforms import Compose
    from icl_av.apis.inference import localize_arrays
    pipeline = Compose([dict(type='AudioClip', duration=0.5), dict(type='Resize', scale=(32, 32)),
                        dict(type='CenterCrop', crop_size=16), dict(type='PackAVInputs')])
    frame = rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)
    out = localize_arrays(model, [frame], rng.standard_normal(16000).astype(np.float32), 16000, [None], pipeline)
    heat = out[0]['heatmap']
    assert heat.shape == (40, 40)
    inside = heat[10:30, 10:30]
    assert heat[:10].max() == 0 and heat[:, 30:].max() == 0  # cropped away: nothing shown
    assert inside.max() == pytest.approx(1.0)


def test_inference_on_video(model, tmp_path, av_video):
    video = av_video(tmp_path / 'v.mp4', seconds=2.0)
    out = inference_localizer(model, video=video)
    assert out['heatmap'].shape == (48, 64) and out['time'] == pytest.approx(1.0, abs=0.1)
    outs = inference_localizer(model, video=video, time=[0.2, 1.8])
    assert len(outs) == 2 and outs[1]['time'] == pytest.approx(1.8)
    with pytest.raises(ValueError, match='outside the video'):
        inference_localizer(model, video=video, time=5.0)


def test_video_without_audio_is_a_clear_error(model, tmp_path, av_video):
    video = av_video(tmp_path / 'silent.mp4', seconds=1.0, audio=False)
    with pytest.raises(AVLoadError, match='no audio track'):
        inference_localizer(model, video=video)


def test_checkpoint_skips_pretrained_backbone_weights(tiny_config, tiny_checkpoint, tmp_path):
    missing = str(tmp_path / 'never_downloaded.pth')
    options = {'model.visual_backbone.pretrained': missing}
    model = init_localizer(tiny_config, tiny_checkpoint, cfg_options=options)
    assert model.cfg.model.visual_backbone.pretrained is False
    with pytest.raises(Exception, match='never_downloaded'):
        init_localizer(tiny_config, None, cfg_options=options)  # without a checkpoint it is needed

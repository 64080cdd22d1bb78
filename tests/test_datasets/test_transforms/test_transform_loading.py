"""Loading transforms: formats that must work and bad input that must fail loudly, naming the file."""
import os

import cv2
import numpy as np
import pytest
import soundfile as sf

from icl_av.datasets.errors import AVLoadError
from icl_av.registry import TRANSFORMS


def _load_frame(path, **kwargs):
    return TRANSFORMS.build(dict(type='LoadAVFrame', **kwargs))(dict(img_path=str(path)))


def _load_audio(path, rate=16000, **kwargs):
    return TRANSFORMS.build(dict(type='LoadAudio', sample_rate=rate, **kwargs))(dict(audio_path=str(path)))


# ---------------------------------------------------------------- images
def test_jpeg_png_and_grayscale_decode_to_bgr_uint8(tmp_path, av_media):
    written = av_media.write_image(tmp_path / 'x.png', 20, 30)
    results = _load_frame(tmp_path / 'x.png')
    assert results['img'].dtype == np.uint8 and np.array_equal(results['img'], written)
    assert results['ori_shape'] == results['img_shape'] == (20, 30)
    cv2.imwrite(str(tmp_path / 'g.jpg'), np.full((20, 30), 77, np.uint8))
    assert _load_frame(tmp_path / 'g.jpg')['img'].shape == (20, 30, 3)
    cv2.imwrite(str(tmp_path / 'a.png'), np.zeros((20, 30, 4), np.uint8))  # with alpha
    assert _load_frame(tmp_path / 'a.png')['img'].shape == (20, 30, 3)


def test_cmyk_jpeg_decodes_to_three_channels(tmp_path):
    pil = pytest.importorskip('PIL.Image')
    pil.new('CMYK', (30, 20), (0, 255, 255, 0)).save(tmp_path / 'cmyk.jpg')  # pure red in CMYK
    img = _load_frame(tmp_path / 'cmyk.jpg')['img']
    assert img.shape == (20, 30, 3)
    assert img[..., 2].mean() > 150 and img[..., 0].mean() < 100  # red in BGR


def test_reduced_size_decoding(tmp_path, av_media):
    av_media.write_image(tmp_path / 'big.jpg', 64, 96)
    assert _load_frame(tmp_path / 'big.jpg', reduce_factor=2)['img'].shape == (32, 48, 3)


def test_normalised_boxes_become_pixels_of_loaded_image(tmp_path, av_media):
    av_media.write_image(tmp_path / 'x.jpg', 40, 80)
    results = TRANSFORMS.build(dict(type='LoadAVFrame'))(dict(
        img_path=str(tmp_path / 'x.jpg'), gt_bboxes=np.array([[0.5, 0.5, 1.0, 1.0]], np.float32),
        bbox_frame_size=(1.0, 1.0)))
    np.testing.assert_allclose(results['gt_bboxes'], [[40, 20, 80, 40]])


@pytest.mark.parametrize('make, reason', [
    (lambda p: None, 'does not exist'),
    (lambda p: open(p, 'wb').close(), 'empty'),
    (lambda p: open(p, 'wb').write(b'this is not an image'), 'not a decodable image'),
])
def test_bad_image_files_raise_avloaderror(tmp_path, make, reason):
    path = tmp_path / 'bad.jpg'
    make(path)
    with pytest.raises(AVLoadError, match=reason) as info:
        _load_frame(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, RuntimeError)


@pytest.mark.parametrize('ext', ['.jpg', '.png'])
def test_truncated_image_raises(tmp_path, av_media, ext):
    path = tmp_path / f'full{ext}'
    av_media.write_image(path, 48, 64)
    data = path.read_bytes()
    truncated = tmp_path / f'cut{ext}'
    truncated.write_bytes(data[:len(data) // 2])
    with pytest.raises(AVLoadError, match='truncated') as info:
        _load_frame(truncated)
    assert str(truncated) in str(info.value)


# ---------------------------------------------------------------- audio
@pytest.mark.parametrize('subtype', ['PCM_U8', 'PCM_16', 'PCM_24', 'PCM_32', 'FLOAT', 'DOUBLE'])
def test_wav_bit_depths_load_scaled_to_unit_range(tmp_path, av_media, subtype):
    path = tmp_path / 'a.wav'
    wave = av_media.write_wav(path, seconds=0.5, rate=16000, subtype=subtype, amplitude=0.5)
    results = _load_audio(path, rate=16000)
    audio = results['audio']
    assert audio.dtype == np.float32 and audio.shape == (8000,)
    np.testing.assert_allclose(audio, wave, atol=0.02)
    assert results['audio_sample_rate'] == 16000 and results['audio_meta']['duration'] == pytest.approx(0.5)


@pytest.mark.parametrize('channels', [2, 6])
def test_multichannel_is_mixed_to_mono(tmp_path, channels):
    rate = 16000
    data = np.zeros((rate // 4, channels), np.float32)
    data[:, 0] = 0.6  # only the first channel carries signal
    sf.write(tmp_path / 'm.wav', data, rate, subtype='FLOAT')
    results = _load_audio(tmp_path / 'm.wav', rate=rate)
    assert results['audio'].ndim == 1
    np.testing.assert_allclose(results['audio'], 0.6 / channels, atol=1e-6)
    assert results['audio_meta']['orig_channels'] == channels


@pytest.mark.parametrize('orig_rate', [8000, 11025, 22050, 44100, 48000])
def test_any_rate_is_resampled_to_the_configured_rate(tmp_path, av_media, orig_rate):
    av_media.write_wav(tmp_path / 'r.wav', seconds=0.5, rate=orig_rate, freq=300)
    results = _load_audio(tmp_path / 'r.wav', rate=16000)
    assert abs(results['audio'].size - 8000) <= 1
    spectrum = np.abs(np.fft.rfft(results['audio']))
    assert abs(np.argmax(spectrum) * 16000 / results['audio'].size - 300) < 10  # pitch preserved
    assert results['audio_meta']['orig_rate'] == orig_rate


def test_flac_and_ogg_load(tmp_path):
    wave = (0.3 * np.sin(np.arange(8000) / 5)).astype(np.float32)
    for ext, fmt in (('.flac', 'FLAC'), ('.ogg', 'OGG')):
        sf.write(tmp_path / f'x{ext}', wave, 16000, format=fmt)
        assert _load_audio(tmp_path / f'x{ext}')['audio'].shape[0] == pytest.approx(8000, abs=2)


def test_silent_audio_loads_as_zeros(tmp_path):
    sf.write(tmp_path / 's.wav', np.zeros(4000, np.float32), 16000)
    assert not _load_audio(tmp_path / 's.wav')['audio'].any()


def test_nan_inf_raise_by_default_and_can_be_zeroed(tmp_path):
    data = np.full(1000, 0.1, np.float32)
    data[10], data[20] = np.nan, np.inf
    sf.write(tmp_path / 'n.wav', data, 16000, subtype='FLOAT')
    with pytest.raises(AVLoadError, match='NaN/Inf') as info:
        _load_audio(tmp_path / 'n.wav')
    assert 'n.wav' in str(info.value)
    audio = _load_audio(tmp_path / 'n.wav', nonfinite='zero')['audio']
    assert np.isfinite(audio).all() and audio[10] == 0 and audio[11] == pytest.approx(0.1)


@pytest.mark.parametrize('make, reason', [
    (lambda p: None, 'does not exist'),
    (lambda p: open(p, 'wb').close(), 'empty'),
    (lambda p: open(p, 'wb').write(b'RIFF\x00\x00\x00\x00garbage'), 'not a decodable audio'),
])
def test_bad_audio_files_raise(tmp_path, make, reason):
    path = tmp_path / 'bad.wav'
    make(path)
    with pytest.raises(AVLoadError, match=reason) as info:
        _load_audio(path)
    assert str(path) in str(info.value)


def test_truncated_wav_header_only_raises(tmp_path, av_media):
    av_media.write_wav(tmp_path / 'full.wav', seconds=0.5)
    data = (tmp_path / 'full.wav').read_bytes()
    (tmp_path / 'cut.wav').write_bytes(data[:44])  # header, no samples
    with pytest.raises(AVLoadError, match='cut.wav'):
        _load_audio(tmp_path / 'cut.wav')


def test_truncated_wav_with_some_samples_loads_what_is_there(tmp_path, av_media):
    """A WAV cut mid-data decodes the samples present (libsndfile behaviour); AudioClip then tiles."""
    av_media.write_wav(tmp_path / 'full.wav', seconds=0.5)
    data = (tmp_path / 'full.wav').read_bytes()
    (tmp_path / 'cut.wav').write_bytes(data[:44 + 2000])
    assert _load_audio(tmp_path / 'cut.wav')['audio'].size == 1000


# ---------------------------------------------------------------- videos
def _load_video(path, **kwargs):
    return TRANSFORMS.build(dict(type='LoadVideoFrameAndAudio', sample_rate=16000, **kwargs))(
        dict(video_path=str(path)))


def test_video_without_audio_track_raises(tmp_path, av_media):
    av_media.write_video_only_mp4(tmp_path / 'v.mp4')
    with pytest.raises(AVLoadError, match='no audio track') as info:
        _load_video(tmp_path / 'v.mp4')
    assert 'v.mp4' in str(info.value)


def test_video_frame_selection_center_annotated_random(tmp_path, av_media):
    av_media.write_video_only_mp4(tmp_path / 'v.mp4', frames=20, fps=10)
    center = _load_video(tmp_path / 'v.mp4', load_audio=False)
    assert center['frame_index'] == 10 and center['img'].shape == (48, 64, 3)
    assert abs(int(center['img'].mean()) - 100) < 8  # frame i is filled with 10*i
    assert center['audio_center'] == pytest.approx(1.05)
    annotated = TRANSFORMS.build(dict(type='LoadVideoFrameAndAudio', load_audio=False))(
        dict(video_path=str(tmp_path / 'v.mp4'), frame_index=3))
    assert annotated['frame_index'] == 3 and abs(int(annotated['img'].mean()) - 30) < 8
    randoms = {_load_video(tmp_path / 'v.mp4', load_audio=False, frame_selection='random')['frame_index']
               for _ in range(8)}
    assert len(randoms) > 1 and all(0 <= i < 20 for i in randoms)


@pytest.mark.parametrize('make, reason', [
    (lambda p: None, 'does not exist'),
    (lambda p: open(p, 'wb').close(), 'empty'),
])
def test_missing_or_empty_video_raises(tmp_path, make, reason):
    path = tmp_path / 'x.mp4'
    make(path)
    with pytest.raises(AVLoadError, match=reason):
        _load_video(path)


def test_truncated_video_raises(tmp_path, av_media):
    av_media.write_video_only_mp4(tmp_path / 'v.mp4')
    data = (tmp_path / 'v.mp4').read_bytes()
    (tmp_path / 'cut.mp4').write_bytes(data[:len(data) // 3])
    with pytest.raises(AVLoadError, match='cut.mp4'):
        _load_video(tmp_path / 'cut.mp4')


@pytest.mark.parametrize('rate, channels', [(44100, 2), (8000, 1), (48000, 6)])
def test_video_with_audio_track(tmp_path, av_media, rate, channels):
    if not av_media.has_av_writer:
        pytest.skip('PyAV (av) is needed to write an mp4 with audio')
    av_media.write_av_mp4(tmp_path / 'va.mp4', seconds=2.0, rate=rate, channels=channels)
    results = _load_video(tmp_path / 'va.mp4')
    assert results['img'].shape == (48, 64, 3)
    assert results['audio'].ndim == 1 and abs(results['audio'].size / 16000 - 2.0) < 0.1
    assert results['audio_sample_rate'] == 16000 and np.abs(results['audio']).max() > 0.05
    # The container path also works through LoadAudio (PyAV backend).
    assert _load_audio(tmp_path / 'va.mp4')['audio'].size == results['audio'].size
    os.remove(tmp_path / 'va.mp4')


def test_truncated_mp4_names_the_missing_moov_atom(tmp_path, av_media):
    av_media.write_video_only_mp4(tmp_path / 'v.mp4')
    data = (tmp_path / 'v.mp4').read_bytes()
    (tmp_path / 'cut.mp4').write_bytes(data[:len(data) // 2])
    with pytest.raises(AVLoadError, match='cut.mp4.*moov atom not found'):
        _load_video(tmp_path / 'cut.mp4')
    with pytest.raises(AVLoadError, match='cut.mp4.*moov atom not found'):
        _load_audio(tmp_path / 'cut.mp4')

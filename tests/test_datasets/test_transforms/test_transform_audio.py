"""AudioClip, ComputeAudioFeature and SpecAugment."""
import numpy as np
import pytest

from icl_av.registry import TRANSFORMS


def _wave_results(seconds=4.0, rate=1000, **extra):
    results = dict(audio=np.arange(int(seconds * rate), dtype=np.float32), audio_sample_rate=rate,
                   audio_meta=dict(rate=rate, offset=0.0, duration=seconds))
    results.update(extra)
    return results


def test_center_clip_is_the_middle_and_meta_records_it():
    results = TRANSFORMS.build(dict(type='AudioClip', duration=1.0))(_wave_results())
    assert results['audio'].shape == (1000,) and results['audio'][0] == 1500
    assert results['audio_meta']['offset'] == pytest.approx(1.5)
    assert results['audio_meta']['duration'] == 1.0 and results['audio_meta']['padded'] is False


def test_clip_follows_audio_center_and_stays_inside():
    clip = TRANSFORMS.build(dict(type='AudioClip', duration=1.0))
    assert clip(_wave_results(audio_center=1.0))['audio'][0] == 500
    assert clip(_wave_results(audio_center=3.9))['audio'][0] == 3000  # shifted back inside


def test_random_clip_offsets_vary_within_bounds():
    clip = TRANSFORMS.build(dict(type='AudioClip', duration=1.0, offset='random'))
    starts = {int(clip(_wave_results())['audio'][0]) for _ in range(10)}
    assert len(starts) > 1 and all(0 <= s <= 3000 for s in starts)
    jittered = TRANSFORMS.build(dict(type='AudioClip', duration=1.0, offset='random', jitter=0.1))
    assert all(1400 <= jittered(_wave_results())['audio'][0] <= 1600 for _ in range(10))


def test_short_audio_is_tiled_or_zero_padded():
    short = _wave_results(seconds=0.3)
    tiled = TRANSFORMS.build(dict(type='AudioClip', duration=1.0))(dict(short))
    assert tiled['audio'].shape == (1000,) and tiled['audio'][300] == 0 and tiled['audio'][301] == 1
    assert tiled['audio_meta']['padded'] is True
    zeros = TRANSFORMS.build(dict(type='AudioClip', duration=1.0, pad_mode='zeros'))(_wave_results(seconds=0.3))
    assert zeros['audio'][299] == 299 and not zeros['audio'][300:].any()


@pytest.mark.parametrize('frontend, bins', [
    (dict(type='LogMelFrontend', sample_rate=16000, n_mels=32), 32),
    (dict(type='LinearSTFTFrontend'), 257),
])
def test_compute_audio_feature_then_pack(frontend, bins):
    rate = 16000
    results = dict(audio=np.random.default_rng(0).standard_normal(rate).astype(np.float32) * 0.1,
                   audio_sample_rate=rate, img=np.zeros((8, 8, 3), np.uint8))
    results = TRANSFORMS.build(dict(type='ComputeAudioFeature', frontend=frontend))(results)
    assert results['audio_is_feature'] is True and results['audio'].shape[0] == bins
    assert results['audio'].ndim == 2 and np.isfinite(results['audio']).all()
    packed = TRANSFORMS.build(dict(type='PackAVInputs'))(results)
    assert packed['inputs']['audio'].shape == (1, bins, results['audio'].shape[1])


def test_silent_audio_gives_finite_features():
    results = dict(audio=np.zeros(16000, np.float32), audio_sample_rate=16000)
    results = TRANSFORMS.build(dict(type='ComputeAudioFeature'))(results)
    assert np.isfinite(results['audio']).all()


def test_feature_rate_mismatch_is_an_error():
    transform = TRANSFORMS.build(dict(type='ComputeAudioFeature', frontend=dict(type='LogMelFrontend',
                                                                               sample_rate=16000)))
    with pytest.raises(ValueError, match='16000 Hz'):
        transform(dict(audio=np.zeros(800, np.float32), audio_sample_rate=8000))


def test_spec_augment_masks_bands_and_needs_a_feature():
    feature = np.random.default_rng(0).standard_normal((40, 100)).astype(np.float32) + 5
    augment = TRANSFORMS.build(dict(type='SpecAugment', freq_mask=10, time_mask=30, mask_value=0.0))
    masked = [augment(dict(audio=feature.copy(), audio_is_feature=True))['audio'] for _ in range(5)]
    assert all(m.shape == feature.shape for m in masked)
    assert any((m == 0).any() for m in masked)
    zero_rows = [np.nonzero((m == 0).all(axis=1))[0] for m in masked]
    assert any(len(rows) > 0 for rows in zero_rows)  # whole frequency bands masked
    with pytest.raises(ValueError, match='ComputeAudioFeature'):
        augment(dict(audio=np.zeros(100, np.float32), audio_is_feature=False))

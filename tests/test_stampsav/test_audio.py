"""A scene's clip: length, level, noise at the drawn SNR, looping of short recordings, resampling."""
import numpy as np
import pytest

from icl_av.stampsav.audio import make_clip, pink_noise, to_sample_rate
from icl_av.stampsav.presets import CLIP_SECONDS, SAMPLE_RATE

N = int(SAMPLE_RATE * CLIP_SECONDS)


def tone(seconds, freq=440.0):
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize('seconds', [0.4, 3.0, 7.5])
def test_clip_length_level_and_record(seconds):
    wave = tone(seconds)
    clip, record = make_clip(np.random.default_rng(0), wave, 6.0, 0.05, 10.0, 30.0)
    assert clip.dtype == np.float32 and clip.shape == (N,)
    assert np.abs(clip).max() <= 0.99 + 1e-6
    assert record['loops'] == (len(wave) < N)
    assert 0 <= record['offset'] < len(wave)
    assert -6 <= record['gain_db'] <= 6 and 10 <= record['snr_db'] <= 30
    assert record['noise'] in ('pink', 'white')
    rms = np.sqrt(np.mean(clip.astype(np.float64) ** 2))
    assert 0.05 * 10 ** (-6.5 / 20) < rms < 0.05 * 10 ** (6.5 / 20) * 1.1


def test_noise_is_added_at_the_recorded_snr():
    wave = tone(3.0)
    rng = np.random.default_rng(5)
    clip, record = make_clip(rng, wave, 0.0, 0.05, 20.0, 20.0)
    signal = wave / np.sqrt(np.mean(wave.astype(np.float64) ** 2)) * 0.05
    noise = clip - signal
    snr = 10 * np.log10(np.mean(signal ** 2) / np.mean(noise ** 2))
    assert snr == pytest.approx(20.0, abs=0.1) and record['snr_db'] == 20.0


def test_same_generator_state_same_clip():
    wave = tone(2.0)
    a = make_clip(np.random.default_rng(3), wave, 6.0, 0.05, 10.0, 30.0)
    b = make_clip(np.random.default_rng(3), wave, 6.0, 0.05, 10.0, 30.0)
    c = make_clip(np.random.default_rng(4), wave, 6.0, 0.05, 10.0, 30.0)
    assert np.array_equal(a[0], b[0]) and a[1] == b[1] and not np.array_equal(a[0], c[0])


def test_pink_noise_has_unit_rms_and_falls_with_frequency():
    noise = pink_noise(np.random.default_rng(0), 1 << 15)
    assert np.sqrt(np.mean(noise ** 2)) == pytest.approx(1.0)
    power = np.abs(np.fft.rfft(noise)) ** 2
    assert power[10:100].mean() > 10 * power[-1000:].mean()


@pytest.mark.parametrize('rate', [16000, 22050, 44100, 48000])
def test_resampling_to_the_benchmark_rate(rate):
    wave = np.sin(np.arange(rate) / rate * 2 * np.pi * 200)
    out = to_sample_rate(wave, rate)
    assert out.dtype == np.float32 and abs(len(out) - SAMPLE_RATE) <= 1

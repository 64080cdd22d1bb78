"""A scene's sound: the sounding stamp's own recording, cut to 3 s, with random gain and noise.

The clip starts at a random offset (recordings shorter than the clip loop); of up to ten
offsets the loudest is kept, stopping at the first whose RMS reaches half the recording's,
so that a clip is rarely a silent stretch. The clip is normalised, given a random gain of
+-``gain_db`` around ``base_rms``, and white or pink noise is added at a random SNR; the
mix is scaled down only if it would clip. The random draws happen in a fixed order, which
keeps the output of a seed fixed.
"""
import math
from fractions import Fraction
from typing import Dict, Tuple

import numpy as np
from scipy.signal import resample_poly

from .presets import CLIP_SECONDS, SAMPLE_RATE


def to_sample_rate(wave: np.ndarray, rate: int) -> np.ndarray:
    """``wave`` (float, mono) at ``rate`` Hz resampled to :data:`SAMPLE_RATE`, as float32."""
    if rate == SAMPLE_RATE:
        return wave.astype(np.float32)
    ratio = Fraction(SAMPLE_RATE, rate)
    return resample_poly(wave, ratio.numerator, ratio.denominator).astype(np.float32)


def pink_noise(rng: np.random.Generator, num_samples: int) -> np.ndarray:
    """Unit-RMS 1/f noise of ``num_samples`` samples (white Gaussian noise shaped in the spectrum)."""
    spectrum = np.fft.rfft(rng.normal(0, 1, num_samples))
    freq = np.arange(len(spectrum), dtype=np.float64)
    freq[0] = 1.0
    noise = np.fft.irfft(spectrum / np.sqrt(freq), num_samples)
    return noise / (np.sqrt(np.mean(noise ** 2)) + 1e-12)


def _pick_segment(rng: np.random.Generator, wave: np.ndarray, num_samples: int) -> Tuple[np.ndarray, int]:
    """A ``num_samples`` stretch of ``wave`` and its offset (see module doc)."""
    length = len(wave)
    if length >= num_samples:
        rms_all = np.sqrt(np.mean(wave ** 2)) + 1e-12
        best, best_rms = 0, -1
        for _ in range(10):
            offset = int(rng.integers(0, length - num_samples + 1))
            rms = np.sqrt(np.mean(wave[offset:offset + num_samples] ** 2))
            if rms > best_rms:
                best, best_rms = offset, rms
            if rms >= 0.5 * rms_all:
                break
        return wave[best:best + num_samples], best
    offset = int(rng.integers(0, length))
    looped = np.tile(wave, int(math.ceil((num_samples + offset) / length)) + 1)
    return looped[offset:offset + num_samples], offset


def make_clip(rng: np.random.Generator, wave: np.ndarray, gain_db: float, base_rms: float, snr_min: float,
              snr_max: float) -> Tuple[np.ndarray, Dict]:
    """The scene's clip cut from ``wave`` (the stamp's recording at :data:`SAMPLE_RATE`).

    Args:
        rng (np.random.Generator): The scene's generator.
        wave (np.ndarray): float32 mono recording.
        gain_db (float): Random gain range (+- dB).
        base_rms (float): RMS level before the gain.
        snr_min, snr_max (float): SNR range of the added noise (dB).

    Returns:
        tuple: float32 clip of ``CLIP_SECONDS * SAMPLE_RATE`` samples, and its record
        ``{offset, loops, gain_db, snr_db, noise}``.
    """
    num_samples = int(SAMPLE_RATE * CLIP_SECONDS)
    segment, offset = _pick_segment(rng, wave, num_samples)
    segment = segment / (np.sqrt(np.mean(segment ** 2)) + 1e-12)
    gain = float(rng.uniform(-gain_db, gain_db))
    level = base_rms * 10 ** (gain / 20)
    snr = float(rng.uniform(snr_min, snr_max))
    noise_type = 'pink' if rng.random() < 0.5 else 'white'
    noise = pink_noise(rng, num_samples) if noise_type == 'pink' else rng.normal(0, 1, num_samples)
    noise = noise / (np.sqrt(np.mean(noise ** 2)) + 1e-12)
    clip = segment * level + noise * level / 10 ** (snr / 20)
    peak = np.abs(clip).max()
    if peak > 0.99:
        clip = clip * (0.99 / peak)
    record = dict(offset=offset, loops=len(wave) < num_samples, gain_db=round(gain, 2), snr_db=round(snr, 2),
                  noise=noise_type)
    return clip.astype(np.float32), record

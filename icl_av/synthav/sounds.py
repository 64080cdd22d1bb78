"""SynthAV audio synthesis: class sounds, background noise and their mix.

A class sound is ``envelope(t) * ((1 - m) * harmonic_stack(t) + m * band_noise(t))``:
the harmonic stack follows the class's partial ratios/gains (timbre) and a pitch contour
(flat, vibrato, siren sweep, rising chirps, falling drum pitch, melodic steps); the
envelope gives the rhythm (sustained, struck, tremolo, pulsed, pulse trains, bursts).
Per clip the fundamental, event rate, event phase, partial phases and gains are drawn
at random within the class's recipe, so two clips of one class are never identical but
stay recognisably alike. Background noise (white-to-pink, random tilt) is added at a
random SNR. Everything is vectorised numpy; one second at 16 kHz takes about a
millisecond.
"""
import numpy as np

from .classes import SoundRecipe

#: Range of the background-noise SNR (dB) of a sounding clip, sampled uniformly.
SNR_DB_RANGE = (3.0, 20.0)
#: RMS range of a mixed clip (the loudness is random and carries no class information).
CLIP_RMS_RANGE = (0.05, 0.15)
#: RMS range of a "silent" clip: background noise only, near silence.
SILENT_RMS_RANGE = (0.002, 0.006)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


def _cycle_position(t: np.ndarray, rate: float, phase: float) -> np.ndarray:
    """Position in [0, 1) of each time within the current event cycle."""
    return np.mod(rate * t + phase, 1.0)


def band_noise(num_samples: int, sample_rate: int, band, rng: np.random.Generator) -> np.ndarray:
    """White noise restricted to ``band`` (Hz) by an FFT mask, unit RMS.

    Args:
        num_samples (int): Output length.
        sample_rate (int): Rate in Hz.
        band (tuple): ``(low, high)`` pass band in Hz.
        rng (np.random.Generator): Random source.

    Returns:
        np.ndarray: float64 ``(num_samples,)`` with RMS 1.
    """
    spectrum = np.fft.rfft(rng.standard_normal(num_samples))
    freqs = np.fft.rfftfreq(num_samples, 1.0 / sample_rate)
    spectrum[(freqs < band[0]) | (freqs > band[1])] = 0
    noise = np.fft.irfft(spectrum, n=num_samples)
    return noise / _rms(noise)


def background_noise(num_samples: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Broadband ambient noise with a random spectral tilt (white to beyond pink), unit RMS.

    Args:
        num_samples (int): Output length.
        sample_rate (int): Rate in Hz.
        rng (np.random.Generator): Random source.

    Returns:
        np.ndarray: float64 ``(num_samples,)`` with RMS 1.
    """
    tilt = rng.uniform(0.0, 1.5)  # power ~ 1 / f**tilt; 0 = white, 1 = pink
    spectrum = np.fft.rfft(rng.standard_normal(num_samples))
    freqs = np.fft.rfftfreq(num_samples, 1.0 / sample_rate)
    spectrum *= np.maximum(freqs, 20.0) ** (-tilt / 2.0)
    noise = np.fft.irfft(spectrum, n=num_samples)
    return noise / _rms(noise)


def _pitch_contour(recipe: SoundRecipe, t: np.ndarray, rate: float, phase: float,
                   rng: np.random.Generator) -> np.ndarray:
    """Pitch offset in semitones over time for the recipe's contour."""
    depth = recipe.contour_depth
    if recipe.contour == 'flat':
        return np.zeros_like(t)
    if recipe.contour == 'vibrato':
        return depth * np.sin(2 * np.pi * (rate * t + phase))
    if recipe.contour == 'sweep':  # siren: up and down between f0 and f0 + depth
        return depth * (0.5 - 0.5 * np.cos(2 * np.pi * (rate * t + phase)))
    cycle = _cycle_position(t, rate, phase)
    if recipe.contour == 'chirp':  # a rising glissando per event
        return depth * cycle
    if recipe.contour == 'fall':  # struck membrane: pitch drops right after each hit
        return depth * np.exp(-cycle / 0.15)
    if recipe.contour == 'steps':  # a little melody: one scale step per note
        note_index = np.floor(rate * t + phase).astype(np.int64)
        steps = rng.choice(np.array([-depth, -2.0, 0.0, 2.0, 3.0, depth]), size=int(note_index.max()) + 1)
        return steps[note_index]
    raise ValueError(f'SynthAV sound recipe: unknown pitch contour {recipe.contour!r}')


def _envelope(recipe: SoundRecipe, t: np.ndarray, rate: float, phase: float,
              duration: float) -> np.ndarray:
    """Amplitude envelope (0..1) over time for the recipe's rhythm."""
    kind = recipe.envelope
    if kind == 'sustain':
        attack = np.clip(t / 0.06, 0.0, 1.0)
        release = np.clip((duration - t) / 0.03, 0.0, 1.0)
        return attack * release
    if kind == 'tremolo':
        return 1.0 - 0.7 * (0.5 + 0.5 * np.sin(2 * np.pi * (rate * t + phase)))
    cycle = _cycle_position(t, rate, phase)
    if kind == 'strike':  # decays within each period; slower events ring longer
        return np.exp(-cycle / 0.3) * np.clip(cycle / 0.01, 0.0, 1.0)
    if kind == 'pulse':  # smooth on-off notes with a 60 % duty cycle
        duty = 0.6
        return np.where(cycle < duty, np.sqrt(np.sin(np.pi * np.minimum(cycle / duty, 1.0))), 0.0)
    if kind == 'trains':  # cricket: bursts of fast pulses
        duty = 0.35
        inner = np.sin(np.pi * np.mod(30.0 * t, 1.0)) ** 2
        window = np.sin(np.pi * np.minimum(cycle / duty, 1.0))
        return np.where(cycle < duty, inner * window, 0.0)
    if kind == 'bursts':  # rattle: short shakes
        duty = 0.2
        return np.where(cycle < duty, np.sin(np.pi * np.minimum(cycle / duty, 1.0)), 0.0)
    raise ValueError(f'SynthAV sound recipe: unknown envelope {kind!r}')


def render_class_sound(recipe: SoundRecipe, num_samples: int, sample_rate: int,
                       rng: np.random.Generator) -> np.ndarray:
    """Synthesise one clean clip of a class's characteristic sound.

    Args:
        recipe (SoundRecipe): The class's sound recipe.
        num_samples (int): Clip length in samples.
        sample_rate (int): Rate in Hz.
        rng (np.random.Generator): Random source (per-clip variation).

    Returns:
        np.ndarray: float64 ``(num_samples,)`` with RMS 1 (loudness is set by the mix).
    """
    t = np.arange(num_samples, dtype=np.float64) / sample_rate
    duration = num_samples / sample_rate
    f0 = float(np.exp(rng.uniform(np.log(recipe.f0_range[0]), np.log(recipe.f0_range[1]))))
    rate = float(rng.uniform(*recipe.rate_range))
    phase = float(rng.uniform(0.0, 1.0))

    source = np.zeros(num_samples)
    if recipe.noise_mix < 1.0:
        semitones = _pitch_contour(recipe, t, rate, phase, rng)
        inst_freq = f0 * np.exp2(semitones / 12.0)
        base_phase = 2 * np.pi * np.cumsum(inst_freq) / sample_rate
        top_freq = float(inst_freq.max())
        ratios = np.asarray(recipe.partial_ratios)
        gains = np.asarray(recipe.partial_gains) * rng.uniform(0.8, 1.25, size=len(ratios))
        keep = ratios * top_freq < 0.45 * sample_rate  # no aliasing
        ratios, gains = ratios[keep], gains[keep]
        offsets = rng.uniform(0.0, 2 * np.pi, size=(len(ratios), 1))
        tonal = gains @ np.sin(ratios[:, None] * base_phase[None, :] + offsets)
        source += (1.0 - recipe.noise_mix) * tonal / _rms(tonal)
    if recipe.noise_mix > 0.0:
        source += recipe.noise_mix * band_noise(num_samples, sample_rate, recipe.noise_band, rng)
    clip = source * _envelope(recipe, t, rate, phase, duration)
    return clip / _rms(clip)


def mix_at_snr(signal: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Add ``noise`` to ``signal`` scaled so that the power ratio is ``snr_db``.

    Args:
        signal (np.ndarray): Clean source.
        noise (np.ndarray): Noise of the same length.
        snr_db (float): Wanted ``10 log10(P_signal / P_noise)``.

    Returns:
        np.ndarray: The mixture (same dtype as the inputs' promotion).
    """
    scale = _rms(signal) / (_rms(noise) * 10.0 ** (snr_db / 20.0))
    return signal + scale * noise


def normalise_level(clip: np.ndarray, rms: float) -> np.ndarray:
    """Scale ``clip`` to ``rms`` and keep its peak below full scale; returns float32."""
    clip = clip * (rms / _rms(clip))
    peak = float(np.abs(clip).max())
    if peak > 0.99:
        clip = clip * (0.99 / peak)
    return clip.astype(np.float32)


def synthesize_sounding_audio(recipe: SoundRecipe, num_samples: int, sample_rate: int,
                              rng: np.random.Generator):
    """A class sound mixed with background noise at a random SNR, at a random level.

    Args:
        recipe (SoundRecipe): The heard class's recipe.
        num_samples (int): Clip length in samples.
        sample_rate (int): Rate in Hz.
        rng (np.random.Generator): Random source.

    Returns:
        tuple: ``(audio float32 (num_samples,), snr_db float)``.
    """
    clean = render_class_sound(recipe, num_samples, sample_rate, rng)
    snr_db = float(rng.uniform(*SNR_DB_RANGE))
    mixed = mix_at_snr(clean, background_noise(num_samples, sample_rate, rng), snr_db)
    return normalise_level(mixed, float(rng.uniform(*CLIP_RMS_RANGE))), snr_db


def synthesize_silence(num_samples: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Near-silent ambient noise (no source at all), float32 ``(num_samples,)``."""
    noise = background_noise(num_samples, sample_rate, rng)
    return normalise_level(noise, float(rng.uniform(*SILENT_RMS_RANGE)))

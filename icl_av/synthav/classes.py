"""The SynthAV class catalogue: what each object class looks like and how it sounds.

Every class is a unique combination of a shape family, a colour and a texture pattern
(each of these three attributes is shared by at least two classes, so no single visual
attribute names the class) and a sound recipe. The recipes differ in harmonic
structure (timbre), pitch contour and amplitude envelope (rhythm); the fundamental
ranges of several classes overlap on purpose, so pitch alone does not separate them
and a listener (or a model) has to use timbre and rhythm as well.

The catalogue is data only; ``scene.py`` draws it and ``sounds.py`` plays it.
"""
from dataclasses import dataclass
from typing import Tuple

SHAPES = ('circle', 'square', 'triangle', 'hexagon', 'star', 'diamond', 'cross', 'ellipse')
TEXTURES = ('rings', 'checker', 'hstripes', 'vstripes', 'dots', 'diagonal')
CONTOURS = ('flat', 'vibrato', 'sweep', 'chirp', 'fall', 'steps')
ENVELOPES = ('sustain', 'strike', 'tremolo', 'pulse', 'trains', 'bursts')


@dataclass(frozen=True)
class SoundRecipe:
    """Parameters of one class's characteristic sound (see ``sounds.render_class_sound``).

    Args:
        f0_range (tuple): Fundamental frequency range in Hz, sampled per clip.
        partial_ratios (tuple): Frequencies of the partials as multiples of f0
            (integers = harmonic, others = inharmonic, bell-like).
        partial_gains (tuple): Linear amplitude of each partial (the timbre).
        contour (str): Pitch contour, one of ``CONTOURS``.
        contour_depth (float): Contour excursion in semitones.
        envelope (str): Amplitude envelope / rhythm, one of ``ENVELOPES``.
        rate_range (tuple): Rate in Hz of the envelope's events (strikes, pulses,
            tremolo); contours that repeat (chirp, fall, steps) follow the same rate.
        noise_mix (float): Share (0..1) of a class-specific band-limited noise in the
            source (drum skins, rattles, engine rumble); 1.0 = unpitched.
        noise_band (tuple): That noise's pass band in Hz.
    """

    f0_range: Tuple[float, float]
    partial_ratios: Tuple[float, ...]
    partial_gains: Tuple[float, ...]
    contour: str
    contour_depth: float
    envelope: str
    rate_range: Tuple[float, float]
    noise_mix: float = 0.0
    noise_band: Tuple[float, float] = (500.0, 4000.0)


@dataclass(frozen=True)
class SynthAVClass:
    """One SynthAV object class: appearance plus sound.

    Args:
        name (str): Human-readable name (used in ``test_boxes.json``'s ``class``).
        shape (str): Shape family, one of ``SHAPES``.
        hue (float): Hue in degrees (0..360); saturation and value are the same for
            every class so that all objects are equally salient.
        texture (str): Texture pattern, one of ``TEXTURES``.
        sound (SoundRecipe): The class's characteristic sound.
    """

    name: str
    shape: str
    hue: float
    texture: str
    sound: SoundRecipe


def _harmonics(count: int, slope: float, odd_only: bool = False):
    """Integer partial ratios with ``1/k**slope`` gains (sawtooth-like, or clarinet-like when odd)."""
    ratios = [k for k in range(1, 2 * count + 1) if not odd_only or k % 2 == 1][:count]
    return tuple(float(k) for k in ratios), tuple(1.0 / k ** slope for k in ratios)


_HORN_RATIOS, _HORN_GAINS = _harmonics(10, 1.0)
_ENGINE_RATIOS, _ENGINE_GAINS = _harmonics(12, 0.7)
_CLARINET_RATIOS, _CLARINET_GAINS = _harmonics(5, 1.0, odd_only=True)

SYNTHAV_CLASSES: Tuple[SynthAVClass, ...] = (
    SynthAVClass('bell', 'circle', 50.0, 'rings', SoundRecipe(
        (420.0, 700.0), (1.0, 2.76, 5.40, 8.93), (1.0, 0.6, 0.4, 0.25), 'flat', 0.0,
        'strike', (1.5, 2.5))),
    SynthAVClass('drum', 'square', 0.0, 'checker', SoundRecipe(
        (70.0, 120.0), (1.0, 1.59, 2.14), (1.0, 0.5, 0.3), 'fall', 7.0,
        'strike', (3.0, 5.0), noise_mix=0.35, noise_band=(200.0, 4000.0))),
    SynthAVClass('whistle', 'triangle', 190.0, 'hstripes', SoundRecipe(
        (900.0, 1500.0), (1.0, 2.0), (1.0, 0.12), 'vibrato', 0.8,
        'sustain', (5.0, 7.0), noise_mix=0.08, noise_band=(1000.0, 5000.0))),
    SynthAVClass('horn', 'hexagon', 28.0, 'vstripes', SoundRecipe(
        (150.0, 260.0), _HORN_RATIOS, _HORN_GAINS, 'flat', 0.0,
        'sustain', (1.0, 1.0))),
    SynthAVClass('siren', 'star', 220.0, 'dots', SoundRecipe(
        (550.0, 800.0), (1.0, 2.0, 3.0), (1.0, 0.3, 0.15), 'sweep', 7.0,
        'sustain', (0.8, 1.5))),
    SynthAVClass('bird', 'diamond', 125.0, 'diagonal', SoundRecipe(
        (2200.0, 3400.0), (1.0, 2.0), (1.0, 0.2), 'chirp', 8.0,
        'pulse', (5.0, 8.0))),
    SynthAVClass('engine', 'cross', 272.0, 'diagonal', SoundRecipe(
        (55.0, 95.0), _ENGINE_RATIOS, _ENGINE_GAINS, 'flat', 0.0,
        'tremolo', (18.0, 28.0), noise_mix=0.3, noise_band=(50.0, 800.0))),
    SynthAVClass('clarinet', 'ellipse', 165.0, 'hstripes', SoundRecipe(
        (180.0, 330.0), _CLARINET_RATIOS, _CLARINET_GAINS, 'steps', 5.0,
        'pulse', (2.0, 3.0))),
    SynthAVClass('cricket', 'triangle', 320.0, 'checker', SoundRecipe(
        (3800.0, 4800.0), (1.0,), (1.0,), 'flat', 0.0,
        'trains', (2.0, 3.5))),
    SynthAVClass('rattle', 'circle', 88.0, 'dots', SoundRecipe(
        (500.0, 800.0), (1.0,), (1.0,), 'flat', 0.0,
        'bursts', (7.0, 12.0), noise_mix=1.0, noise_band=(2000.0, 7000.0))),
)

CLASS_NAMES: Tuple[str, ...] = tuple(c.name for c in SYNTHAV_CLASSES)
NUM_CLASSES: int = len(SYNTHAV_CLASSES)

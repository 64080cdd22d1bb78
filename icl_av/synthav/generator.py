"""One SynthAV sample from ``(seed, split, index)``: picture, sound and exact ground truth.

Determinism: a ``numpy.random.SeedSequence([seed, crc32(split), index])`` is split into
three independent streams, *plan* (which classes, how many distractors, which
off-screen class), *scene* (layout, colours, textures) and *audio* (the sound and its
noise), so the same triple always gives the same sample, different splits never share
scenes, and changing e.g. the clip length leaves the picture untouched.

Variants:
    ``'sounding'``  the main object makes the sound (the GT is its box and visible mask);
    ``'offscreen'`` the same kind of scene, but the sound is of a class absent from the frame;
    ``'silent'``    the same kind of scene with near-silent ambient noise only.
The two last ones are the non-sounding pairs of the extended benchmark (empty GT).
"""
import zlib
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from icl_av.structures.masks import encode_rle
from .classes import CLASS_NAMES, NUM_CLASSES, SYNTHAV_CLASSES
from .scene_layout import layout_scene
from .scene_render import render_scene
from .sounds import synthesize_silence, synthesize_sounding_audio

VARIANTS = ('sounding', 'offscreen', 'silent')
#: Probability of 0, 1, 2, 3 distractors: scenes with a lone object are kept rare,
#: since there a picture alone already tells where the sound comes from.
DISTRACTOR_COUNT_PROBS = (0.1, 0.3, 0.3, 0.3)
SILENCE_NAME = 'silence'


@dataclass
class SynthAVSample:
    """A generated sample with its ground truth.

    Attributes:
        img (np.ndarray): uint8 ``H×W×3`` BGR frame.
        audio (np.ndarray): float32 ``(N,)`` mono waveform in [-1, 1].
        sample_rate (int): Audio rate in Hz.
        variant (str): One of ``VARIANTS``.
        is_sounding (bool): Whether an object in the frame makes the sound.
        class_id (int): Class of the *heard* sound (the sounding object's class;
            the off-screen class; ``-1`` for silence).
        class_name (str): Its name (``'silence'`` for silence).
        gt_bbox (np.ndarray or None): float32 ``(4,)`` pixel box ``x1, y1, x2, y2`` of
            the sounding object (clipped to the frame, right/bottom exclusive); ``None``
            when not sounding.
        gt_mask (np.ndarray or None): bool ``H×W`` exact visible mask of the sounding
            object (after occlusion); ``None`` when not sounding.
        main_class_id (int): Class of the large main object (sounding or not).
        main_bbox (np.ndarray): float32 ``(4,)`` box of the main object.
        distractor_class_ids (np.ndarray): int64 ``(K,)`` distractor classes.
        distractor_bboxes (np.ndarray): float32 ``K×4`` distractor boxes.
        snr_db (float or None): Background-noise SNR of the sound (``None`` for silence).
    """

    img: np.ndarray
    audio: np.ndarray
    sample_rate: int
    variant: str
    is_sounding: bool
    class_id: int
    class_name: str
    gt_bbox: Optional[np.ndarray]
    gt_mask: Optional[np.ndarray]
    main_class_id: int
    main_bbox: np.ndarray
    distractor_class_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    distractor_bboxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    snr_db: Optional[float] = None

    def mask_rle(self) -> Optional[dict]:
        """COCO RLE of ``gt_mask`` with ``counts`` as str (JSON-ready), or ``None``."""
        return None if self.gt_mask is None else encode_rle(self.gt_mask)



def split_rng_streams(seed: int, split: str, index: int, count: int = 3):
    """``count`` independent generators for ``(seed, split, index)`` (see module doc)."""
    if seed < 0 or index < 0:
        raise ValueError(f'SynthAV: seed and index must be >= 0, got seed={seed}, index={index}')
    sequence = np.random.SeedSequence([int(seed), zlib.crc32(split.encode('utf-8')), int(index)])
    return [np.random.default_rng(child) for child in sequence.spawn(count)]


def generate_sample(seed: int, split: str, index: int, img_size: int = 128,
                    audio_seconds: float = 1.0, sample_rate: int = 16000,
                    variant: str = 'sounding') -> SynthAVSample:
    """Synthesise sample ``index`` of scene split ``split`` (deterministic; a few ms at 128 px).

    Args:
        seed (int): Base seed of the benchmark.
        split (str): Scene split name (``'train'``, ``'test'``, ``'test_extended'``...);
            any string works, different strings give disjoint scenes.
        index (int): Sample index within the split.
        img_size (int): Frame side in pixels (square frames).
        audio_seconds (float): Clip length in seconds.
        sample_rate (int): Audio rate in Hz.
        variant (str): One of ``VARIANTS`` (see module doc).

    Returns:
        SynthAVSample: The frame, the waveform and the ground truth.
    """
    if variant not in VARIANTS:
        raise ValueError(f'SynthAV: unknown variant {variant!r}; expected one of {VARIANTS}')
    if img_size < 16:
        raise ValueError(f'SynthAV: img_size must be >= 16 pixels, got {img_size}')
    num_samples = int(round(audio_seconds * sample_rate))
    if num_samples < 16:
        raise ValueError(f'SynthAV: audio clip too short ({audio_seconds} s at {sample_rate} Hz)')
    plan_rng, scene_rng, audio_rng = split_rng_streams(seed, split, index)

    main_class = int(plan_rng.integers(NUM_CLASSES))
    others = np.array([c for c in range(NUM_CLASSES) if c != main_class])
    num_distractors = int(plan_rng.choice(len(DISTRACTOR_COUNT_PROBS), p=DISTRACTOR_COUNT_PROBS))
    distractor_classes = plan_rng.choice(others, size=num_distractors, replace=False)
    absent = np.setdiff1d(others, distractor_classes)
    offscreen_class = int(plan_rng.choice(absent))

    objects = layout_scene(main_class, [int(c) for c in distractor_classes], img_size, scene_rng)
    img = render_scene(objects, img_size, scene_rng)
    main, distractors = objects[0], objects[1:]

    if variant == 'silent':
        audio, heard_class, snr_db = synthesize_silence(num_samples, sample_rate, audio_rng), -1, None
    else:
        heard_class = main_class if variant == 'sounding' else offscreen_class
        audio, snr_db = synthesize_sounding_audio(SYNTHAV_CLASSES[heard_class].sound, num_samples,
                                                  sample_rate, audio_rng)
    is_sounding = variant == 'sounding'
    main_bbox = main.box.astype(np.float32)
    return SynthAVSample(
        img=img,
        audio=audio,
        sample_rate=int(sample_rate),
        variant=variant,
        is_sounding=is_sounding,
        class_id=heard_class,
        class_name=CLASS_NAMES[heard_class] if heard_class >= 0 else SILENCE_NAME,
        gt_bbox=main_bbox if is_sounding else None,
        gt_mask=main.visible.copy() if is_sounding else None,
        main_class_id=main_class,
        main_bbox=main_bbox,
        distractor_class_ids=np.array([o.class_id for o in distractors], dtype=np.int64),
        distractor_bboxes=np.array([o.box for o in distractors], dtype=np.float32).reshape(-1, 4),
        snr_db=snr_db)

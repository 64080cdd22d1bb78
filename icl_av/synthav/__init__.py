"""SynthAV: a procedural audio-visual localisation benchmark with exact ground truth.

``classes`` (the catalogue: shape + colour + texture + sound per class), ``scene_layout``
(where objects go, with exact masks), ``scene_render`` (how they are drawn), ``sounds``
(audio synthesis), ``generator`` (one sample from ``(seed, split, index)``), ``splits``
(which samples a split holds), ``export`` (writing the frames+audio layout to disk),
``video`` (composing an mp4 of scenes) and ``render_cache`` (a split rendered once, read
back memory-mapped). It is a library beside ``datasets``, not inside it: it imports nothing
of ``datasets``; the MMEngine dataset, :class:`icl_av.datasets.SynthAVDataset`, is a thin
adapter over it. Masks are encoded with :func:`icl_av.structures.masks.encode_rle`.
"""
from .classes import CLASS_NAMES, NUM_CLASSES, SYNTHAV_CLASSES, SoundRecipe, SynthAVClass
from .generator import VARIANTS, SynthAVSample, generate_sample
from .scene_layout import DISTRACTOR_AREA_RANGE, MAIN_AREA_RANGE
from .sounds import SNR_DB_RANGE
from .splits import SPLITS, SplitEntry, build_split, video_id_for

__all__ = ['CLASS_NAMES', 'NUM_CLASSES', 'SYNTHAV_CLASSES', 'SoundRecipe', 'SynthAVClass', 'VARIANTS',
           'SynthAVSample', 'generate_sample', 'MAIN_AREA_RANGE', 'DISTRACTOR_AREA_RANGE',
           'SNR_DB_RANGE', 'SPLITS', 'SplitEntry', 'build_split', 'video_id_for']

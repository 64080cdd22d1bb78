"""StampsAV: a realistic audio-visual localisation benchmark built from Tux Paint's stamps.

Each scene is a real photo (or a textured procedural) background with one sounding object
and 1-2 silent distractors, all cut-out pictures of real animals, instruments, tools and
vehicles; the audio is the sounding object's real recording. The ground truth is the tight
box of the sounding object. Sounding and silent objects share the same distributions of
size, position, visibility and z-order, so only the audio tells them apart.

Modules, one job each: ``tux_paint`` (where the two Debian packages unpack, and the error
when they are missing), ``stamps`` (reading the stamps, their sounds and pictures),
``classes`` (merging look-alike stamps into classes), ``backgrounds`` (photos and
procedural textures), ``composition`` (placement, truncation, z-order, boxes), ``audio``
(clip, gain, noise at an SNR), ``splits`` (heard / unheard classes and the scenes of each
split), ``scene`` (one scene from its seed), ``export`` (the frames+audio layout on disk)
and ``presets`` (constants, presets, the config of a build). Like ``synthav`` it is a
library beside ``datasets``: the frames it writes are read by the generic frames+audio
datasets. See ``docs/stampsav.md``.
"""
from .classes import CLASS_GROUPS, class_of
from .export import build_stampsav
from .presets import (CLIP_SECONDS, DEFAULT_PRESET, PRESETS, SAMPLE_RATE, StampsAVConfig, make_config)
from .scene import Scene, generate_scene
from .splits import SPLIT_CODES, ScenePlan, plan_scenes, split_classes
from .stamps import Stamp, StampSet, load_stamps
from .tux_paint import DEFAULT_STAMPS_ROOT, DEFAULT_TEMPLATES_ROOT

__all__ = [
    'CLASS_GROUPS', 'class_of', 'build_stampsav', 'CLIP_SECONDS', 'DEFAULT_PRESET', 'PRESETS', 'SAMPLE_RATE',
    'StampsAVConfig', 'make_config', 'Scene', 'generate_scene', 'SPLIT_CODES', 'ScenePlan', 'plan_scenes',
    'split_classes', 'Stamp', 'StampSet', 'load_stamps', 'DEFAULT_STAMPS_ROOT', 'DEFAULT_TEMPLATES_ROOT'
]

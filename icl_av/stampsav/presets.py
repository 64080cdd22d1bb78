"""StampsAV's fixed constants, its presets and the parameters of one build.

A build is fully described by :class:`StampsAVConfig` (preset values, possibly
overridden, plus where the Tux Paint packages were unpacked); the same config always
gives the same files. The config's fields, in their order, are what ``meta.json``
records under ``params``.

Presets differ in size and in how big the objects are. Under the median-threshold cIoU
protocol a box under 25 % of the frame can never reach cIoU >= 0.5, so the small-object
presets (``mini``, ``full``) cap even a perfect localiser at cIoU@0.5 = 0; the ``*_big``
presets draw object long sides of 60-100 % of the frame and let up to 40 % of an object
leave the frame, so that most sounding boxes are large enough to be scored.
"""
import os
from dataclasses import asdict, dataclass, fields
from typing import Dict, Optional

from icl_av.utils.errors import UserInputError

#: Audio rate of the written clips (Hz) and their length (s).
SAMPLE_RATE = 16000
CLIP_SECONDS = 3.0
#: Stamp alpha below ``ALPHA_CUT / 255`` is zeroed (invisible halos and shadows); the
#: ground-truth box is then the box of ``alpha > 0``.
ALPHA_CUT = 32
#: Stamps are downscaled once to this long side (pixels) to keep rendering fast; the
#: rendered objects are never larger than the frame anyway.
MAX_STAMP_SIDE = 400
#: Data version written to ``meta.json``.
DATA_VERSION = 'stamps_av-1.2-dev'
#: Every random stream of the generator is seeded with ``[seed, SCENE_STREAM, ...]``: the
#: public scenes come from their own stream, and no seed reproduces the scenes that the
#: benchmark keeps private for evaluation.
SCENE_STREAM = 20261130

PRESETS: Dict[str, Dict] = {
    # Small objects: stamp long side 20-45 % of the frame side, always fully inside.
    'mini': dict(n_train=2000, n_test=300, n_unheard=150, size=224, scale_min=0.20, scale_max=0.45, max_trunc=0.0),
    'full': dict(n_train=20000, n_test=1000, n_unheard=500, size=224, scale_min=0.20, scale_max=0.45,
                 max_trunc=0.0),
    # Big objects: long side 60-100 % of the side, up to 40 % of an object outside the frame.
    'mini_big': dict(n_train=2000, n_test=300, n_unheard=150, size=224, scale_min=0.60, scale_max=1.00,
                     max_trunc=0.40),
    'full_big': dict(n_train=20000, n_test=1000, n_unheard=500, size=224, scale_min=0.60, scale_max=1.00,
                     max_trunc=0.40),
}
#: The development set is ``mini_big`` with seed 1.
DEFAULT_PRESET = 'mini_big'


@dataclass(frozen=True)
class StampsAVConfig:
    """Every parameter of a StampsAV build (the output folder and worker count aside).

    Attributes:
        preset (str): Name of the preset the values below started from.
        seed (int): Benchmark seed (the development set is seed 1).
        size (int): Square frame side in pixels.
        n_train, n_test, n_unheard (int): Scenes in ``train``, ``test`` and ``test_unheard``.
        scale_min, scale_max (float): Range of a stamp's long side, as a fraction of the frame side.
        max_trunc (float): Largest fraction of a stamp's alpha that may fall outside the
            frame (0 keeps every stamp fully inside).
        unheard_frac (float): Fraction of the classes held out of training (``test_unheard``).
        min_distractors, max_distractors (int): Range of silent distractor stamps per scene.
        max_iou (float): Largest box IoU between any two stamps of a scene.
        min_visible (float): Smallest visible alpha fraction of every stamp, after frame
            truncation and occlusion.
        p_photo (float): Probability of a photo background (else a procedural one).
        pixel_noise (float): Standard deviation of the Gaussian pixel noise (0-1 scale).
        jpeg_quality (int): JPEG quality of the frames.
        snr_min, snr_max (float): Range of the signal-to-noise ratio of the audio (dB).
        gain_db (float): Random gain range, +- dB around ``base_rms``.
        base_rms (float): RMS level of the sound before the random gain.
        stamps_root (str): The ``usr/share/tuxpaint/stamps`` folder of the unpacked
            ``tuxpaint-stamps-default`` package.
        templates_root (str): The ``usr/share/tuxpaint`` folder of the unpacked
            ``tuxpaint-data`` package (holding ``templates/`` and ``starters/``); ``''``
            for procedural backgrounds only.
    """

    preset: str
    seed: int
    size: int
    n_train: int
    n_test: int
    n_unheard: int
    scale_min: float
    scale_max: float
    max_trunc: float
    unheard_frac: float = 0.2
    min_distractors: int = 1
    max_distractors: int = 2
    max_iou: float = 0.30
    min_visible: float = 0.6
    p_photo: float = 0.5
    pixel_noise: float = 0.01
    jpeg_quality: int = 95
    snr_min: float = 10.0
    snr_max: float = 30.0
    gain_db: float = 6.0
    base_rms: float = 0.05
    stamps_root: str = ''
    templates_root: str = ''

    def __post_init__(self):
        # Numbers are stored with their declared type, so meta.json reads the same whether a
        # value came from a preset, the command line or Python (e.g. 1 -> 1.0 for a float).
        for field in fields(self):
            value = getattr(self, field.name)
            if field.type in (int, float) and not isinstance(value, bool):
                object.__setattr__(self, field.name, field.type(value))
            elif field.type is str:
                object.__setattr__(self, field.name, os.fspath(value))
        self.validate()

    def validate(self) -> None:
        """Raise :class:`UserInputError` when a value is out of its range."""
        problems = []
        if self.seed < 0:
            problems.append(f'seed must be >= 0, got {self.seed}')
        if self.size < 16:
            problems.append(f'size must be >= 16 pixels, got {self.size}')
        if min(self.n_train, self.n_test, self.n_unheard) < 0:
            problems.append('scene counts must be >= 0')
        if not 0 < self.scale_min <= self.scale_max:
            problems.append(f'need 0 < scale_min <= scale_max, got {self.scale_min}, {self.scale_max}')
        if not 0 <= self.max_trunc < 1:
            problems.append(f'max_trunc must be in [0, 1), got {self.max_trunc}')
        if not 0 <= self.unheard_frac < 1:
            problems.append(f'unheard_frac must be in [0, 1), got {self.unheard_frac}')
        if not 0 <= self.min_distractors <= self.max_distractors:
            problems.append(f'need 0 <= min_distractors <= max_distractors, got {self.min_distractors}, '
                            f'{self.max_distractors}')
        if not self.snr_min <= self.snr_max:
            problems.append(f'need snr_min <= snr_max, got {self.snr_min}, {self.snr_max}')
        if not 0 <= self.p_photo <= 1:
            problems.append(f'p_photo must be in [0, 1], got {self.p_photo}')
        if not 1 <= self.jpeg_quality <= 100:
            problems.append(f'jpeg_quality must be in [1, 100], got {self.jpeg_quality}')
        if problems:
            raise UserInputError('StampsAV: ' + '; '.join(problems))

    def as_params(self) -> Dict:
        """The parameters as ``meta.json`` records them (field order kept)."""
        return asdict(self)


def make_config(preset: str = DEFAULT_PRESET, seed: int = 1, stamps_root: str = '', templates_root: str = '',
                **overrides: Optional[object]) -> StampsAVConfig:
    """The config of ``preset`` with ``overrides`` applied (``None`` values keep the preset's).

    Args:
        preset (str): One of :data:`PRESETS`.
        seed (int): Benchmark seed.
        stamps_root (str): The unpacked stamps folder (see :class:`StampsAVConfig`).
        templates_root (str): The unpacked ``usr/share/tuxpaint`` folder, or ``''``.
        **overrides: Any other field of :class:`StampsAVConfig`.

    Returns:
        StampsAVConfig: The validated config.
    """
    if preset not in PRESETS:
        raise UserInputError(f'StampsAV: unknown preset {preset!r}; expected one of {sorted(PRESETS)}')
    known = {f.name for f in fields(StampsAVConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TypeError(f'make_config: unknown parameters {unknown}')
    values = dict(PRESETS[preset])
    values.update({k: v for k, v in overrides.items() if v is not None})
    return StampsAVConfig(preset=preset, seed=seed, stamps_root=stamps_root, templates_root=templates_root,
                          **values)

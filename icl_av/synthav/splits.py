"""Which samples a SynthAV split holds, and their IDs.

* ``train``: ``num_samples`` sounding scenes of scene split ``'train'``;
* ``test``: ``num_samples`` sounding scenes of scene split ``'test'``;
* ``test_extended``: the first ``num_samples - K`` samples of ``test`` (same scenes,
  same IDs) plus ``K = round(extended_ratio * num_samples)`` non-sounding pairs of
  scene split ``'test_extended'``, alternately off-screen sound and silence, in a
  seeded interleaved order. Like the public ``*_plus_silent`` lists, the extended
  benchmark is thus the plain test set plus non-sounding extras.

IDs: ``synthav_train_000012``, ``synthav_test_000012``, ``synthav_testx_000012``.
"""
from dataclasses import dataclass
from typing import List

import numpy as np

SPLITS = ('train', 'val', 'test', 'test_extended')
_ID_TAGS = {'train': 'train', 'val': 'val', 'test': 'test', 'test_extended': 'testx'}
_ORDER_SALT = 0x5EED


@dataclass(frozen=True)
class SplitEntry:
    """One sample of a split: where its scene comes from and what plays.

    Attributes:
        video_id (str): The sample's ID.
        scene_split (str): Scene split passed to ``generate_sample``.
        scene_index (int): Index within that scene split.
        variant (str): ``'sounding'``, ``'offscreen'`` or ``'silent'``.
    """

    video_id: str
    scene_split: str
    scene_index: int
    variant: str


def video_id_for(scene_split: str, index: int) -> str:
    """The ID of sample ``index`` of a scene split, e.g. ``synthav_test_000123``."""
    tag = _ID_TAGS.get(scene_split, scene_split)
    return f'synthav_{tag}_{index:06d}'


def num_non_sounding(num_samples: int, extended_ratio: float) -> int:
    """How many of ``num_samples`` extended samples are non-sounding."""
    return int(round(extended_ratio * num_samples))


def build_split(split: str, num_samples: int, seed: int = 0, extended_ratio: float = 0.5) -> List[SplitEntry]:
    """List the samples of a split (see module doc).

    Args:
        split (str): One of ``SPLITS``.
        num_samples (int): Number of samples (> 0).
        seed (int): Benchmark seed (orders the extended split).
        extended_ratio (float): Fraction of non-sounding pairs in ``test_extended`` (0..1).

    Returns:
        list[SplitEntry]: The entries in dataset order.

    Raises:
        ValueError: Unknown split, non-positive size, ratio outside [0, 1].
    """
    if split not in SPLITS:
        raise ValueError(f'SynthAV: unknown split {split!r}; expected one of {SPLITS}')
    if num_samples <= 0:
        raise ValueError(f'SynthAV: num_samples must be > 0, got {num_samples}')
    if split != 'test_extended':
        return [SplitEntry(video_id_for(split, i), split, i, 'sounding') for i in range(num_samples)]
    if not 0.0 <= extended_ratio <= 1.0:
        raise ValueError(f'SynthAV: extended_ratio must be in [0, 1], got {extended_ratio}')
    num_silent_pairs = num_non_sounding(num_samples, extended_ratio)
    sounding = [SplitEntry(video_id_for('test', i), 'test', i, 'sounding')
                for i in range(num_samples - num_silent_pairs)]
    non_sounding = [SplitEntry(video_id_for('test_extended', k), 'test_extended', k,
                               'offscreen' if k % 2 == 0 else 'silent')
                    for k in range(num_silent_pairs)]
    entries = sounding + non_sounding
    order = np.random.default_rng([int(seed), _ORDER_SALT]).permutation(len(entries))
    return [entries[i] for i in order]

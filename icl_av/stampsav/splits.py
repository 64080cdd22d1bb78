"""StampsAV's three splits: which classes are heard, and which class sounds in each scene.

``unheard_frac`` of the classes (a seeded draw) are *unheard*: they never appear in
``train`` or ``test``, neither sounding nor as distractors, and sound in every scene of
``test_unheard`` (whose distractors may be of any class). The sounding classes of a split
are balanced: the split's class list is repeated in fresh random orders and cut to the
split's size. Scene IDs are ``tr000012``, ``te000012``, ``un000012``.
"""
import math
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np

from icl_av.utils.errors import UserInputError
from .presets import SCENE_STREAM

#: Split names in writing order, with the code that seeds their streams and their ID prefix.
SPLIT_CODES = {'train': 0, 'test': 1, 'test_unheard': 2}
SPLIT_PREFIXES = {'train': 'tr', 'test': 'te', 'test_unheard': 'un'}
_CLASS_SPLIT_STREAM = 99
_SPLIT_ORDER_STREAM = 100


@dataclass(frozen=True)
class ScenePlan:
    """One scene to generate.

    Attributes:
        split (str): One of :data:`SPLIT_CODES`.
        index (int): Index within the split (seeds the scene's generator).
        scene_id (str): The scene's ID (file stem).
        sounding_class (str): Class of the sounding stamp.
        distractor_pool (tuple[str]): Classes the distractors may be drawn from (the
            sounding class aside).
    """

    split: str
    index: int
    scene_id: str
    sounding_class: str
    distractor_pool: Tuple[str, ...]


def scene_id(split: str, index: int) -> str:
    """The ID of scene ``index`` of ``split``, e.g. ``'te000012'``."""
    return f'{SPLIT_PREFIXES[split]}{index:06d}'


def split_classes(classes: Sequence[str], seed: int, unheard_frac: float) -> Tuple[List[str], List[str]]:
    """The sorted heard and unheard classes of ``classes`` (sorted names) for ``seed``."""
    rng = np.random.default_rng([seed, SCENE_STREAM, _CLASS_SPLIT_STREAM])
    shuffled = [classes[i] for i in rng.permutation(len(classes))]
    num_unheard = int(round(unheard_frac * len(classes)))
    return sorted(shuffled[num_unheard:]), sorted(shuffled[:num_unheard])


def balanced_classes(rng: np.random.Generator, classes: Sequence[str], count: int) -> List[str]:
    """``count`` classes: ``classes`` repeated, each round in a new random order, cut to ``count``."""
    classes = list(classes)
    rounds = int(math.ceil(count / len(classes)))
    sequence: List[str] = []
    for _ in range(rounds):
        sequence += [classes[i] for i in rng.permutation(len(classes))]
    return sequence[:count]


def plan_scenes(classes: Sequence[str], heard: Sequence[str], unheard: Sequence[str], seed: int,
                counts: dict) -> List[ScenePlan]:
    """Every scene of the three splits, split by split in :data:`SPLIT_CODES` order.

    Args:
        classes (list[str]): All classes, sorted.
        heard, unheard (list[str]): From :func:`split_classes`.
        seed (int): Benchmark seed.
        counts (dict): ``{split: number of scenes}``.
    """
    spec = [('train', heard, heard),  # unheard classes never appear in train
            ('test', heard, heard),
            ('test_unheard', unheard, classes)]
    plans = []
    for split, sounding, pool in spec:
        if counts[split] and not sounding:
            kind = 'unheard' if split == 'test_unheard' else 'heard'
            raise UserInputError(f'StampsAV: {split} needs at least one {kind} class, but the stamps form '
                                 f'{len(classes)} classes in all (unheard_frac splits them)')
        rng = np.random.default_rng([seed, SCENE_STREAM, _SPLIT_ORDER_STREAM + SPLIT_CODES[split]])
        sequence = balanced_classes(rng, sounding, counts[split]) if counts[split] else []
        plans += [ScenePlan(split, index, scene_id(split, index), cls, tuple(pool))
                  for index, cls in enumerate(sequence)]
    return plans

"""Heard / unheard classes, balanced sounding classes and the scene plans of the three splits."""
from collections import Counter

import numpy as np
import pytest

from icl_av.stampsav import plan_scenes, split_classes
from icl_av.stampsav.splits import balanced_classes
from icl_av.utils import UserInputError

CLASSES = [f'c{i:02d}' for i in range(20)]


def test_heard_and_unheard_are_a_seeded_partition():
    heard, unheard = split_classes(CLASSES, 1, 0.2)
    assert len(unheard) == 4 and sorted(heard + unheard) == CLASSES
    assert heard == sorted(heard) and unheard == sorted(unheard)
    assert split_classes(CLASSES, 1, 0.2) == (heard, unheard)
    assert split_classes(CLASSES, 2, 0.2)[1] != unheard


def test_balanced_classes():
    sequence = balanced_classes(np.random.default_rng(0), CLASSES[:6], 20)
    counts = Counter(sequence)
    assert len(sequence) == 20 and set(counts) == set(CLASSES[:6])
    assert max(counts.values()) - min(counts.values()) <= 1


def test_plans_keep_unheard_classes_out_of_train_and_test():
    heard, unheard = split_classes(CLASSES, 1, 0.2)
    plans = plan_scenes(CLASSES, heard, unheard, 1, {'train': 30, 'test': 8, 'test_unheard': 6})
    by_split = {s: [p for p in plans if p.split == s] for s in ('train', 'test', 'test_unheard')}
    assert [p.scene_id for p in by_split['train']] == [f'tr{i:06d}' for i in range(30)]
    assert [p.scene_id for p in by_split['test_unheard']] == [f'un{i:06d}' for i in range(6)]
    for plan in by_split['train'] + by_split['test']:
        assert plan.sounding_class in heard and not set(plan.distractor_pool) & set(unheard)
    for plan in by_split['test_unheard']:
        assert plan.sounding_class in unheard and set(plan.distractor_pool) == set(CLASSES)


def test_a_split_without_classes_is_an_error():
    heard, unheard = split_classes(CLASSES[:2], 1, 0.2)
    assert unheard == []
    with pytest.raises(UserInputError, match='test_unheard needs at least one unheard class'):
        plan_scenes(CLASSES[:2], heard, unheard, 1, {'train': 2, 'test': 2, 'test_unheard': 2})
    assert len(plan_scenes(CLASSES[:2], heard, unheard, 1, {'train': 2, 'test': 2, 'test_unheard': 0})) == 4

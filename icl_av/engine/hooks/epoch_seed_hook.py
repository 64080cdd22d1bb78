"""Reseed the random generators from (seed, epoch) before every training epoch.

Why: MMEngine seeds once at start-up, so a run resumed at epoch k draws different
augmentations (and loader-worker seeds) than the uninterrupted run did at epoch k,
and its default ``worker_init_fn`` gives non-persistent workers the same seed every
epoch, which repeats the same augmentations. Seeding from (seed, epoch) makes both
right: epochs differ from each other, and a resumed epoch equals the uninterrupted one
(with ``num_workers=0`` or non-persistent workers plus :func:`epoch_worker_init_fn`).
"""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.registry import FUNCTIONS

from icl_av.registry import HOOKS


def epoch_seed(seed: int, epoch: int) -> int:
    """A 32-bit seed that depends on both the run seed and the epoch."""
    return int(np.random.SeedSequence([seed & 0xFFFFFFFF, epoch]).generate_state(1)[0])


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Seed python, numpy and torch from (seed, epoch) before each training epoch.

    Args:
        seed (int, optional): Base seed; default the Runner's ``randomness.seed``
            (0 when the runner has none).
    """

    priority = 'VERY_HIGH'

    def __init__(self, seed: Optional[int] = None):
        self.seed = seed

    def before_train_epoch(self, runner) -> None:
        base = self.seed if self.seed is not None else (runner.seed or 0)
        value = epoch_seed(base, runner.epoch)
        random.seed(value)
        np.random.seed(value)
        torch.manual_seed(value)


@FUNCTIONS.register_module(force=True)
def epoch_worker_init_fn(worker_id: int) -> None:
    """Seed a loader worker's python/numpy RNGs from torch's per-worker seed.

    Torch gives each worker ``base_seed + worker_id`` where ``base_seed`` comes from
    the main process's generator when the epoch's iterator is created; with
    :class:`EpochSeedHook` that is a function of (seed, epoch, worker). Use as
    ``worker_init_fn=dict(type='epoch_worker_init_fn')`` in a dataloader config.
    """
    value = torch.initial_seed() % 2**32
    random.seed(value)
    np.random.seed(value)

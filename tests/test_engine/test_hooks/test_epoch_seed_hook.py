"""EpochSeedHook: every epoch's random stream is a function of (seed, epoch) alone, so a resumed epoch
draws what the uninterrupted run drew, and consecutive epochs draw differently."""
import random
import types

import numpy as np
import torch

from icl_av.engine.hooks.epoch_seed_hook import EpochSeedHook, epoch_seed, epoch_worker_init_fn
from icl_av.registry import HOOKS


def _draws():
    """One value from each generator the hook seeds."""
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def _epoch_draws(hook, epoch, runner_seed=7):
    hook.before_train_epoch(types.SimpleNamespace(seed=runner_seed, epoch=epoch))
    return _draws()


def test_epoch_seed_depends_on_seed_and_epoch():
    assert epoch_seed(0, 3) == epoch_seed(0, 3)
    values = {epoch_seed(seed, epoch) for seed in range(3) for epoch in range(3)}
    assert len(values) == 9 and all(0 <= v < 2 ** 32 for v in values)
    assert epoch_seed(-1, 0) == epoch_seed(2 ** 32 - 1, 0)  # seeds are taken modulo 2**32


def test_a_resumed_epoch_draws_what_the_uninterrupted_run_drew():
    hook = HOOKS.build(dict(type='EpochSeedHook'))
    assert isinstance(hook, EpochSeedHook)
    uninterrupted = [_epoch_draws(hook, epoch) for epoch in range(3)]
    random.seed(123), np.random.seed(123), torch.manual_seed(123)  # whatever state a resumed process has
    resumed = _epoch_draws(EpochSeedHook(), 2)
    assert resumed == uninterrupted[2]
    # Each generator draws a new stream every epoch.
    for generator in range(3):
        assert len({draws[generator] for draws in uninterrupted}) == 3


def test_the_hooks_seed_overrides_the_runners():
    from_runner = _epoch_draws(EpochSeedHook(), 1, runner_seed=7)
    assert _epoch_draws(EpochSeedHook(seed=7), 1, runner_seed=99) == from_runner
    assert _epoch_draws(EpochSeedHook(seed=8), 1, runner_seed=7) != from_runner
    # A runner without a seed counts as seed 0.
    assert _epoch_draws(EpochSeedHook(), 1, runner_seed=None) == _epoch_draws(EpochSeedHook(seed=0), 1)


def test_worker_init_fn_seeds_python_and_numpy_from_torch():
    torch.manual_seed(2 ** 40 + 5)  # the worker's seed, beyond 32 bits
    epoch_worker_init_fn(0)
    first = random.random(), float(np.random.rand())
    random.seed(5), np.random.seed(5)
    assert first == (random.random(), float(np.random.rand()))

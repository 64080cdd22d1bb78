"""StampsAV's presets and build config: overrides, types, validation."""
import pytest

from icl_av.stampsav import PRESETS, make_config
from icl_av.utils import UserInputError


def test_a_preset_with_overrides():
    cfg = make_config('mini_big', seed=2, stamps_root='s', templates_root='t', n_train=10, scale_min=None)
    assert cfg.n_train == 10 and cfg.n_test == PRESETS['mini_big']['n_test']
    assert cfg.scale_min == PRESETS['mini_big']['scale_min']  # None keeps the preset's value
    params = cfg.as_params()
    assert list(params)[:4] == ['preset', 'seed', 'size', 'n_train']
    assert list(params)[-2:] == ['stamps_root', 'templates_root']


def test_numbers_keep_their_declared_type():
    cfg = make_config('mini', scale_max=1, snr_min=10, n_train=5.0)
    assert isinstance(cfg.scale_max, float) and isinstance(cfg.snr_min, float) and isinstance(cfg.n_train, int)


@pytest.mark.parametrize('overrides, match', [
    (dict(scale_min=0.9, scale_max=0.5), 'scale_min <= scale_max'),
    (dict(max_trunc=1.0), 'max_trunc'),
    (dict(min_distractors=3, max_distractors=2), 'min_distractors'),
    (dict(n_test=-1), 'scene counts'),
    (dict(seed=-1), 'seed'),
])
def test_bad_values_are_user_errors(overrides, match):
    with pytest.raises(UserInputError, match=match):
        make_config('mini_big', **overrides)


def test_unknown_preset_and_parameter():
    with pytest.raises(UserInputError, match='unknown preset'):
        make_config('huge')
    with pytest.raises(TypeError, match='unknown parameters'):
        make_config('mini', colour='red')

"""Fixtures of the StampsAV tests: the fake Tux Paint packages and a small build's config."""
import pytest
from fake_tux_paint import FakeTuxPaint, build_fake_tux_paint

from icl_av.stampsav import make_config


@pytest.fixture(scope='session')
def fake_tux(tmp_path_factory) -> FakeTuxPaint:
    """The fake packages, written once per test run."""
    return build_fake_tux_paint(str(tmp_path_factory.mktemp('tux') / 'x'))


@pytest.fixture(scope='session')
def tiny_stampsav_config(fake_tux):
    """A small, fast build of the fake packages: 64 px frames, 12 / 4 / 4 scenes, 2 of 7 classes unheard."""
    return make_config('mini_big', seed=3, stamps_root=fake_tux.stamps_root, templates_root=fake_tux.templates_root,
                       size=64, n_train=12, n_test=4, n_unheard=4, unheard_frac=0.3)

"""Shared pytest fixtures: repository paths, the public metadata, a tiny model and small videos."""
import atexit
import os
import os.path as osp
import shutil
import tempfile

import numpy as np
import pytest
from av_test_media import HAS_PYAV, write_av_mp4, write_video_only_mp4
from tiny_configs import write_tiny_config

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def pytest_configure(config):
    """Point SynthAV's render cache (configs/_base_/datasets/synthav.py) at a temporary folder.

    Tests never write into the checkout; tools run as subprocesses inherit the variable.
    """
    if 'ICL_AV_SYNTHAV_CACHE' not in os.environ:
        folder = tempfile.mkdtemp(prefix='icl_av_synthav_cache_')
        os.environ['ICL_AV_SYNTHAV_CACHE'] = folder
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    # Tests build Runners in-process and resume them, as a user script does after
    # `register_all_modules()`: install torch's checkpoint allow-list once for the test run
    # (importing icl_av does not install it; tools run as subprocesses install their own).
    from icl_av.utils.checkpoint_safety import register_checkpoint_safe_globals
    register_checkpoint_safe_globals()


@pytest.fixture(scope='session')
def repo_root() -> str:
    """The repository checkout (tools/ and configs/ live here)."""
    return REPO_ROOT


@pytest.fixture(scope='session')
def av_metadata_dir() -> str:
    """The public benchmark metadata folder (../shared/data/av_metadata); skip when absent."""
    path = os.environ.get('ICL_AV_METADATA', osp.join(REPO_ROOT, '..', 'shared', 'data', 'av_metadata'))
    if not osp.isdir(path):
        pytest.skip(f'public metadata folder not found at {path}')
    return path


@pytest.fixture(scope='session')
def tiny_config(tmp_path_factory) -> str:
    """Path of a tiny SynthAV / ResNet18 ICL config (32 px, 4 samples, no workers)."""
    return write_tiny_config(tmp_path_factory.mktemp('cfg'))


@pytest.fixture(scope='session')
def tiny_checkpoint(tiny_config, tmp_path_factory) -> str:
    """A checkpoint of the tiny model (random weights) in MMEngine's format."""
    import torch

    from icl_av.apis import init_localizer
    model = init_localizer(tiny_config)
    path = osp.join(str(tmp_path_factory.mktemp('ckpt')), 'tiny.pth')
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, path)
    return path


def write_test_mp4(path, seconds=2.0, fps=10, size='64x48', audio=True) -> str:
    """A small mp4 with a moving pattern and (optionally) a mono 16 kHz sine track."""
    width, height = (int(v) for v in size.split('x'))
    if audio:
        write_av_mp4(path, seconds=seconds, fps=fps, rate=16000, channels=1, size=size)
    else:
        write_video_only_mp4(path, frames=int(seconds * fps), fps=fps, height=height, width=width)
    return str(path)


@pytest.fixture
def av_video():
    """Factory writing a small mp4 (skips the test when PyAV is missing)."""
    if not HAS_PYAV:
        pytest.skip('PyAV (a test requirement) is needed to write mp4 files with audio')
    return write_test_mp4


@pytest.fixture
def rng():
    return np.random.default_rng(0)

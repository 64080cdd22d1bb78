"""Shared pytest fixtures and paths."""
import os
import os.path as osp

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


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

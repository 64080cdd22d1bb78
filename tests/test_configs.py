"""Every config under configs/ and projects/*/configs loads, builds its model, and is named for what it runs.

Names follow ``{algorithm}_{backbone}_{N}xb{B}-{E}e_{dataset}[_{variant}].py`` (README, Config names); a name
that says 10 epochs where the config trains 9 fails here.
"""
import glob
import importlib.util
import os.path as osp
import re

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from icl_av.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(osp.relpath(p, REPO) for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
                 + glob.glob(osp.join(REPO, 'projects', '*', 'configs', '*.py')))
NAME = re.compile(r'^(?P<algorithm>[a-z0-9-]+)_(?P<backbone>[a-z0-9-]+)_(?P<gpus>\d+)xb(?P<batch>\d+)-(?P<epochs>\d+)e'
                  r'_(?P<dataset>[a-z0-9-]+)(?:_[a-z0-9-]+)*\.py$')
RUNNABLE = [p for p in CONFIGS if '_base_' not in p.split(osp.sep)]
MODEL_BASES = [p for p in CONFIGS if p.startswith(osp.join('configs', '_base_', 'models'))]


def _missing_package(err: BaseException):
    """The top-level package an import error (or its cause) names when it is not installed, else None.

    Configs of optional packages (projects/mmpretrain_towers: ``custom_imports=['mmpretrain.models']``)
    fail to load without them; the repository's own modules never count as optional.
    """
    while err is not None:
        name = getattr(err, 'name', None)
        if isinstance(err, ModuleNotFoundError) and name:
            top = name.split('.')[0]
            if top not in ('icl_av', 'projects') and importlib.util.find_spec(top) is None:
                return top
        err = err.__cause__ or err.__context__
    return None


@pytest.fixture
def load(monkeypatch):
    """Load a config as tools/train.py does: from the repository root, which is importable (projects.*).

    Skips a config whose ``custom_imports`` name an optional package that is not installed.
    """
    monkeypatch.syspath_prepend(REPO)
    monkeypatch.chdir(REPO)

    def load_config(path):
        try:
            return Config.fromfile(osp.join(REPO, path))
        except ImportError as err:
            missing = _missing_package(err)
            if missing is None:
                raise
            pytest.skip(f'{path} needs {missing}, which is not installed')
    return load_config


def test_the_configs_are_found():
    assert 'configs/icl/icl_r18_1xb32-9e_synthav64.py' in RUNNABLE
    assert any(p.startswith('projects/') for p in RUNNABLE)


@pytest.mark.parametrize('path', CONFIGS)
def test_every_config_loads(load, path):
    cfg = load(path)
    if path in RUNNABLE:
        assert cfg.default_scope == 'icl_av'
        assert cfg.model.type and cfg.train_dataloader.dataset.type


@pytest.mark.parametrize('path', RUNNABLE + MODEL_BASES)
def test_every_config_builds_its_model(load, path):
    model_cfg = load(path).model
    # No downloads in tests: ImageNet weights are a load-time choice, not part of what is built
    # (towers that take no `pretrained`, such as mmpretrain backbones, download nothing at build).
    for tower in ('visual_backbone', 'audio_backbone'):
        if 'pretrained' in model_cfg[tower]:
            model_cfg[tower]['pretrained'] = False
    with DefaultScope.overwrite_default_scope('icl_av'):
        model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) > 0


@pytest.mark.parametrize('path', [p for p in RUNNABLE if p.startswith(('configs/icl/', 'projects/'))])
def test_the_name_says_what_the_config_runs(load, path):
    match = NAME.match(osp.basename(path))
    assert match, f'{path}: not named {{algorithm}}_{{backbone}}_{{N}}xb{{B}}-{{E}}e_{{dataset}}[_{{variant}}].py'
    cfg = load(path)
    assert cfg.train_dataloader.batch_size == int(match['batch']), f'{path}: batch size'
    assert cfg.train_cfg.max_epochs == int(match['epochs']), f'{path}: epochs'
    size = re.fullmatch(r'synthav(\d+)', match['dataset'])
    if size:
        assert cfg.train_dataloader.dataset.img_size == int(size[1]), f'{path}: frame size'


@pytest.mark.parametrize('path', RUNNABLE)
def test_every_config_keeps_the_runtime_hooks(load, path):
    """MMEngine replaces a list from a base: a config that sets custom_hooks must keep the runtime base's.

    The PseudoLabelHook, where there is one, comes second: the documented overrides (``custom_hooks.1.*``)
    index it.
    """
    types = [hook['type'] for hook in load(path).custom_hooks]
    assert types[0] == 'EpochSeedHook', types
    assert 'PseudoLabelHook' not in types or types.index('PseudoLabelHook') == 1, types

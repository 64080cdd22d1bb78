"""tools/train.py --amp: bf16 towers where bf16 is native, a one-line refusal elsewhere, never fp16 around bf16.

No GPU here: the machine is mocked (``torch.cuda.is_available`` and the precision rule's probes).
"""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from script_modules import load_script

from icl_av.utils import UserInputError
from icl_av.utils import machine

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GPU_CONFIG = osp.join(REPO, 'configs', 'icl', 'icl_r18_8xb64-20e_vggsound144k.py')
train = load_script(osp.join(REPO, 'tools', 'train.py'), 'train_tool_amp')


def on_machine(monkeypatch, cuda=None, amx=False):
    """Mock the machine: ``cuda`` None (no GPU), True (native bf16) or False (emulated only)."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda is not None)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 0 if cuda is None else 1)
    monkeypatch.setattr(machine, 'cuda_native_bf16', lambda: bool(cuda))
    monkeypatch.setattr(machine, 'cpu_capabilities',
                        lambda: machine.CpuCapabilities('Test CPU', amx=amx, avx512_bf16=amx, avx2=True))


def merged(*argv, config=GPU_CONFIG, **overrides):
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(overrides)
    return train.merge_args(cfg, train.parse_args([config, *argv]))


@pytest.mark.parametrize('cuda, amx', [(True, False), (None, True)])
def test_amp_maps_to_bf16_towers_without_a_scaler(monkeypatch, capsys, cuda, amx):
    on_machine(monkeypatch, cuda=cuda, amx=amx)
    cfg = merged('--amp')
    assert cfg.model.amp_dtype == 'bfloat16'
    assert cfg.optim_wrapper.get('type', 'OptimWrapper') == 'OptimWrapper' and 'loss_scale' not in cfg.optim_wrapper
    assert "model.amp_dtype='bfloat16'" in capsys.readouterr().out


@pytest.mark.parametrize('cuda, amx, where', [(False, False, 'CUDA device without native bf16'),
                                              (None, False, 'CPU without AMX')])
def test_amp_is_refused_in_one_line_where_bf16_is_not_native(monkeypatch, capsys, cuda, amx, where):
    on_machine(monkeypatch, cuda=cuda, amx=amx)
    with pytest.raises(UserInputError, match=where):
        merged('--amp')
    with pytest.raises(SystemExit) as exit_info:
        train.run_cli(lambda: merged('--amp'))
    assert exit_info.value.code == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith('error:')]
    assert len(errors) == 1 and '--amp' in errors[0] and where in errors[0]


def test_amp_refuses_fp16_towers_and_an_amp_optim_wrapper(monkeypatch):
    on_machine(monkeypatch, cuda=True)
    with pytest.raises(UserInputError, match='float16'):
        merged('--amp', model=dict(amp_dtype='float16'))
    with pytest.raises(UserInputError, match='AmpOptimWrapper'):
        merged('--amp', optim_wrapper=dict(type='AmpOptimWrapper'))


@pytest.mark.parametrize('towers, dtype, refused', [('auto', None, True), ('bfloat16', 'float16', True),
                                                    ('auto', 'bfloat16', False), (None, None, False)])
def test_a_config_with_fp16_amp_around_bf16_towers_is_refused(towers, dtype, refused):
    wrapper = dict(type='AmpOptimWrapper', dtype=dtype) if dtype else dict(type='AmpOptimWrapper')
    if refused:
        with pytest.raises(UserInputError, match='GradScaler'):
            merged(model=dict(amp_dtype=towers), optim_wrapper=wrapper)
    else:
        assert merged(model=dict(amp_dtype=towers), optim_wrapper=wrapper).optim_wrapper.type == 'AmpOptimWrapper'


def test_models_without_tower_precision_keep_mmengines_amp(monkeypatch):
    on_machine(monkeypatch, cuda=True)
    cfg = Config(dict(model=dict(type='BaseModel'), optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1))))
    assert not train.has_tower_precision(cfg.model)
    train.apply_amp_flag(cfg)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper' and cfg.optim_wrapper.loss_scale == 'dynamic'


def test_localizers_are_recognised_without_the_key():
    assert train.has_tower_precision(Config(dict(model=dict(type='AVLocalizer'))).model)
    assert train.has_tower_precision(Config(dict(model=dict(type='Anything', amp_dtype=None))).model)

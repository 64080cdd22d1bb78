"""tools/model_converters/prototypes_to_posterior_maps.py: the bank's prototype keys -> the localizer's posterior_maps.

A checkpoint in the other naming is made from a tiny localizer's own checkpoint by renaming its
``posterior_maps.*`` keys to ``pseudo_label_bank.*``; converted back, it must load strictly into
the localizer with the same prototypes, and keep everything else of the file.
"""
import os
import subprocess
import sys

import pytest
import torch

from icl_av.registry import MODELS
from icl_av.utils.errors import UserInputError
from script_modules import load_script

MOVED = ('prototypes', 'familiarity_threshold', 'location_prior')
TINY_LOCALIZER = dict(
    type='AVLocalizer',
    visual_backbone=dict(type='TimmVisualBackbone', model_name='test_resnet', out_index=2),
    audio_backbone=dict(type='TimmAudioEncoder', model_name='test_resnet'),
    head=dict(type='AVSimilarityHead', embed_dims=16),
    loss=dict(type='ICLLoss'))


@pytest.fixture(scope='module')
def tool(repo_root):
    return load_script(os.path.join(repo_root, 'tools', 'model_converters', 'prototypes_to_posterior_maps.py'),
                       'prototypes_to_posterior_maps')


def _bank_named_checkpoint(model, path):
    state = {(f'pseudo_label_bank.{key.split(".", 1)[1]}' if key.startswith('posterior_maps.') else key): value
             for key, value in model.state_dict().items()}
    torch.save(dict(meta=dict(epoch=3), state_dict=state, optimizer=dict(state={}, param_groups=[])), path)


def test_converted_checkpoint_loads_strictly_with_its_prototypes(tool, tmp_path):
    model = MODELS.build(TINY_LOCALIZER)
    model.update_pseudo_labels(torch.arange(3), torch.rand(3, 4, 4), torch.tensor([0, 1, 0]))
    model.set_audio_prototypes(torch.randn(2, model.head.embed_dims), 0.4, torch.rand(4, 4))
    src, dst = tmp_path / 'old.pth', tmp_path / 'out' / 'new.pth'
    _bank_named_checkpoint(model, src)
    fresh = MODELS.build(TINY_LOCALIZER)
    with pytest.raises(UserInputError, match='prototypes_to_posterior_maps.py'):  # unconverted: refused, names the tool
        fresh.load_state_dict(torch.load(src, weights_only=True)['state_dict'], strict=False)

    moved = tool.convert(str(src), str(dst))
    assert sorted(moved) == sorted(f'posterior_maps.{name}' for name in MOVED)
    converted = torch.load(dst, weights_only=True)
    assert converted['meta'] == dict(epoch=3) and 'optimizer' in converted
    fresh = MODELS.build(TINY_LOCALIZER)
    fresh.load_state_dict(converted['state_dict'])  # strict
    for key, value in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key
    with pytest.raises(UserInputError, match='no pseudo_label_bank'):
        tool.convert(str(dst), str(tmp_path / 'again.pth'))  # nothing left to rename


def test_a_bare_state_dict_with_both_namings_is_refused(tool, tmp_path):
    path = tmp_path / 'both.pth'
    torch.save({'pseudo_label_bank.prototypes': torch.zeros(1, 2), 'posterior_maps.prototypes': torch.zeros(1, 2)},
               path)
    with pytest.raises(UserInputError, match='holds both'):
        tool.convert(str(path), str(tmp_path / 'out.pth'))


def test_the_command_line_prints_one_line_on_a_user_error(repo_root, tmp_path):
    result = subprocess.run([sys.executable, os.path.join(repo_root, 'tools', 'model_converters',
                                                          'prototypes_to_posterior_maps.py'),
                             str(tmp_path / 'missing.pth'), str(tmp_path / 'out.pth')],
                            capture_output=True, text=True)
    assert result.returncode == 2 and 'no such checkpoint file' in result.stderr

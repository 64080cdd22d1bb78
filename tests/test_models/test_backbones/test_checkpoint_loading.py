"""Loading a local weight file into a wrapped timm model: which weights land where, and what is reported."""
import pytest
import torch
import torch.nn as nn
from safetensors.torch import save_file

from icl_av.models.backbones.checkpoint_loading import (LoadReport, load_local_weights,
                                                        looks_like_checkpoint_path, read_state_dict)


class FeaturesOnlyLike(nn.Module):
    """Names as timm's ``features_only`` wrapper gives them: ``stages_0`` for a file's ``stages.0``."""

    def __init__(self, in_chans=1):
        super().__init__()
        self.stem = nn.Conv2d(in_chans, 4, 3)
        self.stages_0 = nn.Linear(4, 4)
        self.norm = nn.BatchNorm1d(4)


def _file_state(in_chans=3):
    torch.manual_seed(0)
    return {'stem.weight': torch.randn(4, in_chans, 3, 3), 'stem.bias': torch.randn(4),
            'stages.0.weight': torch.randn(4, 4), 'stages.0.bias': torch.randn(4),
            'head.fc.weight': torch.randn(10, 4)}


def test_looks_like_checkpoint_path(tmp_path):
    existing = tmp_path / 'weights'
    existing.write_bytes(b'')
    assert looks_like_checkpoint_path(str(existing))  # any existing file
    assert looks_like_checkpoint_path('not/yet/there.SAFETENSORS')
    assert not looks_like_checkpoint_path('a1_in1k')  # a timm tag
    assert not looks_like_checkpoint_path(True)


@pytest.mark.parametrize('wrapper', [None, 'state_dict', 'model', 'module'])
def test_read_state_dict_unwraps_and_strips_ddp_prefix(tmp_path, wrapper):
    state = {'module.a': torch.ones(2), 'b': torch.zeros(1)}
    path = tmp_path / 'w.pth'
    torch.save(state if wrapper is None else {wrapper: state, 'meta': {'epoch': 3}}, path)
    read = read_state_dict(str(path))
    assert sorted(read) == ['a', 'b'] and torch.equal(read['a'], torch.ones(2))


def test_read_state_dict_reads_safetensors(tmp_path):
    path = tmp_path / 'w.safetensors'
    save_file({'x': torch.arange(3.0)}, str(path))
    assert torch.equal(read_state_dict(str(path))['x'], torch.arange(3.0))


def test_read_state_dict_names_the_file_when_it_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothere.pth'):
        read_state_dict(str(tmp_path / 'nothere.pth'))
    path = tmp_path / 'not_weights.pth'
    torch.save({'epoch': 3, 'lr': 0.1}, path)
    with pytest.raises(ValueError, match='not_weights.pth'):
        read_state_dict(str(path))


def test_load_local_weights_maps_names_adapts_the_stem_and_reports(tmp_path):
    source = _file_state(in_chans=3)
    # One key behind an OpenMMLab-style prefix, one whose shape cannot fit.
    source['backbone.norm.weight'] = torch.full((4,), 2.0)
    source['norm.bias'] = torch.zeros(7)
    path = tmp_path / 'w.pth'
    torch.save(source, path)
    model = FeaturesOnlyLike(in_chans=1)

    report = load_local_weights(model, str(path), owner='audio')

    assert isinstance(report, LoadReport)
    # stages.0.* -> stages_0.*, backbone.norm.weight -> norm.weight, the 3-channel stem summed to 1 channel.
    torch.testing.assert_close(model.stages_0.weight, source['stages.0.weight'])
    torch.testing.assert_close(model.norm.weight, source['backbone.norm.weight'])
    torch.testing.assert_close(model.stem.weight, source['stem.weight'].sum(dim=1, keepdim=True))
    assert report.adapted == ['stem.weight']
    assert report.unexpected == ['head.fc.weight']
    assert report.mismatched == ['norm.bias: file (7,) vs model (4,)']
    assert sorted(report.loaded) == ['norm.weight', 'stages_0.bias', 'stages_0.weight', 'stem.bias', 'stem.weight']
    # What the file did not provide is reported missing (torch fills BatchNorm's counter in by itself).
    assert sorted(report.missing) == ['norm.bias', 'norm.running_mean', 'norm.running_var']

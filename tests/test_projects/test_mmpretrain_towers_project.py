"""projects/mmpretrain_towers: mmpretrain's ResNet and VisionTransformer as towers, from config to test table.

The configs say what map each tower gives at 64 px; these tests build the models and check it,
then train each config for two iterations and test it with tools/train.py and tools/test.py
(data and towers shrunk, everything else as shipped). Skipped without mmpretrain.
"""
import os
import subprocess
import sys

import pytest
import torch

pytest.importorskip('mmpretrain', reason='mmpretrain (optional, projects/mmpretrain_towers) is not installed')

from icl_av.models.backbones.backbone_adapter import AudioBackboneAdapter, VisualBackboneAdapter  # noqa: E402
from icl_av.registry import MODELS  # noqa: E402

RESNET = 'projects/mmpretrain_towers/configs/icl_mmpretrain-r18_1xb32-9e_synthav64.py'
VIT = 'projects/mmpretrain_towers/configs/icl_mmpretrain-vit-t8_1xb32-9e_synthav64.py'

SHRINK = """
_base_ = ['{root}/{config}']
_data = dict(img_size=32, num_samples=8, audio_seconds=0.5)
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, dataset=_data)
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, dataset=_data)
test_dataloader = val_dataloader
model = dict({model}head=dict(embed_dims=16))
train_cfg = dict(max_epochs=1, val_interval=10)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
custom_hooks = [dict(type='EpochSeedHook')]
"""
# Two blocks instead of six: the ViT run is about the tower's plumbing, not its depth.
SHRINK_MODEL = {RESNET: '', VIT: 'visual_backbone=dict(arch=dict(num_layers=2)), '}


@pytest.mark.parametrize('path, channels, mmpretrain_class', [(RESNET, 128, 'ResNet'),
                                                              (VIT, 192, 'VisionTransformer')])
def test_the_visual_tower_gives_the_stride_8_map(load_project_config, path, channels, mmpretrain_class):
    model = MODELS.build(load_project_config(path).model).eval()
    tower = model.visual_backbone
    assert isinstance(tower, VisualBackboneAdapter) and type(tower.model).__name__ == mmpretrain_class
    assert (tower.out_channels, tower.out_stride) == (channels, 8)
    with torch.no_grad():
        assert tower(torch.randn(1, 3, 64, 64)).shape == (1, channels, 8, 8)


def test_the_resnet_config_max_pools_an_mmpretrain_audio_tower(load_project_config):
    model = MODELS.build(load_project_config(RESNET).model)
    audio = model.audio_backbone
    assert isinstance(audio, AudioBackboneAdapter) and type(audio.model).__name__ == 'ResNet'
    assert audio.pool == 'max' and audio.out_channels == 512


def _run(repo_root, env, *args):
    result = subprocess.run([sys.executable, *args], cwd=repo_root, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize('path', [RESNET, VIT])
def test_the_config_trains_and_tests_through_the_tools(repo_root, tmp_path, path):
    config = tmp_path / 'shrunk.py'
    config.write_text(SHRINK.format(root=repo_root, config=path, model=SHRINK_MODEL[path]))
    env = dict(os.environ, ICL_AV_SYNTHAV_CACHE=str(tmp_path / 'cache'))
    work = str(tmp_path / 'work')

    log = _run(repo_root, env, 'tools/train.py', str(config), '--work-dir', work)
    assert 'Epoch(train) [1][2/2]' in log  # two iterations
    checkpoint = str(tmp_path / 'work' / 'epoch_1.pth')
    state = torch.load(checkpoint, map_location='cpu')['state_dict']
    assert any(key.startswith('visual_backbone.model.') for key in state)

    out = _run(repo_root, env, 'tools/test.py', str(config), checkpoint, '--work-dir', work)
    assert '| model ' in out

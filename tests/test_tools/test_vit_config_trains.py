"""The CPU-sized ViT config trains and tests through tools/train.py / tools/test.py with weights from a local file.

The weights are made here (a tiny timm ViT saved to .safetensors); the towers are shrunk to two
blocks and the run to two epochs (one ICL refresh), everything else is the config as shipped.
"""
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import save_file

CONFIG = 'configs/icl/icl_vit-t16_1xb32-9e_synthav128.py'
SHRINK = """
_base_ = ['{root}/{config}']
_data = dict(img_size=48, num_samples=8, audio_seconds=0.5)
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, dataset=_data)
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, dataset=_data)
test_dataloader = val_dataloader
model = dict(visual_backbone=dict(depth=2, pretrained='{weights}'), audio_backbone=dict(depth=2),
             head=dict(embed_dims=16))
train_cfg = dict(max_epochs=2, val_interval=10)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='PseudoLabelHook', iteration_epochs=[1, 1], num_clusters=2, seed=0,
         dataloader=dict(batch_size=4, num_workers=0)),
]
"""


def run(repo_root, env, *args):
    result = subprocess.run([sys.executable, *args], cwd=repo_root, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


@pytest.mark.slow
def test_vit_config_trains_and_tests_with_local_weights(repo_root, tmp_path):
    from icl_av.models.backbones import TimmViTVisualBackbone
    pretrained = TimmViTVisualBackbone('vit_tiny_patch16_224', depth=2).model
    weights = str(tmp_path / 'vit_tiny_patch16_224.safetensors')
    save_file(dict(pretrained.state_dict()), weights)
    config = tmp_path / 'vit_cpu.py'
    config.write_text(SHRINK.format(root=repo_root, config=CONFIG, weights=weights))
    env = dict(os.environ, ICL_AV_SYNTHAV_CACHE=str(tmp_path / 'cache'))

    log = run(repo_root, env, 'tools/train.py', str(config), '--work-dir', str(tmp_path / 'work'))
    assert f'TimmViTVisualBackbone(vit_tiny_patch16_224): loaded all {len(pretrained.state_dict())} tensors from {weights}' in log
    assert 'PseudoLabelHook: refresh after epoch 1' in log
    checkpoint = str(tmp_path / 'work' / 'epoch_2.pth')
    trained = torch.load(checkpoint, map_location='cpu')['state_dict']
    start = pretrained.blocks[1].attn.qkv.weight
    assert not torch.equal(trained['visual_backbone.model.blocks.1.attn.qkv.weight'], start)  # it was tuned

    out = run(repo_root, env, 'tools/test.py', str(config), checkpoint, '--work-dir', str(tmp_path / 'work'))
    assert '| model ' in out

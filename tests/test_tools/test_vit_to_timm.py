"""tools/model_converters/vit_to_timm.py: official DINOv2 / OpenAI CLIP names -> timm names, and back.

The source-named state dicts are made from tiny timm models (no downloads), spelled with the
official key names checked below, so a converted file must load exactly into the tower.
"""
import os
import subprocess
import sys

import pytest
import timm
import torch

from icl_av.models.backbones import TimmViTVisualBackbone
from icl_av.utils.errors import UserInputError
from script_modules import load_script

DINOV2 = dict(model_name='vit_small_patch14_reg4_dinov2', depth=2, embed_dim=64, num_heads=2, img_size=56)
CLIP = dict(model_name='vit_base_patch16_clip_224', depth=2, embed_dim=64, num_heads=2, img_size=64)


@pytest.fixture(scope='module')
def tool(repo_root):
    return load_script(os.path.join(repo_root, 'tools', 'model_converters', 'vit_to_timm.py'), 'vit_to_timm')


def _timm_state(spec, **extra):
    kwargs = {k: v for k, v in spec.items() if k != 'model_name'}
    torch.manual_seed(0)
    model = timm.create_model(spec['model_name'], pretrained=False, **kwargs, **extra)
    return {name: value.clone() for name, value in model.state_dict().items()}


def _assert_same(a, b):
    assert sorted(a) == sorted(b)
    for name in a:
        torch.testing.assert_close(a[name], b[name], msg=name)


def test_dinov2_round_trips_and_uses_official_names(tool):
    state = _timm_state(DINOV2, num_classes=0)
    official = tool.timm_to_dinov2(state)
    assert {'mask_token', 'register_tokens', 'cls_token', 'pos_embed', 'blocks.1.ls2.gamma'} <= set(official)
    assert official['pos_embed'].shape[1] == state['pos_embed'].shape[1] + 1  # the class position is stored
    _assert_same(tool.dinov2_to_timm(official), state)


def test_dinov2_class_position_is_folded_into_the_class_token(tool):
    state = _timm_state(DINOV2, num_classes=0)
    official = tool.timm_to_dinov2(state)
    official['pos_embed'][:, :1] = 1.0
    chunked = {k.replace('blocks.1.', 'blocks.0.1.'): v for k, v in official.items()}  # chunked blocks
    converted = tool.dinov2_to_timm(chunked)
    torch.testing.assert_close(converted['cls_token'], state['cls_token'] + 1.0)
    assert 'blocks.1.attn.qkv.weight' in converted


def test_clip_round_trips_and_uses_openai_names(tool):
    state = _timm_state(CLIP, num_classes=32)  # head = CLIP's projection to 32 dims (no bias in CLIP)
    state['head.bias'] = torch.zeros(32)
    openai = tool.timm_to_clip(state)
    assert {'conv1.weight', 'class_embedding', 'positional_embedding', 'ln_pre.weight', 'ln_post.bias', 'proj',
            'transformer.resblocks.1.attn.in_proj_weight', 'transformer.resblocks.0.mlp.c_fc.bias'} <= set(openai)
    assert openai['class_embedding'].shape == (64,) and openai['proj'].shape == (64, 32)
    _assert_same(tool.clip_to_timm(openai), state)
    # A whole CLIP model's state dict: only visual.* is kept.
    whole = {f'visual.{k}': v for k, v in openai.items()}
    whole['transformer.resblocks.0.ln_1.weight'] = torch.ones(3)  # the text tower
    _assert_same(tool.clip_to_timm(whole), state)


@pytest.mark.parametrize('source, spec', [('dinov2', DINOV2), ('clip', CLIP)])
def test_cli_writes_a_file_the_tower_loads_exactly(tool, tmp_path, source, spec):
    state = _timm_state(spec, num_classes=0)
    official = tool.timm_to_dinov2(state) if source == 'dinov2' else tool.timm_to_clip(state)
    src, dst = str(tmp_path / 'official.pth'), str(tmp_path / 'timm.safetensors')
    torch.save(official, src)
    tool.main([source, src, dst])
    kwargs = {k: v for k, v in spec.items() if k != 'model_name'}
    tower = TimmViTVisualBackbone(spec['model_name'], pretrained=dst, **kwargs)
    _assert_same({k: v for k, v in tower.model.state_dict().items()}, state)


def test_unknown_keys_are_an_error_not_dropped(tool, tmp_path):
    official = tool.timm_to_clip(_timm_state(CLIP, num_classes=0))
    official['transformer.resblocks.0.attn.extra'] = torch.zeros(1)
    src = str(tmp_path / 'odd.pth')
    torch.save(official, src)
    with pytest.raises(UserInputError, match='transformer.resblocks.0.attn.extra'):
        tool.main(['clip', src, str(tmp_path / 'out.safetensors')])


def test_check_model_that_does_not_fit_prints_one_line(repo_root, tool, tmp_path):
    src, dst = str(tmp_path / 'tiny.pth'), str(tmp_path / 'tiny.safetensors')
    torch.save(tool.timm_to_dinov2(_timm_state(DINOV2, num_classes=0)), src)  # 2 blocks, 64 wide
    result = subprocess.run([sys.executable, 'tools/model_converters/vit_to_timm.py', 'dinov2', src, dst,
                             '--check-model', 'vit_small_patch14_reg4_dinov2'],
                            cwd=repo_root, capture_output=True, text=True)
    assert result.returncode == 2, result.stderr[-2000:]
    error = [line for line in result.stderr.splitlines() if line.startswith('error: ')]
    assert len(error) == 1 and 'nothing was loaded' in error[0]
    assert 'missing 140 [blocks.10.' in error[0] and 'shape mismatch' in error[0]  # blocks 2..11; 64 vs 384 wide

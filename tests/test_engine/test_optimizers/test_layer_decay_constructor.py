"""Layer-wise lr decay: built from a config through MMEngine's constructor registry, with the expected lrs."""
import pytest
import torch.nn as nn
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

from icl_av.models.backbones import TimmViTVisualBackbone


class TwoTowers(nn.Module):
    """A ViT tower (layered) next to a plain head (not layered), as in the localizer."""

    def __init__(self, frozen_blocks=0):
        super().__init__()
        self.visual_backbone = TimmViTVisualBackbone('vit_tiny_patch16_224', depth=2, frozen_blocks=frozen_blocks)
        self.head = nn.Linear(4, 4)


def _build(model, **paramwise):
    cfg = dict(type='OptimWrapper', constructor='LayerDecayOptimWrapperConstructor',
               optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05), paramwise_cfg=paramwise)
    with DefaultScope.overwrite_default_scope('icl_av'):
        return build_optim_wrapper(model, cfg)


def _lr_and_decay_of(optim_wrapper, param):
    group = next(g for g in optim_wrapper.optimizer.param_groups if any(p is param for p in g['params']))
    return group['lr'], group['weight_decay']


def test_groups_have_decayed_lrs_from_the_top_block_down():
    model = TwoTowers()
    wrapper = _build(model, layer_decay_rate=0.5)
    vit = model.visual_backbone.model  # 2 blocks: layer ids 0 (embeddings), 1, 2, 3 (final norm)
    assert _lr_and_decay_of(wrapper, vit.norm.weight) == (pytest.approx(1e-3), 0.0)
    assert _lr_and_decay_of(wrapper, vit.blocks[1].attn.qkv.weight) == (pytest.approx(5e-4), 0.05)
    assert _lr_and_decay_of(wrapper, vit.blocks[0].mlp.fc1.weight) == (pytest.approx(2.5e-4), 0.05)
    assert _lr_and_decay_of(wrapper, vit.patch_embed.proj.weight) == (pytest.approx(1.25e-4), 0.05)
    assert _lr_and_decay_of(wrapper, vit.pos_embed) == (pytest.approx(1.25e-4), 0.0)  # no decay on embeddings
    assert _lr_and_decay_of(wrapper, model.head.weight) == (pytest.approx(1e-3), 0.05)  # outside: base lr
    assert sum(len(g['params']) for g in wrapper.optimizer.param_groups) == len(list(model.parameters()))


def test_frozen_parameters_are_left_out():
    model = TwoTowers(frozen_blocks=1)
    wrapper = _build(model, layer_decay_rate=0.9)
    in_optimizer = {id(p) for g in wrapper.optimizer.param_groups for p in g['params']}
    assert id(model.visual_backbone.model.blocks[0].attn.qkv.weight) not in in_optimizer
    assert in_optimizer == {id(p) for p in model.parameters() if p.requires_grad}


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match='layer_decay_rate'):
        _build(TwoTowers(), layer_decay_rate=1.5)
    with pytest.raises(ValueError, match='custom_keys'):
        _build(TwoTowers(), custom_keys={'head': dict(lr_mult=0.1)})

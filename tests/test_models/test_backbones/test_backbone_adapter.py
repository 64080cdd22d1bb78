"""Backbone adapters: any backbone (stage tuples, undeclared channels, maps for the audio tower) as a tower.

Most tests use plain torch modules shaped like OpenMMLab backbones (a tuple of stage maps, an
``out_indices`` attribute, no ``out_channels``), so they run without mmpretrain; the last ones
build mmpretrain's ResNet and VisionTransformer through the localizer and skip without it.
"""
import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModule

from icl_av.models.backbones import TimmAudioEncoder, TimmVisualBackbone
from icl_av.models.backbones.backbone_adapter import (AudioBackboneAdapter, VisualBackboneAdapter,
                                                      adapt_audio_backbone, adapt_visual_backbone)
from icl_av.registry import MODELS


class Stages(nn.Module):
    """Three conv stages (strides 2, 4, 8; 8, 16, 32 channels) returned as a tuple, as OpenMMLab backbones do."""

    def __init__(self, in_channels=3, out_indices=(0, 1, 2)):
        super().__init__()
        self.out_indices = out_indices
        widths = [in_channels, 8, 16, 32]
        self.stages = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.ReLU())
            for c_in, c_out in zip(widths[:-1], widths[1:]))
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        outs = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)


class Returns(nn.Module):
    """Returns a fixed-shape tensor derived from the input's batch size (for shape checks)."""

    def __init__(self, *shape):
        super().__init__()
        self.shape = shape
        self.weight = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return self.weight * torch.ones(x.shape[0], *self.shape)


def test_the_last_stage_is_the_map_by_default():
    adapter = VisualBackboneAdapter(Stages())
    assert adapter.out_channels == 32 and adapter.out_stride == 8  # measured: the backbone declares neither
    out = adapter(torch.randn(2, 3, 64, 48))
    assert out.shape == (2, 32, 8, 6)


@pytest.mark.parametrize('out_index, channels, stride', [(0, 8, 2), (1, 16, 4), (-2, 16, 4)])
def test_out_index_picks_a_stage(out_index, channels, stride):
    backbone = Stages()
    adapter = VisualBackboneAdapter(backbone, out_index=out_index)
    assert (adapter.out_channels, adapter.out_stride) == (channels, stride)
    img = torch.randn(1, 3, 32, 32)
    backbone.eval(), adapter.eval()
    torch.testing.assert_close(adapter(img), backbone(img)[out_index])


def test_an_out_index_beyond_the_outputs_fails_at_build():
    with pytest.raises(ValueError, match='out_index=3 but the backbone returns 2 outputs'):
        VisualBackboneAdapter(Stages(out_indices=(1, 2)), out_index=3)


def test_stated_channels_and_stride_skip_the_dry_run():
    backbone = Stages()
    adapter = VisualBackboneAdapter(backbone, out_channels=32, out_stride=8)
    assert backbone.calls == 0 and (adapter.out_channels, adapter.out_stride) == (32, 8)
    VisualBackboneAdapter(backbone, out_stride=8)  # channels still unknown: one dry run
    assert backbone.calls == 1


def test_the_dry_run_leaves_batch_norm_statistics_and_training_mode_alone():
    backbone = Stages().train()
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    adapter = VisualBackboneAdapter(backbone)
    assert backbone.training and adapter.training
    for key, value in backbone.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_a_stride_that_is_no_whole_number_must_be_stated():
    with pytest.raises(ValueError, match='state out_stride'):
        VisualBackboneAdapter(Returns(4, 5, 5), probe_size=32)  # 32 px -> 5 cells
    assert VisualBackboneAdapter(Returns(4, 5, 5), probe_size=32, out_stride=7).out_stride == 7


def test_the_visual_tower_needs_a_map():
    with pytest.raises(ValueError, match="out_type='featmap'"):
        VisualBackboneAdapter(Returns(10, 4))  # B×N×C tokens


def test_a_backbone_that_rejects_the_probe_names_the_remedy():
    class SixChannels(nn.Module):
        def forward(self, x):
            if x.shape[1] != 6:
                raise ValueError('six input channels expected')
            return x

    with pytest.raises(RuntimeError, match='dry run on a \\(1, 3, 224, 224\\) input failed.*in_channels'):
        VisualBackboneAdapter(SixChannels())
    assert VisualBackboneAdapter(SixChannels(), in_channels=6).out_channels == 6


@pytest.mark.parametrize('pool', ['avg', 'max'])
def test_the_audio_tower_pools_the_chosen_map(pool):
    backbone = Stages(in_channels=1)
    adapter = AudioBackboneAdapter(backbone, pool=pool).eval()
    backbone.eval()
    assert adapter.out_channels == 32
    spec = torch.randn(3, 1, 64, 40)
    stage = backbone(spec)[-1].flatten(2)
    expected = stage.mean(dim=2) if pool == 'avg' else stage.amax(dim=2)
    torch.testing.assert_close(adapter(spec), expected)
    assert AudioBackboneAdapter(Stages(in_channels=1), out_index=0).out_channels == 8


def test_the_audio_tower_keeps_embeddings_and_rejects_tokens():
    assert AudioBackboneAdapter(Returns(24)).out_channels == 24
    assert AudioBackboneAdapter(Returns(24))(torch.randn(2, 1, 16, 16)).shape == (2, 24)
    with pytest.raises(ValueError, match='B×C embedding or a B×C×h×w map'):
        AudioBackboneAdapter(Returns(10, 24))
    with pytest.raises(ValueError, match='pool'):
        AudioBackboneAdapter(Returns(24), pool='cls')


def test_towers_that_keep_the_contract_are_used_as_they_are():
    visual, audio = TimmVisualBackbone('resnet18', out_index=2), TimmAudioEncoder('resnet18')
    assert adapt_visual_backbone(visual) is visual and adapt_audio_backbone(audio) is audio


def test_backbones_outside_the_contract_are_wrapped():
    assert isinstance(adapt_visual_backbone(Stages()), VisualBackboneAdapter)
    assert isinstance(adapt_audio_backbone(Stages(in_channels=1)), AudioBackboneAdapter)
    # out_channels of its own, but stage tuples by out_indices (as mmpretrain's EfficientNet).
    declared = Stages(in_channels=1)
    declared.out_channels = 32
    assert isinstance(adapt_audio_backbone(declared), AudioBackboneAdapter)
    # A map without a declared stride.
    no_stride = Returns(4, 2, 2)
    no_stride.out_channels = 4
    assert isinstance(adapt_visual_backbone(no_stride), VisualBackboneAdapter)


def test_the_adapters_are_registered_and_build_their_backbone_configs():
    adapter = MODELS.build(dict(type='VisualBackboneAdapter', out_index=-1,
                                backbone=dict(type='TimmVisualBackbone', model_name='resnet18', out_index=2)))
    assert isinstance(adapter.model, TimmVisualBackbone)
    assert (adapter.out_channels, adapter.out_stride) == (128, 8)
    audio = MODELS.build(dict(type='AudioBackboneAdapter', backbone=dict(type='TimmAudioEncoder')))
    assert audio.out_channels == 512


def test_init_weights_reaches_openmmlab_backbones_only():
    class OpenMMLabStyle(BaseModule):
        def __init__(self):
            super().__init__(init_cfg=dict(type='Constant', layer='Conv2d', val=0.5))
            self.conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)

        def forward(self, x):
            return (self.conv(x),)

    class PlainWithInit(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)

        def init_weights(self):
            raise AssertionError('a module outside OpenMMLab keeps the weights it is built with')

        def forward(self, x):
            return self.conv(x)

    adapter = VisualBackboneAdapter(OpenMMLabStyle())
    adapter.init_weights()
    assert torch.all(adapter.model.conv.weight == 0.5)
    VisualBackboneAdapter(PlainWithInit()).init_weights()


def test_the_localizer_adapts_plain_towers(tiny_localizer_cfg, tiny_batch):
    cfg = dict(tiny_localizer_cfg, visual_backbone=Stages(out_indices=(1, 2)),
               audio_backbone=Stages(in_channels=1, out_indices=(2,)))
    model = MODELS.build(cfg).eval()
    assert isinstance(model.visual_backbone, VisualBackboneAdapter)
    assert isinstance(model.audio_backbone, AudioBackboneAdapter)
    assert model.head.visual_proj.in_channels == 32 and model.head.audio_proj.in_features == 32
    data = model.data_preprocessor(tiny_batch, False)
    feats = model.extract_feat(data['inputs'])
    assert feats['backbone_map'].shape == (4, 32, 8, 8)
    assert feats['visual'].shape == (4, 16, 8, 8) and feats['audio'].shape == (4, 16)
    assert set(model(**data, mode='loss')) == {'loss_avc'}


def test_the_localizer_leaves_timm_towers_unwrapped(tiny_localizer_cfg):
    model = MODELS.build(tiny_localizer_cfg)
    assert isinstance(model.visual_backbone, TimmVisualBackbone)
    assert isinstance(model.audio_backbone, TimmAudioEncoder)
    assert any(name.startswith('visual_backbone.model.') for name in model.state_dict())


def test_mmpretrain_resnet_towers(tiny_localizer_cfg, tiny_batch):
    pytest.importorskip('mmpretrain', reason='mmpretrain (optional) is not installed')
    cfg = dict(tiny_localizer_cfg,
               visual_backbone=dict(type='mmpretrain.ResNet', depth=18, out_indices=(1,)),
               audio_backbone=dict(type='mmpretrain.ResNet', depth=18, in_channels=1))
    model = MODELS.build(cfg)
    assert type(model.visual_backbone.model).__module__.startswith('mmpretrain.')
    assert (model.visual_backbone.out_channels, model.visual_backbone.out_stride) == (128, 8)
    assert model.audio_backbone.out_channels == 512  # the last stage, average-pooled
    model.init_weights()  # mmpretrain's own initialisation (init_cfg) runs through the adapter
    data = model.data_preprocessor(tiny_batch, True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss_avc'])
    assert model.extract_feat(data['inputs'])['backbone_map'].shape == (4, 128, 8, 8)
    # The adapter written out, choosing the first of two stages (projects/mmpretrain_towers/README.md).
    first = MODELS.build(dict(type='VisualBackboneAdapter', out_index=0,
                              backbone=dict(type='mmpretrain.ResNet', depth=18, out_indices=(1, 2))))
    assert (first.out_channels, first.out_stride) == (128, 8)


def test_mmpretrain_vision_transformer_towers(tiny_localizer_cfg, tiny_batch):
    pytest.importorskip('mmpretrain', reason='mmpretrain (optional) is not installed')
    arch = dict(embed_dims=32, num_layers=1, num_heads=2, feedforward_channels=64)
    cfg = dict(tiny_localizer_cfg,
               visual_backbone=dict(type='mmpretrain.VisionTransformer', arch=arch, img_size=64, patch_size=8,
                                    out_type='featmap'),
               audio_backbone=dict(type='mmpretrain.VisionTransformer', arch=arch, img_size=(32, 16),
                                   patch_size=8, in_channels=1, out_type='cls_token'))
    model = MODELS.build(cfg).eval()
    assert (model.visual_backbone.out_channels, model.visual_backbone.out_stride) == (32, 8)
    assert model.audio_backbone.out_channels == 32
    feats = model.extract_feat(model.data_preprocessor(tiny_batch, False)['inputs'])
    assert feats['backbone_map'].shape == (4, 32, 8, 8) and feats['audio'].shape == (4, 16)
    with pytest.raises(ValueError, match="out_type='featmap'"):
        MODELS.build(dict(cfg, visual_backbone=dict(cfg['visual_backbone'], out_type='cls_token')))

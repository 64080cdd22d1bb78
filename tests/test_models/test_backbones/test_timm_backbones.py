"""TimmVisualBackbone / TimmAudioEncoder: shapes, stages, freezing and local checkpoints."""
import pytest
import timm
import torch
from safetensors.torch import save_file

from icl_av.models.backbones import TimmAudioEncoder, TimmVisualBackbone, read_state_dict
from icl_av.registry import MODELS


@pytest.mark.parametrize('name,kwargs,shape', [
    ('resnet18', dict(), (2, 512, 2, 2)),
    ('resnet18', dict(out_index=3), (2, 256, 4, 4)),
    ('resnet18', dict(remove_last_stride=True), (2, 512, 4, 4)),
    ('resnet18', dict(out_index=3, remove_last_stride=True), (2, 256, 8, 8)),
    ('resnet18', dict(output_stride=16), (2, 512, 4, 4)),
    ('convnext_atto', dict(), (2, 320, 2, 2)),
    ('convnext_atto', dict(out_index=-2), (2, 160, 4, 4)),
])
def test_visual_backbone_shapes(name, kwargs, shape):
    backbone = MODELS.build(dict(type='TimmVisualBackbone', model_name=name, **kwargs))
    out = backbone(torch.randn(2, 3, 64, 64))
    assert tuple(out.shape) == shape
    assert backbone.out_channels == shape[1]
    assert backbone.out_stride == 64 // shape[-1]


def test_visual_backbone_does_not_build_later_stages():
    backbone = TimmVisualBackbone('resnet18', out_index=3)
    names = {n.split('.')[0] for n, _ in backbone.model.named_parameters()}
    assert 'layer3' in names and 'layer4' not in names


def test_frozen_stages_and_eval_mode():
    backbone = TimmVisualBackbone('resnet18', frozen_stages=1)
    params = dict(backbone.model.named_parameters())
    assert not params['conv1.weight'].requires_grad
    assert not params['bn1.weight'].requires_grad
    assert not params['layer1.0.conv1.weight'].requires_grad
    assert params['layer2.0.conv1.weight'].requires_grad
    backbone.train()
    assert not backbone.model.bn1.training and not backbone.model.layer1[0].bn1.training
    assert backbone.model.layer2[0].bn1.training
    before = backbone.model.layer1[0].bn1.running_mean.clone()
    backbone(torch.randn(2, 3, 32, 32))
    assert torch.equal(before, backbone.model.layer1[0].bn1.running_mean)


def test_frozen_stages_on_flattened_timm_names():
    backbone = TimmVisualBackbone('convnext_atto', frozen_stages=0)
    params = dict(backbone.model.named_parameters())
    assert not any(p.requires_grad for n, p in params.items() if n.startswith(('stem_', 'stages_0.')))
    assert all(p.requires_grad for n, p in params.items() if n.startswith('stages_1.'))


def test_frozen_stages_out_of_range():
    with pytest.raises(ValueError, match='frozen_stages'):
        TimmVisualBackbone('resnet18', out_index=3, frozen_stages=7)


def test_norm_eval_keeps_batchnorm_frozen():
    backbone = TimmVisualBackbone('resnet18', norm_eval=True).train()
    bns = [m for m in backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and not any(m.training for m in bns)
    assert backbone.training  # the module itself still trains (dropout etc.)
    encoder = TimmAudioEncoder(norm_eval=True).train()
    assert not any(m.training for m in encoder.modules() if isinstance(m, torch.nn.BatchNorm2d))


@pytest.mark.parametrize('suffix', ['.pth', '.safetensors'])
def test_visual_backbone_loads_local_checkpoint(tmp_path, suffix):
    torch.manual_seed(1)
    source = timm.create_model('resnet18', pretrained=False)  # with classifier
    path = str(tmp_path / f'r18{suffix}')
    state = {k: v.contiguous() for k, v in source.state_dict().items()}
    if suffix == '.pth':
        torch.save({'state_dict': {f'module.{k}': v for k, v in state.items()}}, path)
    else:
        save_file(state, path)
    backbone = TimmVisualBackbone('resnet18', pretrained=path)
    loaded = backbone.model.state_dict()
    assert torch.equal(loaded['layer4.1.conv2.weight'], state['layer4.1.conv2.weight'])
    assert torch.equal(loaded['bn1.running_var'], state['bn1.running_var'])
    assert backbone.load_report.missing == []
    assert set(backbone.load_report.unexpected) == {'fc.weight', 'fc.bias'}


def test_local_checkpoint_maps_flattened_names_and_prefixes(tmp_path):
    source = timm.create_model('convnext_atto', pretrained=False)
    path = str(tmp_path / 'convnext.pth')
    torch.save({f'backbone.{k}': v for k, v in source.state_dict().items()}, path)
    backbone = TimmVisualBackbone('convnext_atto', pretrained=path)
    assert torch.equal(backbone.model.state_dict()['stages_1.blocks.0.conv_dw.weight'],
                       source.state_dict()['stages.1.blocks.0.conv_dw.weight'])
    assert backbone.load_report.missing == []


def test_audio_encoder_adapts_rgb_stem(tmp_path):
    source = timm.create_model('resnet18', pretrained=False)
    path = str(tmp_path / 'rgb.pth')
    torch.save(source.state_dict(), path)
    encoder = TimmAudioEncoder('resnet18', pretrained=path)
    expected = source.state_dict()['conv1.weight'].sum(dim=1, keepdim=True)
    assert torch.allclose(encoder.model.conv1.weight, expected)
    assert encoder.load_report.adapted == ['conv1.weight']
    assert encoder.load_report.missing == []


def test_missing_checkpoint_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothere.pth'):
        TimmVisualBackbone('resnet18', pretrained=str(tmp_path / 'nothere.pth'))
    bad = tmp_path / 'bad.pth'
    torch.save([1, 2, 3], str(bad))
    with pytest.raises(ValueError, match='bad.pth'):
        read_state_dict(str(bad))


@pytest.mark.parametrize('name', ['resnet18', 'mobilenetv3_small_050'])
def test_audio_encoder_shapes_and_pooling(name):
    spec = torch.randn(3, 1, 32, 40)
    max_enc = TimmAudioEncoder(name, pool='max').eval()
    out = max_enc(spec)
    assert tuple(out.shape) == (3, max_enc.out_channels)
    avg_enc = TimmAudioEncoder(name, pool='avg').eval()
    avg_enc.load_state_dict(max_enc.state_dict())
    assert not torch.allclose(avg_enc(spec), out)
    assert torch.all(out >= avg_enc(spec) - 1e-5)  # max over locations >= their mean


def test_audio_encoder_rejects_bad_input():
    with pytest.raises(ValueError, match='B×C×F×T'):
        TimmAudioEncoder()(torch.randn(2, 4000))
    with pytest.raises(ValueError, match='pool'):
        TimmAudioEncoder(pool='median')

"""ViT towers: the patch-token grid as the map, any input size, freezing, and exact loading of local files."""
import pytest
import torch
from safetensors.torch import save_file

from icl_av.models.backbones import CheckpointMismatchError, TimmViTAudioEncoder, TimmViTVisualBackbone
from icl_av.utils.errors import UserInputError

TINY = dict(model_name='vit_tiny_patch16_224', depth=2)
TINY_DINOV2 = dict(model_name='vit_small_patch14_reg4_dinov2', depth=2, embed_dim=64, num_heads=2, img_size=56)


@pytest.mark.parametrize('size, grid', [((64, 64), (4, 4)), ((96, 80), (6, 5)), ((70, 33), (5, 3))])
def test_map_has_the_stated_size_for_any_input(size, grid):
    backbone = TimmViTVisualBackbone(**TINY).eval()
    assert backbone.out_stride == 16 and backbone.out_channels == 192
    out = backbone(torch.randn(2, 3, *size))
    # Sizes that are not multiples of the patch are padded up: ceil(H / out_stride).
    assert out.shape == (2, backbone.out_channels, *grid)


def test_dinov2_map_excludes_class_and_register_tokens():
    backbone = TimmViTVisualBackbone(**TINY_DINOV2).eval()
    assert backbone.model.num_prefix_tokens == 5  # class + 4 registers
    img = torch.randn(1, 3, 84, 56)
    out = backbone(img)
    assert backbone.out_stride == 14 and out.shape == (1, 64, 6, 4)
    tokens = backbone.model.forward_features(img)
    assert tokens.shape[1] == 5 + 24
    # The map is exactly the patch tokens, row-major; no prefix token is in it.
    torch.testing.assert_close(out.flatten(2).transpose(1, 2), tokens[:, 5:])


def test_clip_names_build_with_their_pre_norm():
    backbone = TimmViTVisualBackbone('vit_base_patch16_clip_224', depth=1, embed_dim=32, num_heads=2).eval()
    assert backbone(torch.randn(1, 3, 48, 64)).shape == (1, 32, 3, 4)


def test_cnn_name_is_refused_with_a_pointer_to_the_cnn_wrapper():
    with pytest.raises(ValueError, match='not a ViT-family'):
        TimmViTVisualBackbone('resnet18')


def test_frozen_blocks_and_frozen_tower():
    partial = TimmViTVisualBackbone(**TINY, frozen_blocks=1)
    trainable = {name for name, p in partial.named_parameters() if p.requires_grad}
    assert not any(n.startswith(('model.blocks.0.', 'model.patch_embed.')) for n in trainable)
    assert 'model.cls_token' not in trainable and 'model.pos_embed' not in trainable
    assert any(n.startswith('model.blocks.1.') for n in trainable) and 'model.norm.weight' in trainable
    partial.train()
    assert not partial.model.blocks[0].training and partial.model.blocks[1].training
    frozen = TimmViTVisualBackbone(**TINY, frozen=True).train()
    assert not any(p.requires_grad for p in frozen.parameters()) and not frozen.model.training
    with pytest.raises(ValueError, match='frozen_blocks=3'):
        TimmViTVisualBackbone(**TINY, frozen_blocks=3)


def test_layer_ids_run_from_embeddings_to_final_norm():
    backbone = TimmViTVisualBackbone(**TINY)
    assert backbone.num_layers == 3
    assert backbone.get_layer_id('model.pos_embed') == 0
    assert backbone.get_layer_id('model.patch_embed.proj.weight') == 0
    assert backbone.get_layer_id('model.blocks.1.attn.qkv.weight') == 2
    assert backbone.get_layer_id('model.norm.weight') == 3


@pytest.mark.parametrize('suffix', ['.safetensors', '.pth'])
def test_local_file_loads_exactly_and_ignores_the_classifier(tmp_path, suffix):
    source = TimmViTVisualBackbone(**TINY).model
    state = {k: v.clone() for k, v in source.state_dict().items()}
    state['head.weight'], state['head.bias'] = torch.randn(10, 192), torch.randn(10)
    path = str(tmp_path / f'vit{suffix}')
    save_file(state, path) if suffix == '.safetensors' else torch.save({'state_dict': state}, path)
    backbone = TimmViTVisualBackbone(**TINY, pretrained=path).eval()
    assert backbone.load_report.unexpected == ['head.bias', 'head.weight']
    torch.testing.assert_close(backbone.model.blocks[1].mlp.fc2.weight, source.blocks[1].mlp.fc2.weight)


def test_position_embedding_of_another_grid_is_resampled(tmp_path):
    source = TimmViTVisualBackbone(**TINY, img_size=64).model  # 4x4 stored grid
    path = str(tmp_path / 'vit64.safetensors')
    save_file(dict(source.state_dict()), path)
    backbone = TimmViTVisualBackbone(**TINY, pretrained=path)  # 14x14 stored grid
    assert backbone.model.pos_embed.shape == (1, 1 + 196, 192)


def test_mismatched_checkpoint_fails_with_one_line_naming_the_keys(tmp_path):
    state = dict(TimmViTVisualBackbone(**TINY).model.state_dict())
    state['blocks.0.attn.qkv_renamed.weight'] = state.pop('blocks.0.attn.qkv.weight')
    del state['norm.bias']
    path = str(tmp_path / 'renamed.safetensors')
    save_file(state, path)
    with pytest.raises(CheckpointMismatchError) as info:
        TimmViTVisualBackbone(**TINY, pretrained=path)
    message = str(info.value)
    assert '\n' not in message and isinstance(info.value, UserInputError)
    assert 'missing 2 [blocks.0.attn.qkv.weight, norm.bias]' in message
    assert 'unexpected 1 [blocks.0.attn.qkv_renamed.weight]' in message and path in message


def test_audio_vit_pools_any_spectrogram_size_and_takes_a_3_channel_file(tmp_path):
    rgb = TimmViTVisualBackbone(**TINY).model
    path = str(tmp_path / 'rgb.safetensors')
    save_file(dict(rgb.state_dict()), path)
    encoder = TimmViTAudioEncoder(**TINY, pretrained=path).eval()
    assert encoder.load_report.adapted == ['patch_embed.proj.weight']
    torch.testing.assert_close(encoder.model.patch_embed.proj.weight, rgb.patch_embed.proj.weight.sum(1, True))
    for frames in (101, 300):
        assert encoder(torch.randn(2, 1, 64, frames)).shape == (2, encoder.out_channels)
    cls = TimmViTAudioEncoder(**TINY, pool='cls').eval()
    assert cls(torch.randn(1, 1, 64, 48)).shape == (1, 192)
    with pytest.raises(ValueError, match='pool'):
        TimmViTAudioEncoder(**TINY, pool='median')


def test_shape_mismatch_is_named_and_nothing_is_loaded(tmp_path):
    state = dict(TimmViTVisualBackbone(**TINY).model.state_dict())
    state['blocks.1.mlp.fc1.weight'] = torch.zeros(10, 192)
    path = str(tmp_path / 'wrong_shape.pth')
    torch.save(state, path)
    with pytest.raises(CheckpointMismatchError, match=r'shape mismatch 1 \[blocks\.1\.mlp\.fc1\.weight file '
                                                      r'\(10, 192\) vs model \(768, 192\)\]'):
        TimmViTVisualBackbone(**TINY, pretrained=path)

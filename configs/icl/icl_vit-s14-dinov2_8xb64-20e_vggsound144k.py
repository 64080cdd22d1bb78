# ICL on VGG-Sound 144k with a DINOv2 ViT-S/14 visual tower (timm), tested on VGG-SS.
#
# No figures are measured for this config (docs/results.md, "Foundation encoders").
#
# Visual: `vit_small_patch14_dinov2`; the map is its patch-token grid (class token excluded):
# 16x16 at 224 px, 384 channels. Position embeddings are interpolated to the input, so other
# frame sizes work. Weights from a local file with timm names, loaded exactly (a mismatch names
# the keys and loads nothing). From the official `dinov2_vits14_pretrain.pth`:
#   python tools/model_converters/vit_to_timm.py dinov2 dinov2_vits14_pretrain.pth \
#       checkpoints/vit_small_patch14_dinov2.safetensors --check-model vit_small_patch14_dinov2
# (or save timm's `vit_small_patch14_dinov2.lvd142m` state dict there on a machine with internet).
# The embeddings and first 6 of 12 blocks are frozen; the rest is tuned with layer-wise lr decay.
# Audio: ResNet18 from scratch on a 3 s, 64-bin log-mel, as in icl_r18_8xb64-20e_vggsound144k.py.
_base_ = ['./icl_r18_8xb64-20e_vggsound144k.py']

model = dict(
    visual_backbone=dict(
        _delete_=True,
        type='TimmViTVisualBackbone',
        model_name='vit_small_patch14_dinov2',
        img_size=224,  # the stored position grid; the file's 37x37 grid is resampled at load
        frozen_blocks=6,
        pretrained='checkpoints/vit_small_patch14_dinov2.safetensors'))

# The layer decay applies to the ViT tower only; the audio tower and head keep the base lr.
optim_wrapper = dict(
    constructor='LayerDecayOptimWrapperConstructor',
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-4, weight_decay=0.05),
    paramwise_cfg=dict(layer_decay_rate=0.75))

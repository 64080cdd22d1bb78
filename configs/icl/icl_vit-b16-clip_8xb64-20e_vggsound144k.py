# ICL on VGG-Sound 144k with a CLIP ViT-B/16 visual tower (timm), tested on VGG-SS.
#
# No figures are measured for this config (docs/results.md, "Foundation encoders").
#
# Visual: `vit_base_patch16_clip_224`; the map is its patch-token grid (class token excluded):
# 14x14 at 224 px, 768 channels. Frames are normalised with CLIP's mean and std. Weights from a
# local file with timm names, loaded exactly. From OpenAI's `ViT-B-16.pt`:
#   python tools/model_converters/vit_to_timm.py clip ViT-B-16.pt \
#       checkpoints/vit_base_patch16_clip_224.safetensors --check-model vit_base_patch16_clip_224
# (or save timm's `vit_base_patch16_clip_224.openai` state dict there on a machine with internet).
# The embeddings and first 8 of 12 blocks are frozen; the rest is tuned with layer-wise lr decay.
# Audio: ResNet18 from scratch on a 3 s, 64-bin log-mel, as in icl_r18_8xb64-20e_vggsound144k.py.
_base_ = ['./icl_r18_8xb64-20e_vggsound144k.py']

model = dict(
    data_preprocessor=dict(
        mean=[122.770938, 116.7460125, 104.09373615],
        std=[68.5005327, 66.6321579, 70.32316305]),
    visual_backbone=dict(
        _delete_=True,
        type='TimmViTVisualBackbone',
        model_name='vit_base_patch16_clip_224',
        frozen_blocks=8,
        pretrained='checkpoints/vit_base_patch16_clip_224.safetensors'))

optim_wrapper = dict(
    constructor='LayerDecayOptimWrapperConstructor',
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-4, weight_decay=0.05),
    paramwise_cfg=dict(layer_decay_rate=0.65))

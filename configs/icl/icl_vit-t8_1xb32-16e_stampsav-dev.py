# ICL on the StampsAV development set with a small ViT as the visual tower (from scratch).
#
# The ResNet18 development config with one change of tower: ViT-Tiny width (192) with 8x8 patches
# and 6 blocks (`vit_tiny_patch16_224` with patch_size=8, depth=6), so at 96 px its map is the
# 12x12 patch-token grid, the size and stride of the ResNet18 tower's stride-8 map. AdamW with
# layer-wise lr decay (0.75 per block) for both towers' parameters, as ViTs are trained.
# The pretrained variants are icl_vit-t8-openclipart-pre_1xb32-16e_stampsav-dev.py (the honest
# stand-in) and icl_vit-t8-stampsav-objects-pre_1xb32-16e_stampsav-dev.py (the leaky upper bound);
# the table that compares them: docs/pretraining.md.
#   python tools/train.py configs/icl/icl_vit-t8_1xb32-16e_stampsav-dev.py
_base_ = ['./icl_r18_1xb32-16e_stampsav-dev.py']

model = dict(
    visual_backbone=dict(
        _delete_=True,
        type='TimmViTVisualBackbone',
        model_name='vit_tiny_patch16_224',
        patch_size=8,
        depth=6,
        img_size=96,
        pretrained=False))

optim_wrapper = dict(
    constructor='LayerDecayOptimWrapperConstructor',
    optimizer=dict(_delete_=True, type='AdamW', lr=5e-4, weight_decay=0.05),
    paramwise_cfg=dict(layer_decay_rate=0.75))

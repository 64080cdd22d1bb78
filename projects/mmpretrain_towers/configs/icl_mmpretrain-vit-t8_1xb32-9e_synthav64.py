# ICL on SynthAV (64 px) with mmpretrain's VisionTransformer as the visual tower (from scratch).
#
# The default config (configs/icl/icl_r18_1xb32-9e_synthav64.py) with one change of tower:
# ViT-Tiny width (192 channels, 3 heads) with 6 blocks and 8x8 patches, so at 64 px its map is
# the 8x8 patch-token grid, the size and stride of the default's stride-8 ResNet18 map.
# `out_type='featmap'` makes the ViT return the patch grid (B×C×h×w, class token left out) in a
# one-element tuple; AVLocalizer wraps it in VisualBackboneAdapter
# (icl_av/models/backbones/backbone_adapter.py), which takes that element and measures channels
# and stride by a dry run at build. The audio tower is the default's timm ResNet18.
# AdamW, as ViTs are trained. Needs mmpretrain (pip install mmpretrain):
#   python tools/train.py projects/mmpretrain_towers/configs/icl_mmpretrain-vit-t8_1xb32-9e_synthav64.py
_base_ = ['../../../configs/icl/icl_r18_1xb32-9e_synthav64.py']

# Fails at load with "No module named 'mmpretrain'" when it is not installed.
custom_imports = dict(imports=['mmpretrain.models'], allow_failed_imports=False)

model = dict(
    visual_backbone=dict(
        _delete_=True,
        type='mmpretrain.VisionTransformer',
        arch=dict(embed_dims=192, num_layers=6, num_heads=3, feedforward_channels=768),
        img_size=64,  # the stored position grid; other frame sizes are interpolated
        patch_size=8,
        out_type='featmap'))

optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=5e-4, weight_decay=0.05))

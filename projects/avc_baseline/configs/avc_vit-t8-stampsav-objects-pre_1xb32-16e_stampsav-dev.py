# The correspondence baseline with the small ViT visual tower from the leaky upper-bound weights
# (pretrained on the benchmark's own source pictures) on the StampsAV development set (the weights
# file: configs/icl/icl_vit-t8-stampsav-objects-pre_1xb32-16e_stampsav-dev.py).
_base_ = ['./avc_vit-t8_1xb32-16e_stampsav-dev.py']

model = dict(visual_backbone=dict(pretrained='checkpoints/standin_vit-t8_stampsav-objects.safetensors'))

# The correspondence baseline with the small ViT visual tower from the honest pretrained stand-in
# on the StampsAV development set (the weights file:
# configs/icl/icl_vit-t8-openclipart-pre_1xb32-16e_stampsav-dev.py).
_base_ = ['./avc_vit-t8_1xb32-16e_stampsav-dev.py']

model = dict(visual_backbone=dict(pretrained='checkpoints/standin_vit-t8_openclipart.safetensors'))

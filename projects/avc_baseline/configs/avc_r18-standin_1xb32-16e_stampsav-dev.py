# The correspondence baseline from the pretrained stand-in visual tower on the StampsAV
# development set (how to make the weights file: configs/icl/icl_r18-standin_1xb32-16e_stampsav-dev.py).
_base_ = ['./avc_r18_1xb32-16e_stampsav-dev.py']

model = dict(visual_backbone=dict(pretrained='checkpoints/standin_r18-l2_stampsav-objects.safetensors'))

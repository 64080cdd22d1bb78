# The correspondence baseline from the leaky upper-bound tower (pretrained on the benchmark's own
# source pictures) on the StampsAV development set. How to make the weights file:
# configs/icl/icl_r18-stampsav-objects-pre_1xb32-16e_stampsav-dev.py.
_base_ = ['./avc_r18_1xb32-16e_stampsav-dev.py']

model = dict(visual_backbone=dict(pretrained='checkpoints/standin_r18_stampsav-objects.safetensors'))

# EZ-VSL from the honest pretrained stand-in visual tower (clip art that is not the benchmark's) on
# the StampsAV development set. EZ-VSL's authors start from ImageNet weights; this is the stand-in
# for them. How to make the weights file: configs/icl/icl_r18-openclipart-pre_1xb32-16e_stampsav-dev.py.
_base_ = ['./ezvsl_r18_1xb32-16e_stampsav-dev.py']

model = dict(visual_backbone=dict(pretrained='checkpoints/standin_r18_openclipart.safetensors'))

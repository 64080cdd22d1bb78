# ICL on SynthAV (64 px) with OpenMMLab's ResNet18 from mmpretrain as both towers.
#
# The default config (configs/icl/icl_r18_1xb32-9e_synthav64.py) with the towers built by
# mmpretrain instead of timm; data, loss, schedule and seed are the default's.
# Visual: stage index 1 (`out_indices=(1,)`), the stride-8 stage (128 channels, an 8x8 map at
# 64 px), as the default takes timm's stride-8 stage. mmpretrain backbones return a tuple of
# stage maps and declare no channel count; AVLocalizer wraps them in VisualBackboneAdapter
# (icl_av/models/backbones/backbone_adapter.py), which takes the tuple's last element and
# measures channels and stride by a dry run at build.
# Audio: a one-channel ResNet18, its last stage max-pooled over frequency and time like the
# default's TimmAudioEncoder; written with the adapter to choose the pooling.
# Needs mmpretrain (pip install mmpretrain):
#   python tools/train.py projects/mmpretrain_towers/configs/icl_mmpretrain-r18_1xb32-9e_synthav64.py
_base_ = ['../../../configs/icl/icl_r18_1xb32-9e_synthav64.py']

# Fails at load with "No module named 'mmpretrain'" when it is not installed.
custom_imports = dict(imports=['mmpretrain.models'], allow_failed_imports=False)

model = dict(
    visual_backbone=dict(_delete_=True, type='mmpretrain.ResNet', depth=18, out_indices=(1,)),
    audio_backbone=dict(
        _delete_=True,
        type='AudioBackboneAdapter',
        pool='max',
        backbone=dict(type='mmpretrain.ResNet', depth=18, in_channels=1)))

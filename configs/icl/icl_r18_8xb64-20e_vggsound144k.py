# ICL on VGG-Sound 144k, tested on VGG-SS (5158 IDs): the setting of the literature's main table.
#
# Visual: ImageNet-pretrained ResNet18 (timm), last stride removed -> a 14x14 map at 224 px.
# `pretrained=True` downloads timm's weights; on a machine without internet pass a local file:
#   --cfg-options model.visual_backbone.pretrained=/path/to/resnet18.safetensors
# Audio: ResNet18 from scratch on a 3 s, 64-bin log-mel (use LinearSTFTFrontend to reproduce the
# anchors' 257-bin linear spectrogram).
# 8 GPUs x 64 = 512 samples per step; `--auto-scale-lr` rescales the lr for other totals.
# No val split: VGG-SS only annotates test images, and the last checkpoint is tested.
_base_ = [
    '../_base_/datasets/vggsound144k.py',
    '../_base_/models/icl_r18.py',
    '../_base_/schedules/adam_20e.py',
    '../_base_/default_runtime.py',
]

# channels_last towers: cuDNN's bf16 tensor-core convolutions run in that layout without transposes (the data
# preprocessor already hands CUDA batches over channels-last); the values are the same.
model = dict(visual_backbone=dict(out_index=4, remove_last_stride=True, pretrained=True), channels_last=True)

train_dataloader = dict(batch_size=64, num_workers=8, pin_memory=True)

val_dataloader = None
val_evaluator = None
val_cfg = None

# ICL iterations: a 10-epoch correspondence round, then two 5-epoch rounds with pseudo-labels.
# K=300 audio clusters is about VGG-Sound's class count (309); it is not tuned on VGG-SS.
custom_hooks = [
    *_base_.custom_hooks,
    dict(
        type='PseudoLabelHook',
        iteration_epochs=[10, 5, 5],
        num_clusters=300,
        dataloader=dict(batch_size=128)),
]
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=3))

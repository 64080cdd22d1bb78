# ICL on Flickr-SoundNet (a 10k training list), tested on the 250 annotated Flickr test images
# (consensus maps of up to 3 annotators). Same model and schedule as the VGG-Sound config.
# Put your training ID list at data/flickr/metadata/flickr_train.txt (docs/datasets.md).
_base_ = [
    '../_base_/datasets/flickr.py',
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

# Flickr-SoundNet has no class labels; K=50 pseudo sound categories for 10k clips (not tuned).
custom_hooks = [
    *_base_.custom_hooks,
    dict(
        type='PseudoLabelHook',
        iteration_epochs=[10, 5, 5],
        num_clusters=50,
        dataloader=dict(batch_size=128)),
]

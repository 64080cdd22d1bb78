# ICL on the built-in SynthAV benchmark: the embedded default (CPU, minutes).
#
# ResNet18 visual and audio towers trained from scratch on 64 px frames and 1 s of audio.
# The visual map is ResNet18's stride-8 stage (the model base's layer2: an 8x8 map at 64 px).
# ICL iterations: a first round with the plain audio-visual correspondence objective,
# then rounds trained with the pseudo-labels (localization maps + audio clusters) that
# PseudoLabelHook refreshes between them.
_base_ = [
    '../_base_/datasets/synthav64.py',
    '../_base_/models/icl_r18.py',
    '../_base_/schedules/adam_20e.py',
    '../_base_/default_runtime.py',
]

max_epochs = 9
# Epochs per ICL iteration: refresh after epochs 3 and 6; the last round runs to the end.
# Validation runs at the iteration boundaries, so the log shows the gain of each iteration.
iteration_epochs = [3, 3, 3]

# fp32 on every machine (not the base's 'auto'), so the quick start's table is the same on CPUs
# with and without AMX.
model = dict(amp_dtype=None)

optim_wrapper = dict(optimizer=dict(lr=1e-3))
# The schedule base's warm-up epoch and cosine decay, the decay ending at max_epochs.
param_scheduler = [_base_.param_scheduler[0], dict(_base_.param_scheduler[1], end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs, val_interval=3)
auto_scale_lr = dict(base_batch_size=32)

custom_hooks = [
    *_base_.custom_hooks,
    dict(
        type='PseudoLabelHook',
        iteration_epochs=iteration_epochs,
        num_clusters=10,
        # The refresh reads the training set with the test pipeline (the default); only its
        # speed settings here: inference batches, read in the main process (docs/speed.md).
        dataloader=dict(batch_size=64, num_workers=0),
    ),
]

default_hooks = dict(checkpoint=dict(interval=3, max_keep_ckpts=2, save_best='loc/ciou@0.5', rule='greater'))

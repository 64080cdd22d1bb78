# The plain audio-visual correspondence baseline on SynthAV: ICL's first round only
# (max-pooled similarity maps, symmetric InfoNCE), no pseudo-label rounds.
_base_ = [
    '../../../configs/_base_/models/avc_r18.py',
    '../../../configs/_base_/datasets/synthav.py',
    '../../../configs/_base_/schedules/adam_20e.py',
    '../../../configs/_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=32)

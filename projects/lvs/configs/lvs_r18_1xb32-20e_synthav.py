# LVS on SynthAV: the shared resnet18 model with LVS's tri-map loss (hard negatives from
# the frame's own background). Only the objective differs from configs/icl.
_base_ = [
    '../../../configs/_base_/models/icl_r18.py',
    '../../../configs/_base_/datasets/synthav.py',
    '../../../configs/_base_/schedules/adam_20e.py',
    '../../../configs/_base_/default_runtime.py',
]

custom_imports = dict(imports=['projects.lvs.lvs'], allow_failed_imports=False)

model = dict(
    loss=dict(
        _delete_=True,
        type='LVSLoss',
        pos_threshold=0.65,  # cosine above which a location is sounding
        neg_threshold=0.4,  # cosine below which it is silent (hard negative)
        sigmoid_tau=0.03,  # softness of both thresholds
        tau=0.07))

train_dataloader = dict(batch_size=32)

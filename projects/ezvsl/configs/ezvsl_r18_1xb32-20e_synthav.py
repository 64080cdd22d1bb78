# EZ-VSL on SynthAV: the shared resnet18 model with EZ-VSL's multiple-instance contrastive
# loss and its object-guided prior at test time. Only the objective (and the prior) differ
# from configs/icl and projects/avc_baseline.
_base_ = [
    '../../../configs/_base_/models/icl_r18.py',
    '../../../configs/_base_/datasets/synthav.py',
    '../../../configs/_base_/schedules/adam_20e.py',
    '../../../configs/_base_/default_runtime.py',
]

custom_imports = dict(imports=['projects.ezvsl.ezvsl'], allow_failed_imports=False)

model = dict(
    type='EZVSLLocalizer',
    prior_alpha=0.4,  # 0 = the plain AV map; EZ-VSL blends in the object prior
    loss=dict(_delete_=True, type='EZVSLLoss', tau=0.03))

train_dataloader = dict(batch_size=32)

# Ablation: 20 audio clusters instead of 10 (SynthAV has 10 sound classes); soft regions as the default.
_base_ = ['../icl_r18_1xb32-9e_synthav64.py']
custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='PseudoLabelHook', iteration_epochs=[3, 3, 3], num_clusters=20,
         dataloader=dict(batch_size=64, persistent_workers=False)),
]

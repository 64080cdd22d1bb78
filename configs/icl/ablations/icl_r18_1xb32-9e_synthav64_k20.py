# Ablation: 20 audio clusters instead of 10 (SynthAV has 10 sound classes); soft regions as the default.
_base_ = ['../icl_r18_1xb32-9e_synthav64.py']
# The default's hooks, its PseudoLabelHook with 20 clusters, the refresh reading with the training loader's
# workers, not kept between refreshes.
custom_hooks = [
    _base_.custom_hooks[0],
    dict(_base_.custom_hooks[1], num_clusters=20, dataloader=dict(batch_size=64, persistent_workers=False)),
]

# The development-set recipe on a 16-epoch schedule (rounds of 8 + 4 + 4 epochs): what the
# stand-in, ViT and peer StampsAV configs build on, and the short point of the learning curves
# in configs/icl/README.md ("Real scenes"). The recommended schedule is 28 epochs:
# icl_r18_1xb32-28e_stampsav-dev.py.
_base_ = ['./icl_r18_1xb32-28e_stampsav-dev.py']

max_epochs = 16
iteration_epochs = [8, 4, 4]
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs, eta_min_ratio=0.01,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(
        type='PseudoLabelHook',
        iteration_epochs=iteration_epochs,
        num_clusters=32,
        dataloader=dict(batch_size=64, num_workers=0)),  # speed only: the test pipeline is the default
]

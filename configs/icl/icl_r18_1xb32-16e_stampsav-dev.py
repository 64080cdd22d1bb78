# The development-set recipe on a 16-epoch schedule (rounds of 8 + 4 + 4 epochs): what the
# stand-in, ViT and peer StampsAV configs build on, and the short point of the learning curves
# in configs/icl/README.md ("Real scenes"). The recommended schedule is 28 epochs:
# icl_r18_1xb32-28e_stampsav-dev.py.
_base_ = ['./icl_r18_1xb32-28e_stampsav-dev.py']

max_epochs = 16
iteration_epochs = [8, 4, 4]
# The schedule base's warm-up epoch and cosine decay, the decay ending at max_epochs.
param_scheduler = [_base_.param_scheduler[0], dict(_base_.param_scheduler[1], end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
# The 28-epoch config's hooks, the PseudoLabelHook (index 1) with this schedule's rounds.
custom_hooks = [_base_.custom_hooks[0], dict(_base_.custom_hooks[1], iteration_epochs=iteration_epochs)]

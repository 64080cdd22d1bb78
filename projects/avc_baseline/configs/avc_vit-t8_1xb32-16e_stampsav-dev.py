# The correspondence baseline with the small ViT visual tower on the StampsAV development set:
# icl_vit-t8_1xb32-16e_stampsav-dev.py without the pseudo-label rounds (as
# avc_r18_1xb32-16e_stampsav-dev.py is to the ResNet18 config).
_base_ = ['../../../configs/icl/icl_vit-t8_1xb32-16e_stampsav-dev.py']

model = dict(map_mode='cosine',
             loss=dict(_delete_=True, type='AVCorrespondenceLoss', tau=0.03, pool='softmax', pool_tau=0.1))
# The base's hooks without the PseudoLabelHook: no ICL iterations.
custom_hooks = [hook for hook in _base_.custom_hooks if hook.type != 'PseudoLabelHook']

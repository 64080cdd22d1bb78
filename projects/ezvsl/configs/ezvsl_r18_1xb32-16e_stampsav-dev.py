# EZ-VSL on the StampsAV development set: the ICL config's data, model and schedule with EZ-VSL's
# multiple-instance contrastive loss and its object-guided prior at test time.
_base_ = ['../../../configs/icl/icl_r18_1xb32-16e_stampsav-dev.py']

custom_imports = dict(imports=['projects.ezvsl.ezvsl'], allow_failed_imports=False)

model = dict(
    type='EZVSLLocalizer',
    map_mode='cosine',
    prior_alpha=0.4,  # 0 = the plain AV map; EZ-VSL blends in the object prior
    loss=dict(_delete_=True, type='EZVSLLoss', tau=0.03))
# The base's hooks without the PseudoLabelHook: EZ-VSL has no pseudo-label rounds.
custom_hooks = [hook for hook in _base_.custom_hooks if hook.type != 'PseudoLabelHook']

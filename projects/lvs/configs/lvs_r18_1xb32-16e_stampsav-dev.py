# LVS on the StampsAV development set: the ICL config's data, model and schedule with LVS's
# tri-map loss (hard negatives from the frame's own background).
_base_ = ['../../../configs/icl/icl_r18_1xb32-16e_stampsav-dev.py']

custom_imports = dict(imports=['projects.lvs.lvs'], allow_failed_imports=False)

model = dict(
    map_mode='cosine',
    loss=dict(
        _delete_=True,
        type='LVSLoss',
        pos_threshold=0.65,  # cosine above which a location is sounding
        neg_threshold=0.4,  # cosine below which it is silent (hard negative)
        sigmoid_tau=0.03,  # softness of both thresholds
        tau=0.07))
# The base's hooks without the PseudoLabelHook: LVS has no pseudo-label rounds.
custom_hooks = [hook for hook in _base_.custom_hooks if hook.type != 'PseudoLabelHook']

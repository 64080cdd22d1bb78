# The correspondence baseline on the StampsAV development set with the recommended 28-epoch
# schedule: ICL's first round only (softmax-pooled maps, symmetric InfoNCE), no pseudo-label
# rounds, cosine maps. Data, model, schedule and seed are the ICL config's, so the two differ
# only in the objective.
_base_ = ['../../../configs/icl/icl_r18_1xb32-28e_stampsav-dev.py']

model = dict(map_mode='cosine',
             loss=dict(_delete_=True, type='AVCorrespondenceLoss', tau=0.03, pool='softmax', pool_tau=0.1))
# The base's hooks without the PseudoLabelHook: no ICL iterations.
custom_hooks = [hook for hook in _base_.custom_hooks if hook.type != 'PseudoLabelHook']

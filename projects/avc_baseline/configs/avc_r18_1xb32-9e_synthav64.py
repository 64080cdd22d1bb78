# The plain audio-visual correspondence baseline on SynthAV: ICL's first round only
# (softmax-pooled similarity maps, symmetric InfoNCE), no pseudo-label rounds. Everything else
# (data, model, schedule, seed) is the ICL default's, so the two differ only in the objective.
_base_ = ['../../../configs/icl/icl_r18_1xb32-9e_synthav64.py']

model = dict(loss=dict(_delete_=True, type='AVCorrespondenceLoss', tau=0.03, pool='softmax', pool_tau=0.1))
# The base's hooks without the PseudoLabelHook: no ICL iterations.
custom_hooks = [hook for hook in _base_.custom_hooks if hook.type != 'PseudoLabelHook']

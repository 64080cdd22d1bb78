# The plain audio-visual correspondence baseline: the ICL model without pseudo-label rounds.
_base_ = ['./icl_r18.py']

model = dict(loss=dict(_delete_=True, type='AVCorrespondenceLoss', tau=0.03, pool='softmax', pool_tau=0.1))

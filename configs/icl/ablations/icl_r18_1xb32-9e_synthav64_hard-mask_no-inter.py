# Ablation: hard regions and no inter-frame relation term (audio clusters unused).
_base_ = ['../icl_r18_1xb32-9e_synthav64.py']
model = dict(loss=dict(mask_mode='hard', fg_ratio=0.2, bg_ratio=0.5, inter_weight=0.0))

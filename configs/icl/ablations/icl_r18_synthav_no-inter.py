# Ablation: ICL without the inter-frame relation term (audio clusters unused).
_base_ = ['../icl_r18_synthav.py']
model = dict(loss=dict(inter_weight=0.0))

# Ablation: soft regions (foreground weights = the pseudo map, background = 1 - map) instead of top/bottom fractions.
_base_ = ['../icl_r18_synthav.py']
model = dict(loss=dict(mask_mode='soft'))

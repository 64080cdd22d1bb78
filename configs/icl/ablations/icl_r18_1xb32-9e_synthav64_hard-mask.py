# Ablation: hard regions (top 20% of the pseudo map as foreground, bottom 50% as background)
# instead of the default soft regions.
_base_ = ['../icl_r18_1xb32-9e_synthav64.py']
model = dict(loss=dict(mask_mode='hard', fg_ratio=0.2, bg_ratio=0.5))

# Ablation: hard regions with a larger pseudo-foreground (top 40%) and the bottom 50% as background.
_base_ = ['../icl_r18_1xb32-9e_synthav64.py']
model = dict(loss=dict(mask_mode='hard', fg_ratio=0.4, bg_ratio=0.5))

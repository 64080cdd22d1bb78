# Ablation: a larger pseudo-foreground (top 40% of locations) with the bottom 50% as background.
_base_ = ['../icl_r18_synthav.py']
model = dict(loss=dict(fg_ratio=0.4, bg_ratio=0.5))

# ICL on the StampsAV development set with the honest stand-in visual tower frozen: the stand-in's
# weights (icl_r18-openclipart-pre_1xb32-16e_stampsav-dev.py says how to make them) stay as they
# are, batch norm included, and only the visual head, the audio tower and the audio head learn.
# No gradient flows through the visual tower, so a step skips its backward pass.
#   python tools/train.py configs/icl/icl_r18-openclipart-pre-frozen_1xb32-16e_stampsav-dev.py
_base_ = ['./icl_r18-openclipart-pre_1xb32-16e_stampsav-dev.py']

# out_index is 2 (the stride-8 stage), so freezing stages 0..2 freezes the whole tower.
model = dict(visual_backbone=dict(frozen_stages=2))

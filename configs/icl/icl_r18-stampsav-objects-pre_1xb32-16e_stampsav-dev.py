# The leaky upper bound, not a stand-in for ImageNet: ICL on the StampsAV development set with its
# visual tower pretrained to name the benchmark's own source pictures (its stamps, the unheard ones
# included) pasted on its own background photos, never its scenes. It shows how far pretraining on
# the test objects themselves lifts the scores; the honest stand-in is
# icl_r18-openclipart-pre_1xb32-16e_stampsav-dev.py. The weights file:
#   python tools/misc/pretrain_standin_encoder.py configs/icl/icl_r18_1xb32-16e_stampsav-dev.py \
#       --allow-benchmark-pictures --meta data/stamps_av_dev/meta.json --stamps-root data/tux/x/usr/share/tuxpaint/stamps \
#       --templates-root data/tux/x/usr/share/tuxpaint --img-size 64 --workers 1 \
#       --out checkpoints/standin_r18_stampsav-objects.safetensors
#   python tools/train.py configs/icl/icl_r18-stampsav-objects-pre_1xb32-16e_stampsav-dev.py
_base_ = ['./icl_r18_1xb32-16e_stampsav-dev.py']

model = dict(visual_backbone=dict(pretrained='checkpoints/standin_r18_stampsav-objects.safetensors'))

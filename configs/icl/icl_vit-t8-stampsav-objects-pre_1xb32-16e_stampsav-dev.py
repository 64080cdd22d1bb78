# The leaky upper bound with the small ViT visual tower: pretrained to name the benchmark's own
# source pictures pasted on its own background photos (at 64 px), not a stand-in for real weights.
# The honest stand-in is icl_vit-t8-openclipart-pre_1xb32-16e_stampsav-dev.py. The weights file:
#   python tools/misc/pretrain_standin_encoder.py configs/icl/icl_vit-t8_1xb32-16e_stampsav-dev.py \
#       --allow-benchmark-pictures --meta data/stamps_av_dev/meta.json --stamps-root data/tux/x/usr/share/tuxpaint/stamps \
#       --templates-root data/tux/x/usr/share/tuxpaint --img-size 64 --workers 1 \
#       --out checkpoints/standin_vit-t8_stampsav-objects.safetensors
#   python tools/train.py configs/icl/icl_vit-t8-stampsav-objects-pre_1xb32-16e_stampsav-dev.py
_base_ = ['./icl_vit-t8_1xb32-16e_stampsav-dev.py']

model = dict(visual_backbone=dict(pretrained='checkpoints/standin_vit-t8_stampsav-objects.safetensors'))

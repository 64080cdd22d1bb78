# ICL on the StampsAV development set with the small ViT visual tower from the pretrained
# stand-in (the tower trained to name the benchmark's source pictures pasted on backgrounds; at
# 64 px, as the ViT needs more steps than the ResNet and a step there costs half of one at 96 px):
#   python tools/misc/pretrain_standin_encoder.py configs/icl/icl_vit-t8_1xb32-16e_stampsav-dev.py \
#       --allow-benchmark-pictures --meta data/stamps_av_dev/meta.json --stamps-root data/tux/x/usr/share/tuxpaint/stamps \
#       --templates-root data/tux/x/usr/share/tuxpaint --img-size 64 --iters 1500 --workers 1 \
#       --out checkpoints/standin_vit-t8_stampsav-objects.safetensors
#   python tools/train.py configs/icl/icl_vit-t8-standin_1xb32-16e_stampsav-dev.py
# Everything else (AdamW with layer-wise lr decay, schedule, audio tower) is the scratch config's.
_base_ = ['./icl_vit-t8_1xb32-16e_stampsav-dev.py']

model = dict(visual_backbone=dict(pretrained='checkpoints/standin_vit-t8_stampsav-objects.safetensors'))

# ICL on the StampsAV development set from the pretrained stand-in: the ResNet18 development
# config with its visual tower initialised from a local weights file instead of from scratch.
# The file is the leaky upper-bound stand-in: the same tower trained to name the objects of the
# benchmark's own source pictures pasted on its photos (never its scenes). The honest stand-in (clip art
# that is not the benchmark) is the tool's default; see its --help:
#   python tools/misc/pretrain_standin_encoder.py configs/icl/icl_r18_1xb32-16e_stampsav-dev.py \
#       --allow-benchmark-pictures --meta data/stamps_av_dev/meta.json --stamps-root data/tux/x/usr/share/tuxpaint/stamps \
#       --templates-root data/tux/x/usr/share/tuxpaint --img-size 64 --iters 1500 --workers 1 \
#       --out checkpoints/standin_r18-l2_stampsav-objects.safetensors
#   python tools/train.py configs/icl/icl_r18-standin_1xb32-16e_stampsav-dev.py
# Everything else (optimizer, schedule, audio tower from scratch) is the scratch config's.
_base_ = ['./icl_r18_1xb32-16e_stampsav-dev.py']

model = dict(visual_backbone=dict(pretrained='checkpoints/standin_r18-l2_stampsav-objects.safetensors'))

# ICL on the StampsAV development set with the small ViT visual tower from the honest pretrained
# stand-in: the tower trained to name clip art that is not the benchmark's (openclipart-png, every
# copy of a Tux Paint stamp removed) at 96 px, the resolution ICL uses (12x12 patch tokens, so
# the position embeddings need no resampling). Make the file, then train:
#   python tools/misc/pretrain_standin_encoder.py configs/icl/icl_vit-t8_1xb32-16e_stampsav-dev.py \
#       --img-size 96 --iters 750 --workers 1 --out checkpoints/standin_vit-t8_openclipart.safetensors
#   python tools/train.py configs/icl/icl_vit-t8-openclipart-pre_1xb32-16e_stampsav-dev.py
_base_ = ['./icl_vit-t8_1xb32-16e_stampsav-dev.py']

model = dict(visual_backbone=dict(pretrained='checkpoints/standin_vit-t8_openclipart.safetensors'))

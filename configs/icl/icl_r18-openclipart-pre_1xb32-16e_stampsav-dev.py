# ICL on the StampsAV development set from the honest pretrained stand-in: the ResNet18 development
# config with its visual tower initialised from a local weights file, the tower trained to name
# clip art that is not the benchmark's (Debian's openclipart-png, every copy of a Tux Paint stamp
# removed), pasted on backgrounds that are not the benchmark's photos. It plays the part ImageNet
# weights play for a real user; the audio tower starts from scratch. Make the file, then train:
#   python tools/misc/pretrain_standin_encoder.py configs/icl/icl_r18_1xb32-16e_stampsav-dev.py \
#       --img-size 64 --workers 1 --out checkpoints/standin_r18_openclipart.safetensors
#   python tools/train.py configs/icl/icl_r18-openclipart-pre_1xb32-16e_stampsav-dev.py
_base_ = ['./icl_r18_1xb32-16e_stampsav-dev.py']

model = dict(visual_backbone=dict(pretrained='checkpoints/standin_r18_openclipart.safetensors'))

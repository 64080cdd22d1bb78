# The recommended config for your own frames + audio on a CPU (how long it takes: docs/speed.md).
#
# Layout under data_root (set it with the ICL_AV_DATA_ROOT environment variable; the data base:
# _base_/datasets/custom_frames_96px.py):
#   frames/ID.jpg  (or frames/ID/*.jpg)   audio/ID.wav (any rate / channels)
#   train.txt                            IDs to train on (frames and audio only: no labels)
#   test.txt + test.json                 IDs to test and their boxes, VGG-SS json format
#                                        [{"file": ID, "bbox": [[x1, y1, x2, y2], ...]}] in [0, 1]
# Train, then test the last checkpoint (no validation split is assumed):
#   ICL_AV_DATA_ROOT=data/my_av python tools/train.py configs/icl/icl_r18_1xb32-28e_frames-audio-cpu.py
#   ICL_AV_DATA_ROOT=data/my_av python tools/test.py configs/icl/icl_r18_1xb32-28e_frames-audio-cpu.py \
#       work_dirs/icl_r18_1xb32-28e_frames-audio-cpu/epoch_28.pth [--shuffle-audio]
# With an annotated list held out of train.txt, select checkpoints on it as
# icl_r18_1xb32-28e_stampsav-dev.py does.
#
# Model: ResNet18 visual tower from scratch at 96 px, its stride-8 stage as the map (12x12);
# a ResNet10-T audio tower on 40-band log-mel (20 ms hop) of 3 s clips, the cheaper audio path
# (what a step costs per tower: configs/icl/README.md, "Real scenes").
# ICL: round 1 (8 epochs) is the correspondence objective, then five rounds of 4 epochs; each
# refresh clusters the clips' embeddings into 32 kinds of sound and the maps become posteriors
# against those kinds (model.map_mode='posterior'), which keeps silent objects out of the maps and the
# pseudo-labels. Choices and learning curves: configs/icl/README.md, "Real scenes".
_base_ = [
    '../_base_/datasets/custom_frames_96px.py',
    '../_base_/models/icl_r18.py',
    '../_base_/schedules/adam_20e.py',
    '../_base_/default_runtime.py',
]

max_epochs = 28
iteration_epochs = [8, 4, 4, 4, 4, 4]

model = dict(
    data_preprocessor=dict(audio_frontend=dict(n_mels=40, hop_length=320)),
    audio_backbone=dict(model_name='resnet10t'),
    map_mode='posterior',
    posterior_tau=0.03,
    unfamiliar_fallback=True,  # a sound of no known kind gets the location prior, not a known kind's objects
    loss=dict(keep_correspondence=True, mask_mode='hard'))

optim_wrapper = dict(optimizer=dict(lr=1e-3))
# The schedule base's warm-up epoch and cosine decay, the decay ending at max_epochs.
param_scheduler = [_base_.param_scheduler[0], dict(_base_.param_scheduler[1], end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs, val_interval=2)
val_cfg = None
auto_scale_lr = dict(base_batch_size=32)

custom_hooks = [
    *_base_.custom_hooks,
    dict(
        type='PseudoLabelHook',
        iteration_epochs=iteration_epochs,
        num_clusters=32,
        dataloader=dict(batch_size=64, num_workers=0)),  # speed only: the test pipeline is the default
]
default_hooks = dict(checkpoint=dict(interval=4))

# The recommended config for your own frames + audio on a CPU (timings: README, Results).
#
# Layout under data_root (set it here or with the ICL_AV_DATA_ROOT environment variable):
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
# against those kinds
# (model.map_mode='posterior'), which keeps silent objects out of the maps and the
# pseudo-labels. Choices and learning curves: configs/icl/README.md, "Real scenes".
_base_ = [
    '../_base_/datasets/custom_frames.py',
    '../_base_/models/icl_r18.py',
    '../_base_/schedules/adam_20e.py',
    '../_base_/default_runtime.py',
]

data_root = '{{$ICL_AV_DATA_ROOT:data/my_av/}}'
img_size = 96
audio_sample_rate = 16000
audio_seconds = 3.0
max_epochs = 28
iteration_epochs = [8, 4, 4, 4, 4, 4]

train_pipeline = [
    dict(type='LoadAVFrame'),
    dict(type='LoadAudio', sample_rate=audio_sample_rate),
    dict(type='AudioClip', duration=audio_seconds, offset='random'),
    dict(type='RandomResizedCrop', scale=img_size, crop_ratio_range=(0.6, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAVInputs'),
]
test_pipeline = [
    dict(type='LoadAVFrame'),
    dict(type='LoadAudio', sample_rate=audio_sample_rate),
    dict(type='AudioClip', duration=audio_seconds, offset='center'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='PackAVInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(data_root=data_root, ann_file='train.txt', pipeline=train_pipeline))
test_dataloader = dict(
    _delete_=True,
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='corrupt_aware_collate'),  # drops samples whose files fail to decode (on_corrupt)
    dataset=dict(
        type='AVFramesDataset',
        data_root=data_root,
        data_prefix=dict(img='frames', audio='audio'),
        ann_file='test.txt',
        box_file='test.json',
        test_mode=True,
        on_missing='error',
        pipeline=test_pipeline))
test_evaluator = dict(type='LocalizationMetric', preset='lvs', gt_source='bboxes')
val_dataloader = None
val_evaluator = None
val_cfg = None

model = dict(
    data_preprocessor=dict(audio_frontend=dict(type='LogMelFrontend', sample_rate=audio_sample_rate, n_mels=40,
                                               hop_length=320)),
    audio_backbone=dict(model_name='resnet10t'),
    map_mode='posterior',
    posterior_tau=0.03,
    unfamiliar_fallback=True,  # a sound of no known kind gets the location prior, not a known kind's objects
    loss=dict(keep_correspondence=True, mask_mode='hard', fg_ratio=0.2, bg_ratio=0.5))

optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs, eta_min_ratio=0.01,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=2)
auto_scale_lr = dict(base_batch_size=32)

custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(
        type='PseudoLabelHook',
        iteration_epochs=iteration_epochs,
        num_clusters=32,
        dataloader=dict(batch_size=64, num_workers=0)),  # speed only: the test pipeline is the default
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='AtomicCheckpointHook', interval=4, max_keep_ckpts=3))

# Your own frames + audio at 96 px, the data of the recommended CPU config: the custom_frames.py layout with
# the test boxes in test.json (VGG-SS json format, in [0, 1]) and no validation split (the last checkpoint is
# tested). data_root is set here or with the ICL_AV_DATA_ROOT environment variable.
# Training crops keep at least 60% of the frame (custom_frames.py: 50%).
_base_ = ['./custom_frames.py']

data_root = '{{$ICL_AV_DATA_ROOT:data/my_av/}}'
img_size = 96

train_pipeline = [
    dict(type='LoadAVFrame'),
    dict(type='LoadAudio', sample_rate={{_base_.audio_sample_rate}}),
    dict(type='AudioClip', duration={{_base_.audio_seconds}}, offset='random'),
    dict(type='RandomResizedCrop', scale=img_size, crop_ratio_range=(0.6, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAVInputs'),
]
test_pipeline = [
    dict(type='LoadAVFrame'),
    dict(type='LoadAudio', sample_rate={{_base_.audio_sample_rate}}),
    dict(type='AudioClip', duration={{_base_.audio_seconds}}, offset='center'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='PackAVInputs'),
]

train_dataloader = dict(num_workers=2, dataset=dict(data_root=data_root, pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(data_root=data_root, box_file='test.json', pipeline=test_pipeline))
test_evaluator = dict(gt_source='bboxes')
val_dataloader = None
val_evaluator = None

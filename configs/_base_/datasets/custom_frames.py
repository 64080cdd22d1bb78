# Your own dataset in the frames + audio layout (also what tools/misc/make_synthav.py and
# tools/misc/extract_frames_audio.py write):
#
#   data_root/frames/ID.jpg   (or frames/ID/*.jpg: annotated / centre frame for testing, random for training)
#   data_root/audio/ID.wav    (any rate, bit depth, channel count; resampled to audio_sample_rate, mixed to mono)
#   data_root/train.txt, data_root/test.txt           split lists, first column = ID
#   data_root/test_boxes.json  optional VGG-SS style boxes  [{"file": ID, "bbox": [[x1,y1,x2,y2], ...]}] in [0, 1]
#   data_root/test_masks.json  optional {ID: COCO RLE}
#
# Override only what differs, e.g. for a SynthAV folder written to disk:
#   train_dataloader = dict(dataset=dict(data_root='data/synthav_disk/'))
#   test_dataloader = dict(dataset=dict(data_root='data/synthav_disk/', mask_file='test_masks.json'))
# Knobs below are read when this file is loaded; a config that changes a knob must also
# override the dataset/pipeline fields that use it.
# Missing files: test splits stop with one report of every missing file (on_missing='error');
# training drops them and logs how many (on_missing='skip').
dataset_type = 'AVFramesDataset'
data_root = 'data/my_av/'
img_size = 224
audio_sample_rate = 16000
audio_seconds = 3.0

# Audio features are computed from the waveform by the model's data preprocessor.
train_pipeline = [
    dict(type='LoadAVFrame'),
    dict(type='LoadAudio', sample_rate=audio_sample_rate),
    dict(type='AudioClip', duration=audio_seconds, offset='random'),
    dict(type='RandomResizedCrop', scale=img_size, crop_ratio_range=(0.5, 1.0)),
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
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='corrupt_aware_collate'),  # drops samples whose files fail to decode (on_corrupt)
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img='frames', audio='audio'),
        ann_file='train.txt',
        on_missing='skip',
        pipeline=train_pipeline))

val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='corrupt_aware_collate'),  # drops samples whose files fail to decode (on_corrupt)
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img='frames', audio='audio'),
        ann_file='test.txt',
        box_file='test_boxes.json',
        test_mode=True,
        on_missing='error',
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='LocalizationMetric', preset='lvs', gt_source='auto')
test_evaluator = val_evaluator

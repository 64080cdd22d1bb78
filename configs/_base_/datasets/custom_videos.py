# Your own raw videos, decoded on the fly with decord (no pre-extraction):
#
#   data_root/videos/ID.mp4|mkv|webm|avi|mov   (any fps, audio rate, channel count)
#   data_root/train.txt, data_root/test.txt     split lists, first column = ID (optional 2nd: frame index)
#   data_root/test_boxes.json                   optional VGG-SS style boxes (normalised)
#
# Testing uses the centre frame (or the annotated index) and the audio_seconds of audio
# centred on it; training uses a random frame and a random audio window around it.
# Decoding whole videos is slower than the frames+audio layout: compare with
#   python tools/analysis_tools/benchmark_data.py CONFIG
# and convert once with tools/misc/extract_frames_audio.py when loading is the bottleneck.
# A video without an audio track stops loading with an error naming it.
dataset_type = 'AVVideoDataset'
data_root = 'data/my_videos/'
img_size = 224
audio_sample_rate = 16000
audio_seconds = 3.0

train_pipeline = [
    dict(type='LoadVideoFrameAndAudio', sample_rate=audio_sample_rate, frame_selection='random'),
    dict(type='AudioClip', duration=audio_seconds, offset='center'),  # centred on the random frame
    dict(type='RandomResizedCrop', scale=img_size, crop_ratio_range=(0.5, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAVInputs'),
]
test_pipeline = [
    dict(type='LoadVideoFrameAndAudio', sample_rate=audio_sample_rate, frame_selection='center'),
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
        data_prefix=dict(video='videos'),
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
        data_prefix=dict(video='videos'),
        ann_file='test.txt',
        box_file='test_boxes.json',
        test_mode=True,
        on_missing='error',
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='LocalizationMetric', preset='lvs', gt_source='auto')
test_evaluator = val_evaluator

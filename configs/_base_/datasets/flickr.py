# Flickr-SoundNet: test on the 250 annotated test images, train on a Flickr-SoundNet list.
#
#   data/flickr/frames/ID.jpg (or frames/ID/*.jpg: the list's frame index is used), data/flickr/audio/ID.wav
#   data/flickr/annotations/ID.xml     the test XML boxes (ship with the test images; 256×256 frame,
#                                      up to 3 annotators; the consensus map gt_map is built from them)
#   data/flickr/metadata/flickr_test.csv                 public, `ID,frame-index`
#   data/flickr/metadata/flickr_test_plus_silent.csv     extended benchmark (pair_file)
#   data/flickr/metadata/flickr_train.txt                your training ID list (e.g. the 10k/144k subsets)
#
# Some papers evaluate on 249 IDs (3908875350 missing): with on_missing='skip' the log states
# exactly which entries were dropped; results on different subsets are not comparable.
dataset_type = 'AVFramesDataset'
flickr_root = 'data/flickr/'
img_size = 224
audio_sample_rate = 16000
audio_seconds = 3.0

# Training decodes JPEGs at a reduced size while the shorter side keeps 366 px (what the smallest
# RandomResizedCrop window below needs for 224 px) and reads only the 3 s window of each wav
# (lazy=True: the same samples as a whole-file read). The test pipeline decodes frames whole.
train_pipeline = [
    dict(type='LoadAVFrame', min_size=366),
    dict(type='LoadAudio', sample_rate=audio_sample_rate, lazy=True),
    dict(type='AudioClip', duration=audio_seconds, offset='random'),
    dict(type='RandomResizedCrop', scale=img_size, crop_ratio_range=(0.5, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAVInputs'),
]
test_pipeline = [
    dict(type='LoadAVFrame'),
    dict(type='LoadAudio', sample_rate=audio_sample_rate, lazy=True),
    dict(type='AudioClip', duration=audio_seconds, offset='center'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='PackAVInputs'),
]

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='corrupt_aware_collate'),  # drops samples whose files fail to decode (on_corrupt)
    dataset=dict(
        type=dataset_type,
        data_root=flickr_root,
        data_prefix=dict(img='frames', audio='audio'),
        ann_file='metadata/flickr_train.txt',
        on_missing='skip',
        pipeline=train_pipeline))

test_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='corrupt_aware_collate'),  # drops samples whose files fail to decode (on_corrupt)
    dataset=dict(
        type=dataset_type,
        data_root=flickr_root,
        data_prefix=dict(img='frames', audio='audio'),
        ann_file='metadata/flickr_test.csv',
        xml_dir='annotations',
        test_mode=True,
        on_missing='error',
        pipeline=test_pipeline))

# gt_map (the annotators' consensus) is what the Flickr protocol scores against.
test_evaluator = dict(type='LocalizationMetric', preset='lvs', gt_source='map')

# No val split here: only the test images are annotated, and picking checkpoints on the test
# split inflates its numbers. Train configs on this data set val_cfg = None (the last
# checkpoint is tested) unless you hold out an annotated list of your own as val_dataloader.

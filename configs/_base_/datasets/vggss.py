# VGG-Sound Source (VGG-SS) test set, frames + audio layout:
#
#   data/vggss/frames/ID.jpg     centre frame of each 10 s VGG-Sound clip (tools/misc/extract_frames_audio.py)
#   data/vggss/audio/ID.wav
#   data/vggss/metadata/vggss.json                      the annotated boxes
#   data/vggss/metadata/vggss_test.csv                  the test ID list
#   data/vggss/metadata/vggss_heard_test.csv / vggss_unheard_test.csv   open-set split
#   data/vggss/metadata/vggss_test_plus_silent.csv      extended benchmark (pair_file)
# The metadata files are distributed in the `metadata/` folders of the EZ-VSL and SLAVC repositories.
#
# Boxes are normalised in vggss.json and converted to pixels of each loaded frame. The public
# vggss.json holds 18 invalid boxes (e.g. -2.9e16); they are dropped with a warning (2 IDs are
# left without any box). Results on subsets of the 5158 IDs (only the clips you could download)
# are not comparable with published numbers: the log states how many entries were used.
# Extended benchmark: test_dataloader = dict(dataset=dict(pair_file='metadata/vggss_test_plus_silent.csv'))
# and test_evaluator = dict(extended=True).
dataset_type = 'AVFramesDataset'
vggss_root = 'data/vggss/'
img_size = 224
audio_sample_rate = 16000
audio_seconds = 3.0

# Frames decode whole (the published protocol's pixels); lazy=True reads only the clip's window of each wav,
# the same samples as a whole-file read.
test_pipeline = [
    dict(type='LoadAVFrame'),
    dict(type='LoadAudio', sample_rate=audio_sample_rate, lazy=True),
    dict(type='AudioClip', duration=audio_seconds, offset='center'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='PackAVInputs'),
]

test_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='corrupt_aware_collate'),  # drops samples whose files fail to decode (on_corrupt)
    dataset=dict(
        type=dataset_type,
        data_root=vggss_root,
        data_prefix=dict(img='frames', audio='audio'),
        ann_file='metadata/vggss_test.csv',
        box_file='metadata/vggss.json',
        test_mode=True,
        on_missing='error',
        pipeline=test_pipeline))

test_evaluator = dict(type='LocalizationMetric', preset='lvs', gt_source='bboxes')

# No val split here: only the test images are annotated, and picking checkpoints on the test
# split inflates its numbers. Train configs on this data set val_cfg = None (the last
# checkpoint is tested) unless you hold out an annotated list of your own as val_dataloader.

# The 224 px speed-reference config (icl_r18_1xb64-20e_synthav224.py: EZ-VSL's encoders, sizes
# and batch) on your own frames + audio instead of SynthAV: real JPEG decoding and wav reading
# in the loader workers, as EZ-VSL's public loop does. docs/speed.md times it against that loop.
#
# Layout under data_root (set it here or with the ICL_AV_DATA_ROOT environment variable), as in
# _base_/datasets/custom_frames.py: frames/ID.jpg, audio/ID.wav, train.txt, test.txt + test.json
# (VGG-SS style boxes in [0, 1]). No validation split is assumed: test the last checkpoint.
#   ICL_AV_DATA_ROOT=data/my_av python tools/train.py configs/icl/icl_r18_1xb64-20e_frames224.py
#   ICL_AV_DATA_ROOT=data/my_av python tools/test.py configs/icl/icl_r18_1xb64-20e_frames224.py \
#       work_dirs/icl_r18_1xb64-20e_frames224/epoch_20.pth
# For a CPU, the recommended config is icl_r18_1xb32-28e_frames-audio-cpu.py (96 px, cheaper audio).
_base_ = ['./icl_r18_1xb64-20e_synthav224.py']

data_root = '{{$ICL_AV_DATA_ROOT:data/my_av/}}'
img_size = 224
audio_sample_rate = 16000
audio_seconds = 3.0

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
# The SynthAV datasets of the base config replaced by frames + audio folders.
_frames = dict(type='AVFramesDataset', data_root=data_root, data_prefix=dict(img='frames', audio='audio'))
_collate = dict(type='corrupt_aware_collate')  # drops samples whose files fail to decode (on_corrupt)
train_dataloader = dict(
    collate_fn=_collate,
    dataset=dict(_delete_=True, **_frames, ann_file='train.txt', on_missing='skip', pipeline=train_pipeline))
test_dataloader = dict(
    collate_fn=_collate,
    dataset=dict(_delete_=True, **_frames, ann_file='test.txt', box_file='test.json', test_mode=True,
                 on_missing='error', pipeline=test_pipeline))
test_evaluator = dict(type='LocalizationMetric', preset='lvs', gt_source='bboxes')
val_dataloader = None
val_evaluator = None
val_cfg = None
train_cfg = dict(val_interval=100)  # no validation split
default_hooks = dict(checkpoint=dict(interval=4, max_keep_ckpts=2, save_best=None))

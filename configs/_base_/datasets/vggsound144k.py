# Train on VGG-Sound (the 144k-clip subset), test on VGG-SS.
#
#   data/vggsound/frames/ID.jpg, data/vggsound/audio/ID.wav   (tools/misc/extract_frames_audio.py)
#   data/vggsound/metadata/vggsound_train_144k.txt            your training ID list (one ID per line)
#
# Clips that could not be downloaded are skipped at build time and counted in the log
# (on_missing='skip'); set on_missing='error' to insist on the full list.
_base_ = ['./vggss.py']

vggsound_root = 'data/vggsound/'

# The loading reads what the clip needs: JPEGs decoded at 1/2, 1/4 or 1/8 size while the shorter side
# keeps 366 px (the smallest RandomResizedCrop window below, half the area at aspect 3/4, then still
# spans 224 px of a square frame; a 360p frame is decoded whole), and only the 3 s window of each wav
# (lazy=True: the same samples as a whole-file read, see LoadAudio and AudioClip).
train_pipeline = [
    dict(type='LoadAVFrame', min_size=366),
    dict(type='LoadAudio', sample_rate={{_base_.audio_sample_rate}}, lazy=True),
    dict(type='AudioClip', duration={{_base_.audio_seconds}}, offset='random'),
    dict(type='RandomResizedCrop', scale={{_base_.img_size}}, crop_ratio_range=(0.5, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAVInputs'),
]

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='corrupt_aware_collate'),  # drops samples whose files fail to decode (on_corrupt)
    dataset=dict(
        type='AVFramesDataset',
        data_root=vggsound_root,
        data_prefix=dict(img='frames', audio='audio'),
        ann_file='metadata/vggsound_train_144k.txt',
        on_missing='skip',
        pipeline=train_pipeline))

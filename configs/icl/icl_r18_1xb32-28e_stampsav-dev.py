# The recommended CPU config on the StampsAV development set (seed 1, preset mini_big, in
# data/stamps_av_dev; README, Datasets): the same model and schedule, trained on train.txt
# minus 200 held-out scenes, whose boxes select the checkpoint (never the test split).
#   python tools/dataset_converters/stamps_av_holdout.py data/stamps_av_dev --num-val 200 --seed 0
#   python tools/train.py configs/icl/icl_r18_1xb32-28e_stampsav-dev.py
#   python tools/test.py configs/icl/icl_r18_1xb32-28e_stampsav-dev.py work_dirs/icl_r18_1xb32-28e_stampsav-dev/best_*.pth
#   ... --shuffle-audio                                   the audio-swap control
#   ... --cfg-options test_dataloader.dataset.ann_file=test_unheard.txt test_dataloader.dataset.box_file=test_unheard.json
_base_ = ['./icl_r18_1xb32-28e_frames-audio-cpu.py']

# fp32 on every machine (not 'auto'), so a run does not depend on the CPU it lands on; the README's
# development-set tables were run with model.amp_dtype=bfloat16 (a CPU with AMX) to save time.
model = dict(amp_dtype=None)

data_root = 'data/stamps_av_dev/'
train_dataloader = dict(dataset=dict(data_root=data_root, ann_file='train_fit.txt'))
val_dataloader = dict(
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
        ann_file='val.txt',
        box_file='val.json',
        test_mode=True,
        on_missing='error',
        pipeline={{_base_.test_pipeline}}))
test_dataloader = dict(dataset=dict(data_root=data_root))
val_evaluator = dict(_delete_=True, type='LocalizationMetric', preset='lvs', gt_source='bboxes')
val_cfg = dict(_delete_=True, type='ValLoop')
default_hooks = dict(
    checkpoint=dict(type='AtomicCheckpointHook', interval=2, max_keep_ckpts=2,
                    save_best='loc/ciou@0.5', rule='greater'))

# SynthAV: the built-in synthetic audio-visual benchmark, synthesised in memory
# (icl_av.datasets.SynthAVDataset; no files needed): 128 px frames and 1 s of 16 kHz mono
# audio here; the default ICL config (icl_r18_1xb32-9e_synthav64.py) trains at 64 px.
#
# Render cache: each split is rendered once (in parallel, at the first build) into
# `cache_dir` and then read memory-mapped, so epochs, validations and pseudo-label
# refreshes skip synthesis (docs/speed.md). Entries are named by a hash of the split's
# parameters and the generator's code, so runs, seeds and methods share them and a changed
# generator never reads stale data. The folder is relative to the working directory;
# point it elsewhere with the ICL_AV_SYNTHAV_CACHE environment variable, or synthesise
# every read instead with cache_dir=None in the dataset dicts. Delete it to reclaim space.
#
# Knobs: a config that inherits this file and changes a knob must also override the
# dataset fields that use it, e.g.
#   train_dataloader = dict(dataset=dict(img_size=64, num_samples=500))
# (MMEngine resolves these variables when this file is read.)
# Extended benchmark (sounding vs non-sounding pairs): set the test dataset's
# split='test_extended' (extended_ratio of its samples are non-sounding) and the
# evaluator's extended=True.
dataset_type = 'SynthAVDataset'
img_size = 128
audio_seconds = 1.0
audio_sample_rate = 16000
num_train = 2000
num_val = 300
num_test = 500
seed = 0
extended_ratio = 0.5
cache_dir = '{{$ICL_AV_SYNTHAV_CACHE:data/synthav_cache}}'

# Audio features are computed from the waveform by the model's data preprocessor.
train_pipeline = [
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAVInputs'),
]
test_pipeline = [dict(type='PackAVInputs')]

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        split='train',
        num_samples=num_train,
        seed=seed,
        img_size=img_size,
        audio_seconds=audio_seconds,
        audio_sample_rate=audio_sample_rate,
        cache_dir=cache_dir,
        pipeline=train_pipeline))

# Model selection (best checkpoint) uses the 'val' split: its scenes are disjoint from test.
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        split='val',
        num_samples=num_val,
        seed=seed,
        img_size=img_size,
        audio_seconds=audio_seconds,
        audio_sample_rate=audio_sample_rate,
        cache_dir=cache_dir,
        test_mode=True,
        pipeline=test_pipeline))
# The test loader is the val loader on the 'test' split (extended_ratio only matters for split='test_extended').
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], split='test', num_samples=num_test, extended_ratio=extended_ratio))

# The ground truth is the sounding object's box (VGG-SS style); gt_source='masks' scores
# against the exact visible masks instead.
val_evaluator = dict(type='LocalizationMetric', gt_source='bboxes')
test_evaluator = val_evaluator

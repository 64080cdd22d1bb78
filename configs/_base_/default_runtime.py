# Runtime shared by every icl_av config.
default_scope = 'icl_av'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # MMEngine's CheckpointHook with atomic writes: a checkpoint is written under a temporary name and renamed
    # into place, last_checkpoint follows, the oldest kept one goes last, and --resume only loads complete files.
    checkpoint=dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Heatmap pictures of val/test samples; tools/test.py --show-dir turns it on.
    visualization=dict(type='AVVisualizationHook', enable=False),
    # Training samples whose files fail to decode (datasets' on_corrupt='skip') are dropped from their batch
    # before the training loader's collate, whichever it is, and each file is logged once; the run stops when
    # more than this share of an epoch fails.
    corrupt_samples=dict(type='CorruptSampleHook', max_corrupt_fraction=0.05),
)
# Python, numpy and torch seeded from (randomness.seed, epoch) before each training epoch, so an epoch's random
# draws do not depend on what ran before it (a resumed run repeats them). MMEngine replaces a list from a base:
# a config that adds hooks extends this one, e.g. custom_hooks = [*_base_.custom_hooks, dict(type=...)].
custom_hooks = [dict(type='EpochSeedHook')]

env_cfg = dict(
    # CUDA only: cuDNN times its convolution algorithms once per input shape and keeps the fastest (the
    # shapes are fixed by the pipelines). No effect on CPUs; randomness.deterministic=True turns it off.
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='AVLocalVisualizer', vis_backends=vis_backends, name='visualizer')

log_processor = dict(by_epoch=True, window_size=20)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)

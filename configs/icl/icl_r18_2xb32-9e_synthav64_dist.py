# Two-process ICL on SynthAV: proves the distributed path on a CPU box (gloo) or 2 GPUs.
#
#   bash tools/dist_train.sh configs/icl/icl_r18_2xb32-9e_synthav64_dist.py 2 --auto-scale-lr
#
# 2 processes x 32 samples = 64 per step, for the 9 epochs of the default config. Its lr
# (1e-3) is for one process with 32 samples (`auto_scale_lr.base_batch_size`); --auto-scale-lr multiplies it by
# (world size x batch) / 32 = 2. Each rank's DefaultSampler draws a disjoint half of
# the (shuffled) training set; PseudoLabelHook all-gathers both halves so every rank
# writes the same complete pseudo-label bank. On GPUs set
# env_cfg.dist_cfg.backend='nccl' (--cfg-options env_cfg.dist_cfg.backend=nccl).
_base_ = ['./icl_r18_1xb32-9e_synthav64.py']

batch_size = 32
train_dataloader = dict(batch_size=batch_size)
val_dataloader = dict(batch_size=batch_size)
test_dataloader = dict(batch_size=batch_size)

auto_scale_lr = dict(base_batch_size=32, enable=False)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
# DDP without `device_ids`: works for CPU processes (gloo) and, on GPUs, for one device per process.
model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False,
                         find_unused_parameters=False)

"""tools/dist_train.sh with 2 CPU processes (gloo): lr scaling, sampler sharding, the gathered bank."""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch


NUM_SAMPLES = 8
BATCH = 2
BASE_BATCH = 2
LR = 1e-3

# Records, on every rank, which samples each training iteration drew.
RECORD_HOOK = '''
import json, os.path as osp
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from icl_av.registry import HOOKS


@HOOKS.register_module()
class RecordSamplesHook(Hook):
    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        idx = [int(ds.metainfo['sample_idx']) for ds in data_batch['data_samples']]
        with open(osp.join(runner.work_dir, f'seen_rank{get_rank()}.jsonl'), 'a') as f:
            f.write(json.dumps(dict(epoch=runner.epoch, idx=idx)) + '\\n')
'''

TINY = """
_base_ = ['{root}/configs/icl/icl_r18_2xb32-9e_synthav64_dist.py']
custom_imports = dict(imports=['record_samples_hook'], allow_failed_imports=False)
_data = dict(img_size=32, num_samples={n}, audio_seconds=0.5)
train_dataloader = dict(batch_size={bs}, num_workers=0, persistent_workers=False, dataset=_data)
val_dataloader = dict(batch_size={bs}, num_workers=0, persistent_workers=False, dataset=_data)
test_dataloader = val_dataloader
model = dict(head=dict(embed_dims=16))
optim_wrapper = dict(optimizer=dict(lr={lr}))
auto_scale_lr = dict(base_batch_size={base})
train_cfg = dict(max_epochs=2, val_interval=10)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='PseudoLabelHook', iteration_epochs=[1, 1], num_clusters=2, seed=0,
         dataloader=dict(batch_size=3, num_workers=0, dataset=dict(pipeline=[dict(type='PackAVInputs')]))),
    dict(type='RecordSamplesHook'),
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=-1, save_best=None),
                     logger=dict(type='LoggerHook', interval=1))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='module')
def dist_run(tmp_path_factory, repo_root):
    """Train the tiny config for 2 epochs on 2 gloo processes with --auto-scale-lr."""
    tmp = tmp_path_factory.mktemp('dist')
    (tmp / 'record_samples_hook.py').write_text(RECORD_HOOK)
    config = tmp / 'tiny_dist.py'
    config.write_text(TINY.format(root=repo_root, n=NUM_SAMPLES, bs=BATCH, lr=LR, base=BASE_BATCH))
    work_dir = tmp / 'work'
    env = dict(os.environ, PORT=str(free_port()), OMP_NUM_THREADS='1',
               PATH=osp.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''),
               PYTHONPATH=os.pathsep.join([str(tmp), repo_root, os.environ.get('PYTHONPATH', '')]))
    result = subprocess.run(['bash', 'tools/dist_train.sh', str(config), '2', '--work-dir', str(work_dir),
                             '--auto-scale-lr'], cwd=repo_root, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return dict(config=config, work_dir=work_dir, log=result.stdout + result.stderr)


@pytest.mark.slow
def test_lr_is_scaled_by_total_batch_over_base_batch(dist_run):
    ratio = 2 * BATCH / BASE_BATCH
    assert f'Scaling the original LR by {ratio}' in dist_run['log']
    ckpt = torch.load(dist_run['work_dir'] / 'epoch_2.pth', map_location='cpu', weights_only=False)
    group = ckpt['optimizer']['param_groups'][0]
    assert group['initial_lr'] == pytest.approx(LR * ratio)
    assert group['lr'] == pytest.approx(LR * ratio)  # ConstantLR(1.0): the scaled lr is the one used


@pytest.mark.slow
def test_each_rank_draws_a_disjoint_half_of_the_data(dist_run):
    seen = {}
    for rank in (0, 1):
        for line in (dist_run['work_dir'] / f'seen_rank{rank}.jsonl').read_text().splitlines():
            record = json.loads(line)
            seen.setdefault((rank, record['epoch']), []).extend(record['idx'])
    for epoch in (0, 1):
        rank0, rank1 = seen[(0, epoch)], seen[(1, epoch)]
        assert len(rank0) == len(rank1) == NUM_SAMPLES // 2
        assert not set(rank0) & set(rank1)
        assert sorted(rank0 + rank1) == list(range(NUM_SAMPLES))
    assert seen[(0, 0)] != seen[(0, 1)]  # the sampler reshuffles per epoch (DistSamplerSeedHook)


@pytest.mark.slow
def test_bank_is_complete_and_matches_a_single_process_extraction(dist_run):
    """The bank written after epoch 1 (gathered from both ranks) equals a one-process refresh."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from icl_av.engine.hooks.pseudo_label_hook import PseudoLabelHook
    ckpt_path = dist_run['work_dir'] / 'epoch_1.pth'
    state = torch.load(ckpt_path, map_location='cpu', weights_only=False)['state_dict']
    assert int(state['pseudo_label_bank.round']) == 1
    assert state['pseudo_label_bank.valid'].shape == (NUM_SAMPLES, ) and state['pseudo_label_bank.valid'].all()

    cfg = Config.fromfile(str(dist_run['config']), import_custom_modules=False)
    cfg.custom_hooks = [h for h in cfg.custom_hooks if h['type'] != 'RecordSamplesHook']
    cfg.launcher = 'none'
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    cfg.work_dir = str(dist_run['work_dir'] / 'single')
    cfg.load_from = str(ckpt_path)
    runner = Runner.from_cfg(cfg)
    runner.load_checkpoint(str(ckpt_path))
    hook = next(h for h in runner.hooks if isinstance(h, PseudoLabelHook))
    runner.model.pseudo_label_bank.round.zero_()
    hook.refresh(runner)
    bank = runner.model.pseudo_label_bank
    assert torch.equal(bank.valid, state['pseudo_label_bank.valid'])
    assert (bank.maps.int() - state['pseudo_label_bank.maps'].int()).abs().max() <= 1  # uint8 rounding
    single, dist = bank.clusters, state['pseudo_label_bank.clusters']
    # Same partition of the samples (k-means labels compared up to renaming).
    assert torch.equal(single[:, None] == single[None, :], dist[:, None] == dist[None, :])

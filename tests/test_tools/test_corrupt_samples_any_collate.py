"""The corrupt-sample policy holds with a training loader config that names no corrupt-aware collate.

A config that writes its own ``train_dataloader`` with ``_delete_=True`` and MMEngine's collates (the default
``pseudo_collate``, or ``default_collate``), over a list holding one truncated JPEG, with 2 loader workers:
tools/train.py runs to the end and logs the corrupt file once.
"""
import subprocess
import sys

import pytest
from corrupt_media import GOOD_IDS, make_corrupt_frames_root

CONFIG = """
_base_ = ['{root}/configs/_base_/datasets/custom_frames.py', '{root}/configs/_base_/models/icl_r18.py',
          '{root}/configs/_base_/schedules/adam_20e.py',
          '{root}/configs/_base_/default_runtime.py']
model = dict(visual_backbone=dict(out_index=2), head=dict(embed_dims=16))
train_dataloader = dict(
    _delete_=True,
    batch_size=3, num_workers=2, persistent_workers={persistent},
    sampler=dict(type='DefaultSampler', shuffle=True),{collate}
    dataset=dict(type='AVFramesDataset', data_root={data_root!r}, data_prefix=dict(img='frames', audio='audio'),
                 ann_file='train_one_bad.txt',
                 pipeline=[dict(type='LoadAVFrame'), dict(type='LoadAudio', sample_rate=16000),
                           dict(type='AudioClip', duration=0.5, offset='random'),
                           dict(type='Resize', scale=(32, 32)), dict(type='PackAVInputs')]))
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None
train_cfg = dict(max_epochs=2, val_interval=100)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
default_hooks = dict(logger=dict(interval=1), corrupt_samples=dict(max_corrupt_fraction=0.2),
                     checkpoint=dict(interval=1, max_keep_ckpts=1, save_best=None))
"""


@pytest.fixture(scope='module')
def frames_root(tmp_path_factory):
    root, _ = make_corrupt_frames_root(tmp_path_factory.mktemp('one_bad') / 'data')
    ids = list(GOOD_IDS) + ['bad_jpg']
    with open(f'{root}/train_one_bad.txt', 'w') as handle:
        handle.write('\n'.join(ids) + '\n')
    return root


@pytest.mark.slow
@pytest.mark.parametrize('collate,persistent', [('', False), ("\n    collate_fn=dict(type='default_collate'),", True)],
                         ids=['pseudo_collate', 'default_collate'])
def test_a_run_without_a_corrupt_aware_collate_skips_the_bad_jpeg(repo_root, frames_root, tmp_path, collate,
                                                                  persistent):
    config = tmp_path / 'cfg.py'
    config.write_text(CONFIG.format(root=repo_root, data_root=frames_root, collate=collate, persistent=persistent))
    result = subprocess.run([sys.executable, 'tools/train.py', str(config), '--work-dir', str(tmp_path / 'work')],
                            cwd=repo_root, capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    skipped = [line for line in output.splitlines() if 'corrupt sample skipped' in line]
    assert len(skipped) == 1 and 'bad_jpg.jpg' in skipped[0] and 'truncated JPEG' in skipped[0]
    assert 'epoch 1: 1 of 9 samples failed to load' in output
    assert 'epoch 2: 1 of 9 samples failed to load' in output
    assert (tmp_path / 'work' / 'epoch_2.pth').is_file()

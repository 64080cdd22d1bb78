"""tools/train.py end to end: an interrupted ICL run resumed with --resume ends with the same weights."""
import subprocess
import sys

import pytest
import torch


SHRINK = """
_base_ = ['{root}/configs/icl/icl_r18_1xb32-9e_synthav64.py']
_data = dict(img_size=32, num_samples=8, audio_seconds=0.5)
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, dataset=_data)
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, dataset=_data)
test_dataloader = val_dataloader
model = dict(head=dict(embed_dims=16))
max_epochs = 3
train_cfg = dict(max_epochs=3, val_interval=10)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='PseudoLabelHook', iteration_epochs=[1, 1, 1], num_clusters=2, seed=0,
         dataloader=dict(batch_size=4, num_workers=0, dataset=dict(pipeline=[dict(type='PackAVInputs')]))),
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=-1, save_best=None))
"""


def train(repo_root, config, work_dir, *extra):
    result = subprocess.run([sys.executable, 'tools/train.py', str(config), '--work-dir', str(work_dir), *extra],
                            cwd=repo_root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.mark.slow
def test_resume_across_an_icl_boundary_gives_identical_weights(repo_root, tmp_path):
    config = tmp_path / 'tiny_icl.py'
    config.write_text(SHRINK.format(root=repo_root))
    train(repo_root, config, tmp_path / 'full')

    # "Interrupted" after epoch 1 (the first pseudo-label refresh): resume from that checkpoint.
    resumed = train(repo_root, config, tmp_path / 'resumed', '--resume', str(tmp_path / 'full' / 'epoch_1.pth'))
    assert 'resumed epoch: 1' in resumed.stdout + resumed.stderr

    full = torch.load(tmp_path / 'full' / 'epoch_3.pth')['state_dict']
    again = torch.load(tmp_path / 'resumed' / 'epoch_3.pth')['state_dict']
    assert full.keys() == again.keys()
    assert int(full['pseudo_label_bank.round']) == 2  # refreshed after epochs 1 and 2
    for name in full:
        assert torch.equal(full[name], again[name]), name

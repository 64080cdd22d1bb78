"""tools/train.py killed (SIGKILL) while a checkpoint is being written, max_keep_ckpts=1: --resume goes on from
the previous complete epoch and finishes; the half-written file is never resumed."""
import os
import signal
import subprocess
import sys

import pytest
import torch

CONFIG = """
_base_ = ['{root}/configs/_base_/models/icl_r18.py', '{root}/configs/_base_/datasets/synthav.py',
          '{root}/configs/_base_/schedules/adam_20e.py', '{root}/configs/_base_/default_runtime.py']
model = dict(visual_backbone=dict(out_index=2), head=dict(embed_dims=16), amp_dtype=None)
_data = dict(img_size=32, num_samples=4, audio_seconds=0.5)
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False, dataset=_data)
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None
train_cfg = dict(max_epochs=3, val_interval=100)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=1, save_best=None))
"""

# Runs tools/train.py with a checkpoint writer that, for a file named like epoch_2.pth (under any temporary name),
# writes half of it, flushes it to disk and kills its own process: the moment a SIGKILL can land.
KILLING_LAUNCHER = """
import os, runpy, signal, sys
from mmengine.fileio import LocalBackend
original = LocalBackend.put

def put(self, obj, filepath):
    if 'epoch_2.pth' in os.path.basename(str(filepath)):
        with open(filepath, 'wb') as handle:
            handle.write(obj[:len(obj) // 2])
            handle.flush()
            os.fsync(handle.fileno())
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, obj, filepath)

LocalBackend.put = put
sys.argv = ['tools/train.py'] + sys.argv[1:]
runpy.run_path('tools/train.py', run_name='__main__')
"""


def checkpoint_files(work_dir):
    return sorted(name for name in os.listdir(work_dir) if '.pth' in name)


@pytest.mark.slow
def test_resume_after_a_kill_mid_write_continues_from_the_previous_epoch(repo_root, tmp_path):
    config = tmp_path / 'tiny.py'
    config.write_text(CONFIG.format(root=repo_root))
    launcher = tmp_path / 'train_killed_mid_write.py'
    launcher.write_text(KILLING_LAUNCHER)
    work = tmp_path / 'work'

    killed = subprocess.run([sys.executable, str(launcher), str(config), '--work-dir', str(work)],
                            cwd=repo_root, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stdout[-3000:] + killed.stderr[-3000:]
    assert checkpoint_files(work) == ['.epoch_2.pth.incomplete', 'epoch_1.pth']  # the old one is still there
    assert (work / 'last_checkpoint').read_text() == str(work / 'epoch_1.pth')

    resumed = subprocess.run([sys.executable, 'tools/train.py', str(config), '--work-dir', str(work), '--resume'],
                             cwd=repo_root, capture_output=True, text=True)
    output = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, output[-4000:]
    assert 'resumed epoch: 1' in output
    assert checkpoint_files(work) == ['epoch_3.pth']  # the partial file was removed, never loaded
    assert (work / 'last_checkpoint').read_text() == str(work / 'epoch_3.pth')
    assert torch.load(work / 'epoch_3.pth', weights_only=False)['meta']['epoch'] == 3

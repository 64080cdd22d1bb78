"""A tiny SynthAV/ResNet18 config and media files for the API and demo tests."""
import os.path as osp
import shutil
import subprocess

import numpy as np
import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FFMPEG = shutil.which('ffmpeg')

TINY_CONFIG = """
_base_ = [
    '{root}/configs/_base_/models/icl_r18.py',
    '{root}/configs/_base_/datasets/synthav.py',
    '{root}/configs/_base_/schedules/adam_20e.py',
    '{root}/configs/_base_/default_runtime.py',
]
model = dict(visual_backbone=dict(out_index=2), head=dict(embed_dims=16))
_data = dict(img_size=32, num_samples=4, audio_seconds=0.5)
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False, dataset=_data)
val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False, dataset=_data)
test_dataloader = val_dataloader
"""


def write_tiny_config(directory) -> str:
    path = osp.join(str(directory), 'tiny_icl_synthav.py')
    with open(path, 'w') as f:
        f.write(TINY_CONFIG.format(root=REPO_ROOT))
    return path


def write_av_mp4(path, seconds=2.0, fps=10, size='64x48', audio=True):
    """An mp4 with a test pattern and (optionally) a sine audio track, written with ffmpeg."""
    cmd = [FFMPEG, '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', f'testsrc=size={size}:rate={fps}']
    if audio:
        cmd += ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=16000']
    cmd += ['-t', str(seconds), '-c:v', 'libx264', '-pix_fmt', 'yuv420p']
    cmd += ['-c:a', 'aac', '-shortest'] if audio else ['-an']
    subprocess.run(cmd + [str(path)], check=True)
    return str(path)


@pytest.fixture(scope='session')
def tiny_config(tmp_path_factory):
    return write_tiny_config(tmp_path_factory.mktemp('cfg'))


@pytest.fixture(scope='session')
def tiny_checkpoint(tiny_config, tmp_path_factory):
    """A checkpoint of the tiny model (random weights) in MMEngine's format."""
    import torch
    from icl_av.apis import init_localizer
    model = init_localizer(tiny_config)
    path = osp.join(str(tmp_path_factory.mktemp('ckpt')), 'tiny.pth')
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, path)
    return path


@pytest.fixture
def av_video():
    """Factory writing a small mp4 (skips the test when ffmpeg is missing)."""
    if FFMPEG is None:
        pytest.skip('ffmpeg is needed to write mp4 files with audio')
    return write_av_mp4


@pytest.fixture
def rng():
    return np.random.default_rng(0)

"""Done-when of the corrupt-sample policy, end to end through the tools with 2 loader workers.

A training run over a list holding corrupt frames, audio and videos finishes, logs each corrupt file once with
its reason and the count per epoch, and resumes to the same state; the same run with the fraction limit exceeded
stops with one line; verify_dataset.py finds every corrupt file of that list before the run; with
on_corrupt='error' the worker's load error reaches the user as the one ``error:`` line.
"""
import json
import re
import subprocess
import sys

import pytest
import torch
from corrupt_media import make_corrupt_frames_root

CONFIG = """
_base_ = ['{root}/configs/_base_/datasets/custom_frames.py', '{root}/configs/_base_/models/icl_r18.py',
          '{root}/configs/_base_/schedules/adam_20e.py', '{root}/configs/_base_/default_runtime.py']
model = dict(visual_backbone=dict(out_index=2), head=dict(embed_dims=16))
train_pipeline = [
    dict(type='LoadAVFrame'),
    dict(type='LoadAudio', sample_rate=16000),
    dict(type='AudioClip', duration=0.5, offset='random'),
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.5, 1.0)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAVInputs'),
]
train_dataloader = dict(batch_size=4, num_workers=2, persistent_workers=False,
                        worker_init_fn=dict(type='epoch_worker_init_fn'),
                        dataset=dict(data_root={data_root!r}, pipeline=train_pipeline))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
train_cfg = dict(max_epochs=2, val_interval=100)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
custom_hooks = [dict(type='EpochSeedHook')]
default_hooks = dict(logger=dict(interval=1), corrupt_samples=dict(max_corrupt_fraction=0.5),
                     checkpoint=dict(interval=1, max_keep_ckpts=-1, save_best=None))
"""
ALWAYS_CORRUPT = ('bad_jpg.jpg', 'bad_wav.wav', 'bad_mp4.mp4', 'bad_huge.wav')


def run_tool(repo_root, *args):
    return subprocess.run([sys.executable, *args], cwd=repo_root, capture_output=True, text=True)


@pytest.fixture(scope='module')
def corrupt_setup(repo_root, tmp_path_factory):
    folder = tmp_path_factory.mktemp('corrupt_run')
    root, corrupt = make_corrupt_frames_root(folder / 'data')
    config = folder / 'cfg.py'
    config.write_text(CONFIG.format(root=repo_root, data_root=root))
    return folder, config, corrupt


def skipped_lines(output):
    return [line for line in output.splitlines() if 'corrupt sample skipped' in line]


@pytest.mark.slow
def test_verify_dataset_finds_every_corrupt_file_before_the_run(repo_root, corrupt_setup):
    folder, config, corrupt = corrupt_setup
    result = run_tool(repo_root, 'tools/misc/verify_dataset.py', str(config), '--split', 'train', '--workers', '2',
                      '--out-dir', str(folder / 'verify'), '--quiet')
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((folder / 'verify' / 'train_report.json').read_text())
    assert {item['path'] for item in report['bad_files']} == set(corrupt)
    assert (folder / 'verify' / 'train_clean.txt').read_text().split() == [f'good{i}' for i in range(8)]
    assert 'truncated JPEG' in result.stdout and 'bad_mp4.mp4' in result.stdout


@pytest.mark.slow
def test_training_skips_corrupt_samples_logs_each_once_and_resumes_to_the_same_state(repo_root, corrupt_setup):
    folder, config, corrupt = corrupt_setup
    full = run_tool(repo_root, 'tools/train.py', str(config), '--work-dir', str(folder / 'full'))
    output = full.stdout + full.stderr
    assert full.returncode == 0, output[-4000:]
    lines = skipped_lines(output)
    for name in ALWAYS_CORRUPT:
        [line] = [line for line in lines if name in line]  # logged exactly once over both epochs
        path = next(p for p in corrupt if p.endswith(name))
        assert corrupt[path] in line
    assert len(lines) == len({line.split('skipped (each file is logged once): ')[1].split(': ')[0] for line in lines})
    assert all(any(path in line for path in corrupt) for line in lines)
    assert re.search(r'epoch 1: \d+ of 13 samples failed to load', output)
    assert re.search(r'epoch 2: \d+ of 13 samples failed to load', output)
    assert re.search(r'corrupt_samples: \d', output)  # the count in the iteration log line

    resumed = run_tool(repo_root, 'tools/train.py', str(config), '--work-dir', str(folder / 'resumed'),
                       '--resume', str(folder / 'full' / 'epoch_1.pth'))
    output = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, output[-4000:]
    assert not any(name in line for line in skipped_lines(output) for name in ALWAYS_CORRUPT)  # already logged
    full_ckpt = torch.load(folder / 'full' / 'epoch_2.pth')
    resumed_ckpt = torch.load(folder / 'resumed' / 'epoch_2.pth')
    assert full_ckpt['corrupt_samples'] == resumed_ckpt['corrupt_samples']
    assert set(full_ckpt['corrupt_samples']['per_epoch']) == {0, 1}
    for name, value in full_ckpt['state_dict'].items():
        assert torch.equal(value, resumed_ckpt['state_dict'][name]), name


@pytest.mark.slow
def test_run_stops_with_one_line_past_the_fraction_limit(repo_root, corrupt_setup):
    folder, config, _ = corrupt_setup
    result = run_tool(repo_root, 'tools/train.py', str(config), '--work-dir', str(folder / 'limit'),
                      '--cfg-options', 'default_hooks.corrupt_samples.max_corrupt_fraction=0.1')
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'Traceback' not in result.stderr
    first = result.stderr.strip().splitlines()[0]
    assert first.startswith('error: ') and 'of 13 samples of training epoch 1 failed to load' in first
    assert 'max_corrupt_fraction=0.1' in first


@pytest.mark.slow
def test_load_error_in_a_worker_is_the_same_one_error_line(repo_root, corrupt_setup):
    folder, config, corrupt = corrupt_setup
    result = run_tool(repo_root, 'tools/train.py', str(config), '--work-dir', str(folder / 'strict'),
                      '--cfg-options', 'train_dataloader.dataset.on_corrupt=error')
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'Traceback' not in result.stderr and 'DataLoader worker' not in result.stderr
    first = result.stderr.strip().splitlines()[0]
    assert re.match(r'error: Cannot load \S+: ', first), first
    assert any(path in first and reason in first for path, reason in corrupt.items())

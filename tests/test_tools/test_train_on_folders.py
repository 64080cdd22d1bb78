"""A user's folders train and test through the tools by overriding only data_root (frames+audio, raw videos)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from av_test_media import HAS_PYAV, write_mp4

CONFIG = """
_base_ = ['{root}/configs/_base_/datasets/{dataset}', '{root}/configs/_base_/models/icl_r18.py',
          '{root}/configs/_base_/schedules/adam_20e.py', '{root}/configs/_base_/default_runtime.py']
model = dict(visual_backbone=dict(out_index=2), head=dict(embed_dims=16))
_loader = dict(batch_size=2, num_workers=0, persistent_workers=False)
train_dataloader = dict(_loader, dataset=dict(data_root={data_root!r}))
val_dataloader = dict(_loader, dataset=dict(data_root={data_root!r}))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1, val_interval=1)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
"""


def run(repo_root, *args):
    result = subprocess.run([sys.executable, *args], cwd=repo_root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def train_and_test(repo_root, tmp_path, dataset, data_root):
    config = tmp_path / 'cfg.py'
    config.write_text(CONFIG.format(root=repo_root, dataset=dataset, data_root=str(data_root)))
    work_dir = tmp_path / 'work'
    run(repo_root, 'tools/train.py', str(config), '--work-dir', str(work_dir))
    checkpoint = (work_dir / 'last_checkpoint').read_text().strip()
    out = run(repo_root, 'tools/test.py', str(config), checkpoint, '--work-dir', str(work_dir),
              '--out', str(tmp_path / 'per_sample.json'))
    assert '| model ' in out and '| centre prior ' in out and '| perfect localiser ' in out
    written = json.loads((tmp_path / 'per_sample.json').read_text())
    assert len(written['samples']) == 4 and {'video_id', 'ciou', 'confidence'} <= set(written['samples'][0])


@pytest.mark.slow
def test_make_synthav_folder_trains_and_tests_through_frames_audio(repo_root, tmp_path):
    root = tmp_path / 'synthav_disk'
    run(repo_root, 'tools/misc/make_synthav.py', '--out', str(root), '--num-train', '4', '--num-test', '4',
        '--img-size', '64', '--extended-ratio', '0', '--quiet')
    train_and_test(repo_root, tmp_path, 'custom_frames.py', root)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_PYAV, reason='PyAV writes the mp4 files')
def test_folder_of_mp4_trains_and_tests_through_raw_videos(repo_root, tmp_path):
    from icl_av.synthav.generator import generate_sample
    root = tmp_path / 'my_videos'
    ids = {'train': [f'clip{i}' for i in range(4)], 'test': [f'test{i}' for i in range(4)]}
    boxes = []
    for split, names in ids.items():
        for index, name in enumerate(names):
            sample = generate_sample(0, split, index, img_size=64, audio_seconds=1.0)
            write_mp4(root / 'videos' / f'{name}.mp4', [sample.img] * 10, fps=10, audio=sample.audio, rate=16000)
            if split == 'test':
                x1, y1, x2, y2 = (float(v) / 64 for v in sample.gt_bbox)
                boxes.append({'file': name, 'class': sample.class_name, 'bbox': [[x1, y1, x2, y2]]})
        (root / f'{split}.txt').write_text('\n'.join(names) + '\n')
    (root / 'test_boxes.json').write_text(json.dumps(boxes))
    train_and_test(repo_root, tmp_path, 'custom_videos.py', root)

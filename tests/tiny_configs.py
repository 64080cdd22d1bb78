"""A tiny SynthAV / ResNet18 ICL config that tests write to tmp_path."""
import os.path as osp

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

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

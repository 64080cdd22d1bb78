"""The dataset base configs build on a folder by overriding only data_root and file names."""
import os
import subprocess
import sys

import pytest
import torch
from mmengine import Config

from icl_av.registry import DATASETS


def _cfg(repo_root, name):
    return Config.fromfile(os.path.join(repo_root, 'configs', '_base_', 'datasets', name))


@pytest.mark.parametrize('name', ['custom_frames.py', 'custom_frames_96px.py', 'custom_videos.py', 'vggss.py',
                                  'vggsound144k.py', 'flickr.py', 'synthav.py', 'synthav64.py'])
def test_dataset_configs_load(repo_root, name):
    cfg = _cfg(repo_root, name)
    assert cfg.test_dataloader.dataset.test_mode is True
    assert cfg.test_dataloader.dataset.pipeline[-1]['type'] == 'PackAVInputs'


def test_custom_frames_config_on_a_synthav_folder(tmp_path, repo_root):
    script = os.path.join(repo_root, 'tools', 'misc', 'make_synthav.py')
    if not os.path.isfile(script):
        pytest.skip('tools/misc/make_synthav.py not present')
    out = tmp_path / 'syn'
    subprocess.run([sys.executable, script, '--out', str(out), '--num-train', '3', '--num-test', '3',
                    '--img-size', '32', '--audio-seconds', '1', '--extended-ratio', '0.5', '--quiet'],
                   check=True, cwd=repo_root)
    cfg = _cfg(repo_root, 'custom_frames.py')
    train_cfg = cfg.train_dataloader.dataset
    train_cfg.data_root = str(out)
    train = DATASETS.build(train_cfg)
    sample = train[0]
    assert sample['inputs']['img'].shape == (3, 224, 224)
    assert sample['inputs']['audio'].shape == (1, 3 * 16000)  # 1 s of audio tiled to the 3 s clip

    test_cfg = cfg.test_dataloader.dataset
    test_cfg.update(data_root=str(out), mask_file='test_masks.json', pair_file='test_plus_silent.csv')
    test = DATASETS.build(test_cfg)
    infos = [test.get_data_info(i) for i in range(len(test))]
    assert sum(i['is_sounding'] for i in infos) == 3 and sum(not i['is_sounding'] for i in infos) >= 1
    packed = test[0]['data_samples']
    assert packed.gt_bboxes.shape[1] == 4 and len(packed.gt_bboxes) >= 1
    assert packed.gt_masks[0]['size'] == [224, 224]
    assert isinstance(packed.gt_bboxes, torch.Tensor)

"""The recommended config for your own frames + audio trains and tests exactly as the README says.

The README tells users to point ``ICL_AV_DATA_ROOT`` at a folder with ``frames/``, ``audio/``,
``train.txt``, ``test.txt`` and ``test.json`` and to run ``tools/train.py`` then ``tools/test.py``
on the last checkpoint (with ``--shuffle-audio`` for the audio-swap control). Here the folder
is a tiny SynthAV export and only the run's length and loader sizes are shrunk.
"""
import os
import subprocess
import sys

import pytest

CONFIG = 'configs/icl/icl_r18_1xb32-28e_frames-audio-cpu.py'
DEV_CONFIG = 'configs/icl/icl_r18_1xb32-28e_stampsav-dev.py'
SHRINK = ['train_cfg.max_epochs=2', 'custom_hooks.1.iteration_epochs=[1,1]', 'custom_hooks.1.num_clusters=2',
          'custom_hooks.1.dataloader.batch_size=4', 'train_dataloader.batch_size=4',
          'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
          'test_dataloader.batch_size=4', 'test_dataloader.num_workers=0',
          'test_dataloader.persistent_workers=False', 'model.head.embed_dims=16']


def run(repo_root, env, *args):
    result = subprocess.run([sys.executable, *args], cwd=repo_root, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def test_configs_read_the_documented_layout(repo_root, monkeypatch):
    from mmengine.config import Config
    monkeypatch.setenv('ICL_AV_DATA_ROOT', '/somewhere/my_av/')
    cfg = Config.fromfile(os.path.join(repo_root, CONFIG))
    assert cfg.train_dataloader.dataset.data_root == '/somewhere/my_av/'
    assert cfg.train_dataloader.dataset.ann_file == 'train.txt'
    assert (cfg.test_dataloader.dataset.ann_file, cfg.test_dataloader.dataset.box_file) == ('test.txt', 'test.json')
    assert cfg.val_cfg is None  # no validation split is assumed: the last checkpoint is tested
    assert cfg.model.map_mode == 'posterior' and cfg.custom_hooks[1].type == 'PseudoLabelHook'
    dev = Config.fromfile(os.path.join(repo_root, DEV_CONFIG))
    assert dev.train_dataloader.dataset.ann_file == 'train_fit.txt'  # val.txt is held out of train.txt
    assert dev.val_dataloader.dataset.ann_file == 'val.txt' and dev.test_dataloader.dataset.ann_file == 'test.txt'
    assert cfg.model.amp_dtype == 'auto' and dev.model.amp_dtype is None  # the dev figures are fp32 everywhere
    dev.model.amp_dtype = cfg.model.amp_dtype
    assert dev.model == cfg.model and dev.custom_hooks == cfg.custom_hooks  # same method as recommended


@pytest.mark.slow
def test_schedules_are_the_ones_the_learning_curves_chose(repo_root):
    """The recommended recipe runs 28 epochs as 6 ICL rounds (8 + 5 x 4, refreshes after 8, 12, ..., 24);
    the 16-epoch development config, base of the stand-in, ViT and peer configs, keeps 8 + 4 + 4."""
    from mmengine.config import Config
    for path, epochs, rounds in ((CONFIG, 28, [8, 4, 4, 4, 4, 4]), (DEV_CONFIG, 28, [8, 4, 4, 4, 4, 4]),
                                 ('configs/icl/icl_r18_1xb32-16e_stampsav-dev.py', 16, [8, 4, 4])):
        cfg = Config.fromfile(os.path.join(repo_root, path))
        assert cfg.train_cfg.max_epochs == epochs and cfg.param_scheduler[-1]['end'] == epochs, path
        hook = [h for h in cfg.custom_hooks if h['type'] == 'PseudoLabelHook'][0]
        assert list(hook['iteration_epochs']) == rounds, path
    avc = Config.fromfile(os.path.join(repo_root, 'projects/avc_baseline/configs/avc_r18_1xb32-28e_stampsav-dev.py'))
    assert avc.train_cfg.max_epochs == 28 and not any(h['type'] == 'PseudoLabelHook' for h in avc.custom_hooks)


def test_recommended_config_trains_and_tests_a_folder_as_documented(repo_root, tmp_path):
    root = tmp_path / 'my_av'
    env = dict(os.environ, ICL_AV_DATA_ROOT=str(root) + '/')
    run(repo_root, env, 'tools/misc/make_synthav.py', '--out', str(root), '--num-train', '8', '--num-test', '4',
        '--img-size', '64', '--audio-seconds', '3', '--extended-ratio', '0', '--quiet')
    (root / 'test_boxes.json').rename(root / 'test.json')
    work_dir = tmp_path / 'work'
    log = run(repo_root, env, 'tools/train.py', CONFIG, '--work-dir', str(work_dir), '--cfg-options', *SHRINK)
    assert 'PseudoLabelHook: refresh after epoch 1' in log
    checkpoint = str(work_dir / 'epoch_2.pth')
    out = run(repo_root, env, 'tools/test.py', CONFIG, checkpoint, '--work-dir', str(work_dir),
              '--cfg-options', *SHRINK)
    assert '| model ' in out and '| perfect localiser ' in out
    swapped = run(repo_root, env, 'tools/test.py', CONFIG, checkpoint, '--work-dir', str(work_dir),
                  '--shuffle-audio', '--cfg-options', *SHRINK)
    assert 'audio swapped' in swapped

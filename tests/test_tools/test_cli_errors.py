"""Bad input at the door: one clear error line naming the thing, exit status 2, no traceback."""
import os.path as osp
import subprocess
import sys

import pytest


def run_tool(repo_root, *args, cwd=None):
    return subprocess.run([sys.executable, *args], cwd=cwd or repo_root, capture_output=True, text=True)


def assert_one_line_error(result, *needles):
    assert result.returncode == 2, result.stderr
    assert 'Traceback' not in result.stderr
    first = result.stderr.strip().splitlines()[0]
    assert first.startswith('error: ')
    for needle in needles:
        assert needle in first, first


def test_missing_config(repo_root, tmp_path):
    result = run_tool(repo_root, 'tools/train.py', str(tmp_path / 'nope.py'))
    assert_one_line_error(result, 'config file not found', 'nope.py')


def test_typo_in_type_suggests_the_registered_name(repo_root, tmp_path):
    config = tmp_path / 'typo.py'
    config.write_text("default_scope = 'icl_av'\nmodel = dict(type='LogMelFrontnd')\n"
                      f"work_dir = {str(tmp_path / 'wd')!r}\n")
    result = run_tool(repo_root, 'tools/train.py', str(config))
    assert_one_line_error(result, "'LogMelFrontnd'", "did you mean 'LogMelFrontend'")


@pytest.mark.parametrize('content', [b'', b'this is not a checkpoint\n'])
def test_checkpoint_that_is_not_a_checkpoint(repo_root, tmp_path, content):
    config = tmp_path / 'cfg.py'
    config.write_text("default_scope = 'icl_av'\n")
    ckpt = tmp_path / 'model.pth'
    ckpt.write_bytes(content)
    result = run_tool(repo_root, 'tools/test.py', str(config), str(ckpt))
    assert_one_line_error(result, str(ckpt))


def test_missing_checkpoint(repo_root, tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text("default_scope = 'icl_av'\n")
    result = run_tool(repo_root, 'tools/test.py', str(config), str(tmp_path / 'missing.pth'))
    assert_one_line_error(result, 'checkpoint not found', 'missing.pth')


def test_resume_from_missing_checkpoint(repo_root, tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text("default_scope = 'icl_av'\n")
    result = run_tool(repo_root, 'tools/train.py', str(config), '--resume', str(tmp_path / 'gone.pth'))
    assert_one_line_error(result, 'checkpoint not found', 'gone.pth')


def test_tools_run_from_any_directory(repo_root, tmp_path):
    result = run_tool(repo_root, osp.join(repo_root, 'tools', 'train.py'), '--help', cwd=str(tmp_path))
    assert result.returncode == 0
    assert '--resume' in result.stdout and '--cfg-options' in result.stdout


def test_missing_data_root(repo_root, tmp_path):
    config = tmp_path / 'flickr_elsewhere.py'
    config.write_text(f"_base_ = ['{repo_root}/configs/icl/icl_r18_8xb64-20e_flickr10k.py']\n"
                      "model = dict(visual_backbone=dict(pretrained=False))\n"
                      f"train_dataloader = dict(num_workers=0, persistent_workers=False, "
                      f"dataset=dict(data_root={str(tmp_path / 'no_such_root')!r}))\n")
    result = run_tool(repo_root, 'tools/train.py', str(config), '--work-dir', str(tmp_path / 'wd'))
    assert_one_line_error(result, 'data_root', 'no_such_root', 'does not exist')

"""tools/misc/make_stampsav.py: it builds what its arguments say, and a missing package folder is one line."""
import json
import os
import subprocess
import sys

import pytest

from script_modules import load_script

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SCRIPT = os.path.join(REPO_ROOT, 'tools', 'misc', 'make_stampsav.py')
SMALL = ['--size', '48', '--n-train', '6', '--n-test', '3', '--n-unheard', '2', '--unheard-frac', '0.3']


def run_tool(*args, cwd):
    return subprocess.run([sys.executable, SCRIPT, *args], cwd=cwd, capture_output=True, text=True)


def test_the_tool_builds_the_requested_set(fake_tux, tmp_path, capsys):
    out = tmp_path / 'stampsav'
    load_script(SCRIPT, 'make_stampsav').main([
        '--out', str(out), '--preset', 'mini', '--seed', '5', '--stamps-root', fake_tux.stamps_root,
        '--templates-root', fake_tux.templates_root, '--workers', '1', '--p-photo', '1', *SMALL])
    assert 'scenes in' in capsys.readouterr().out
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['counts'] == {'train': 6, 'test': 3, 'test_unheard': 2}
    params = meta['params']
    assert (params['preset'], params['seed'], params['size'], params['p_photo']) == ('mini', 5, 48, 1.0)
    assert params['scale_max'] == 0.45 and params['max_trunc'] == 0.0  # from the preset
    assert params['stamps_root'] == fake_tux.stamps_root
    with open(out / 'scenes_train.jsonl') as handle:
        assert all(json.loads(line)['bg']['type'] == 'photo' for line in handle)


def test_procedural_backgrounds_only(fake_tux, tmp_path):
    out = tmp_path / 'procedural'
    result = run_tool('--out', str(out), '--stamps-root', fake_tux.stamps_root, '--templates-root', '',
                      '--workers', '2', *SMALL, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['preset'] == 'mini_big' and meta['seed'] == 1 and meta['background_photos'] == []


@pytest.mark.parametrize('missing', ['stamps', 'templates'])
def test_missing_package_folders_are_one_line_errors(missing, fake_tux, tmp_path):
    args = ['--out', str(tmp_path / 'out'), *SMALL]
    if missing == 'templates':  # stamps found, the data package's folder missing
        args += ['--stamps-root', fake_tux.stamps_root]
    result = run_tool(*args, cwd=tmp_path)  # the defaults point at data/tux/... of the (empty) working folder
    assert result.returncode == 2
    error = result.stderr.strip().splitlines()[0]
    folder, package = {'stamps': ('data/tux/x/usr/share/tuxpaint/stamps', 'tuxpaint-stamps-default'),
                       'templates': ('data/tux/x/usr/share/tuxpaint', 'tuxpaint-data')}[missing]
    assert error.startswith('error: StampsAV') and repr(folder) in error
    assert f'apt-get download {package}' in error and 'dpkg -x' in error
    assert 'Traceback' not in result.stderr
    assert not os.path.exists(tmp_path / 'out' / 'meta.json')


def test_bad_values_are_one_line_errors(fake_tux, tmp_path):
    result = run_tool('--out', str(tmp_path / 'out'), '--stamps-root', fake_tux.stamps_root,
                      '--scale-min', '0.9', '--scale-max', '0.5', cwd=tmp_path)
    assert result.returncode == 2 and 'scale_min <= scale_max' in result.stderr and 'Traceback' not in result.stderr
